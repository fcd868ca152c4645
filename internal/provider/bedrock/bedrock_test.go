package bedrock_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go/logging"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/provider"
	"github.com/evalgate/evalgate/internal/provider/bedrock"
	"github.com/evalgate/evalgate/internal/provider/bedrock/bedrockfake"
)

// prefix is the fake endpoint's path: a client that builds its own URL misses it.
const prefix = "/vpce/bedrock"

const (
	testModel   = "us.anthropic.claude-3-5-haiku-20241022-v1:0"
	testKeyID   = "AKIDEVALGATETEST"
	testSecret  = "evalgate-test-secret-never-printed"
	testRegion  = "us-east-1"
	escapedPath = prefix + "/model/us.anthropic.claude-3-5-haiku-20241022-v1%3A0/converse"
)

// call is one request the fake received.
type call struct {
	method, path, auth string
	body               bedrockfake.Request
}

// fake is a Bedrock runtime whose behaviour is a function of the call number
// (0-based); it records every request.
type fake struct {
	mu      sync.Mutex
	calls   []call
	respond func(w http.ResponseWriter, r *http.Request, n int)
}

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := bedrockfake.DecodeRequest(r)
	f.mu.Lock()
	n := len(f.calls)
	f.calls = append(f.calls, call{method: r.Method, path: r.URL.EscapedPath(), auth: r.Header.Get("Authorization"), body: body})
	f.mu.Unlock()
	if err != nil {
		bedrockfake.WriteError(w, http.StatusBadRequest, "SerializationException", err.Error())
		return
	}
	if _, _, ok := bedrockfake.ParsePath(prefix, r.URL.EscapedPath()); !ok {
		bedrockfake.WriteError(w, http.StatusNotFound, "UnknownOperationException", "no route "+r.URL.Path)
		return
	}
	f.respond(w, r, n)
}

func (f *fake) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

func (f *fake) call(i int) call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[i]
}

// Behaviours of the fake, by name.

func repliesWith(r bedrockfake.Reply) *fake {
	return &fake{respond: func(w http.ResponseWriter, _ *http.Request, _ int) { bedrockfake.WriteConverse(w, r) }}
}

func streamsReply(r bedrockfake.Reply) *fake {
	return &fake{respond: func(w http.ResponseWriter, _ *http.Request, _ int) { _ = bedrockfake.WriteStream(w, r, 3) }}
}

func alwaysThrottles() *fake {
	return &fake{respond: func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("Retry-After", "3")
		bedrockfake.WriteError(w, http.StatusTooManyRequests, "ThrottlingException", "Too many requests, please wait before trying again.")
	}}
}

func alwaysFails(status int, code, msg string) *fake {
	return &fake{respond: func(w http.ResponseWriter, _ *http.Request, _ int) { bedrockfake.WriteError(w, status, code, msg) }}
}

func truncatesBody() *fake {
	return &fake{respond: func(w http.ResponseWriter, _ *http.Request, _ int) {
		body := bedrockfake.ConverseBody(bedrockfake.Reply{Text: "a long answer"})
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "4096")
		_, _ = w.Write(body[:len(body)/2])
		// Returning with fewer bytes than Content-Length makes net/http
		// close the connection: the client sees an unexpected EOF.
	}}
}

func sendsMalformedJSON() *fake {
	return &fake{respond: func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"output": {"message": {"content": [{"text": "x"}`))
	}}
}

func streamsEvents(evs ...bedrockfake.Event) *fake {
	return &fake{respond: func(w http.ResponseWriter, _ *http.Request, _ int) {
		bedrockfake.StartStream(w)
		for _, ev := range evs {
			_ = bedrockfake.WriteEvent(w, ev)
		}
	}}
}

// testConfig keeps the SDK away from the developer's ~/.aws files.
var testConfig = []func(*config.LoadOptions) error{
	config.WithSharedConfigFiles([]string{}),
	config.WithSharedCredentialsFiles([]string{}),
	config.WithLogger(logging.Nop{}),
}

func newClient(t *testing.T, f *fake) *bedrock.Client {
	t.Helper()
	return newClientWith(t, f, credentials.NewStaticCredentialsProvider(testKeyID, testSecret, ""))
}

func newClientWith(t *testing.T, f *fake, creds aws.CredentialsProvider) *bedrock.Client {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c, err := bedrock.New(t.Context(), bedrock.Options{
		Region:   testRegion,
		Endpoint: srv.URL + prefix,
		// A BuildableClient, as the SDK's own, honours AWS_CA_BUNDLE when set.
		HTTPClient:    awshttp.NewBuildableClient(),
		Credentials:   creds,
		ConfigOptions: testConfig,
	})
	require.NoError(t, err)
	return c
}

func ptr[T any](v T) *T { return &v }

func fullRequest() provider.Request {
	return provider.Request{
		Model:  testModel,
		System: "Answer from the context only.",
		Messages: []provider.Message{
			{Role: provider.RoleUser, Content: "How long does a refund take?"},
		},
		Params: provider.Params{
			Temperature: ptr(0.0),
			TopP:        ptr(0.9),
			TopK:        ptr(50),
			MaxTokens:   ptr(400),
			Stop:        []string{"\n\nHuman:"},
		},
	}
}

func TestConverseSendsRequestAndReadsReply(t *testing.T) {
	t.Parallel()
	f := repliesWith(bedrockfake.Reply{
		Text: "Five business days.", InputTokens: 42, OutputTokens: 5,
		CacheReadTokens: 7, CacheWriteTokens: 3, StopReason: "max_tokens", LatencyMs: 321,
	})
	c := newClient(t, f)

	resp, err := c.Complete(t.Context(), fullRequest())
	require.NoError(t, err)

	assert.Equal(t, "Five business days.", resp.Text)
	assert.Equal(t, provider.Usage{InputTokens: 42, OutputTokens: 5, CacheReadTokens: 7, CacheWriteTokens: 3}, resp.Usage)
	assert.Equal(t, provider.StopMaxTokens, resp.StopReason)
	assert.Equal(t, 321*time.Millisecond, resp.ServiceLatency)
	assert.Positive(t, resp.Latency)
	assert.Zero(t, resp.TTFT)

	require.Equal(t, 1, f.count())
	got := f.call(0)
	assert.Equal(t, http.MethodPost, got.method)
	assert.Equal(t, escapedPath, got.path)
	assert.Contains(t, got.auth, "AWS4-HMAC-SHA256 Credential="+testKeyID+"/")
	assert.Contains(t, got.auth, "/"+testRegion+"/bedrock/aws4_request")
	assert.NotContains(t, got.auth, testSecret)

	b := got.body
	require.Len(t, b.System, 1)
	assert.Equal(t, "Answer from the context only.", b.System[0].Text)
	require.Len(t, b.Messages, 1)
	assert.Equal(t, "user", b.Messages[0].Role)
	assert.Equal(t, "How long does a refund take?", b.Messages[0].Content[0].Text)
	require.NotNil(t, b.InferenceConfig)
	assert.Equal(t, 400, *b.InferenceConfig.MaxTokens)
	assert.Equal(t, 0.0, *b.InferenceConfig.Temperature)
	assert.InDelta(t, 0.9, *b.InferenceConfig.TopP, 1e-6)
	assert.Equal(t, []string{"\n\nHuman:"}, b.InferenceConfig.StopSequences)
	assert.Equal(t, map[string]any{"top_k": 50.0}, b.AdditionalModelRequestFields)
}

func TestConverseOmitsUnsetParams(t *testing.T) {
	t.Parallel()
	f := repliesWith(bedrockfake.Reply{Text: "ok"})
	c := newClient(t, f)

	_, err := c.Complete(t.Context(), provider.Request{
		Model:    "amazon.nova-micro-v1:0",
		Messages: []provider.Message{{Role: provider.RoleUser, Content: "hi"}},
	})
	require.NoError(t, err)
	b := f.call(0).body
	assert.Nil(t, b.InferenceConfig)
	assert.Nil(t, b.AdditionalModelRequestFields)
	assert.Empty(t, b.System)
	assert.Equal(t, prefix+"/model/amazon.nova-micro-v1%3A0/converse", f.call(0).path)
}

func TestNovaTopKIsNested(t *testing.T) {
	t.Parallel()
	f := repliesWith(bedrockfake.Reply{Text: "ok"})
	c := newClient(t, f)
	req := fullRequest()
	req.Model = "us.amazon.nova-lite-v1:0"

	_, err := c.Complete(t.Context(), req)
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"inferenceConfig": map[string]any{"topK": 50.0}}, f.call(0).body.AdditionalModelRequestFields)
}

func TestConverseStreamMeasuresTTFT(t *testing.T) {
	t.Parallel()
	f := streamsReply(bedrockfake.Reply{
		Text: "Refunds take five business days.", InputTokens: 30, OutputTokens: 8,
		CacheReadTokens: 4, StopReason: "end_turn", LatencyMs: 250,
	})
	c := newClient(t, f)
	req := fullRequest()
	req.Stream = true

	resp, err := c.Complete(t.Context(), req)
	require.NoError(t, err)

	assert.Equal(t, "Refunds take five business days.", resp.Text)
	assert.Equal(t, provider.Usage{InputTokens: 30, OutputTokens: 8, CacheReadTokens: 4}, resp.Usage)
	assert.Equal(t, "end_turn", resp.StopReason)
	assert.Equal(t, 250*time.Millisecond, resp.ServiceLatency)
	assert.Positive(t, resp.TTFT)
	assert.LessOrEqual(t, resp.TTFT, resp.Latency)

	require.Equal(t, 1, f.count())
	got := f.call(0)
	assert.Equal(t, http.MethodPost, got.method)
	assert.Equal(t, strings.TrimSuffix(escapedPath, "/converse")+"/converse-stream", got.path)
	assert.Equal(t, map[string]any{"top_k": 50.0}, got.body.AdditionalModelRequestFields)
	assert.InDelta(t, 0.9, *got.body.InferenceConfig.TopP, 1e-6)
}

func TestStreamErrors(t *testing.T) {
	t.Parallel()
	start := bedrockfake.Event{Type: "messageStart", Payload: map[string]any{"role": "assistant"}}
	delta := bedrockfake.Event{Type: "contentBlockDelta", Payload: map[string]any{"contentBlockIndex": 0, "delta": map[string]any{"text": "Refu"}}}
	tests := []struct {
		name string
		fake *fake
		want provider.ErrorKind
	}{
		{"throttled mid-stream", streamsEvents(start, delta,
			bedrockfake.Event{Type: "throttlingException", Exception: true, Payload: map[string]any{"message": "slow down"}}),
			provider.KindThrottled},
		{"model stream error", streamsEvents(start,
			bedrockfake.Event{Type: "modelStreamErrorException", Exception: true, Payload: map[string]any{"message": "boom"}}),
			provider.KindTransient},
		{"validation mid-stream", streamsEvents(start,
			bedrockfake.Event{Type: "validationException", Exception: true, Payload: map[string]any{"message": "bad"}}),
			provider.KindInvalidRequest},
		{"cut before messageStop", streamsEvents(start, delta), provider.KindTransient},
		{"throttled before stream", alwaysThrottles(), provider.KindThrottled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newClient(t, tt.fake)
			req := fullRequest()
			req.Stream = true
			_, err := c.Complete(t.Context(), req)
			require.Error(t, err)
			assert.Equal(t, tt.want, provider.KindOf(err), "%v", err)
			assert.Equal(t, 1, tt.fake.count(), "the SDK must not retry")
		})
	}
}

func TestConverseErrorKinds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		fake       *fake
		want       provider.ErrorKind
		retryAfter time.Duration
		msg        []string
	}{
		{"throttled with retry-after", alwaysThrottles(), provider.KindThrottled, 3 * time.Second, nil},
		{"quota exceeded", alwaysFails(400, "ServiceQuotaExceededException", "quota"), provider.KindThrottled, 0, nil},
		{"internal server error", alwaysFails(500, "InternalServerException", "oops"), provider.KindTransient, 0, nil},
		{"service unavailable", alwaysFails(503, "ServiceUnavailableException", "down"), provider.KindTransient, 0, nil},
		{"bare 502 from a proxy", alwaysFails(502, "BadGateway", "proxy"), provider.KindTransient, 0, nil},
		{"model not ready", alwaysFails(429, "ModelNotReadyException", "warming up"), provider.KindTransient, 0, nil},
		{"model timeout", alwaysFails(408, "ModelTimeoutException", "slow"), provider.KindTransient, 0, nil},
		{"access denied", alwaysFails(403, "AccessDeniedException", "You don't have access to the model with the specified model ID."),
			provider.KindAuth, 0, []string{"bedrock:InvokeModel", "AccessDeniedException", testRegion}},
		{"unrecognized client", alwaysFails(403, "UnrecognizedClientException", "The security token included in the request is invalid."),
			provider.KindAuth, 0, []string{"AWS_ACCESS_KEY_ID"}},
		{"expired token", alwaysFails(403, "ExpiredTokenException", "The security token included in the request is expired"),
			provider.KindAuth, 0, []string{"ExpiredTokenException"}},
		{"validation", alwaysFails(400, "ValidationException", "temperature must be between 0 and 1"),
			provider.KindInvalidRequest, 0, []string{"temperature must be"}},
		{"model not found", alwaysFails(404, "ResourceNotFoundException", "Model not found"), provider.KindInvalidRequest, 0, nil},
		{"truncated body", truncatesBody(), provider.KindTransient, 0, nil},
		{"malformed json", sendsMalformedJSON(), provider.KindTransient, 0, nil},
		{"unknown status", alwaysFails(418, "Teapot", "short and stout"), provider.KindOther, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newClient(t, tt.fake)
			_, err := c.Complete(t.Context(), fullRequest())
			require.Error(t, err)
			assert.Equal(t, tt.want, provider.KindOf(err), "%v", err)
			assert.Equal(t, tt.retryAfter, provider.RetryAfterOf(err))
			for _, m := range tt.msg {
				assert.Contains(t, err.Error(), m)
			}
			assert.NotContains(t, err.Error(), testSecret)
			assert.Equal(t, 1, tt.fake.count(), "the SDK must not retry: the run engine does")
		})
	}
}

func TestOnDemandThroughputSuggestsProfile(t *testing.T) {
	t.Parallel()
	const base = "anthropic.claude-3-5-haiku-20241022-v1:0"
	f := alwaysFails(400, "ValidationException",
		"Invocation of model ID "+base+" with on-demand throughput isn’t supported. Retry your request with the ID or ARN of an inference profile that contains this model.")
	c := newClient(t, f)
	req := fullRequest()
	req.Model = base

	_, err := c.Complete(t.Context(), req)
	require.Error(t, err)
	assert.Equal(t, provider.KindInvalidRequest, provider.KindOf(err))
	assert.Contains(t, err.Error(), `"us.`+base+`"`)
}

func TestMissingCredentialsIsAuth(t *testing.T) {
	t.Parallel()
	f := repliesWith(bedrockfake.Reply{Text: "never"})
	noCreds := aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{}, errors.New("no EC2 IMDS role found")
	})
	c := newClientWith(t, f, noCreds)

	_, err := c.Complete(t.Context(), fullRequest())
	require.Error(t, err)
	assert.Equal(t, provider.KindAuth, provider.KindOf(err), "%v", err)
	assert.Contains(t, err.Error(), "no usable aws credentials")
	assert.Contains(t, err.Error(), "configure-aws-credentials")
	assert.Zero(t, f.count(), "an unsigned request must not be sent")
}

func TestNewNeedsRegion(t *testing.T) {
	t.Parallel()
	if os.Getenv("AWS_REGION") != "" || os.Getenv("AWS_DEFAULT_REGION") != "" {
		t.Skip("the environment names a region")
	}
	_, err := bedrock.New(t.Context(), bedrock.Options{
		Credentials:   credentials.NewStaticCredentialsProvider(testKeyID, testSecret, ""),
		ConfigOptions: testConfig,
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "AWS_REGION")
}

func TestCachePointsEndTheSharedPrefix(t *testing.T) {
	t.Parallel()
	text := func(s string) bedrockfake.Block { return bedrockfake.Block{Text: s} }
	point := bedrockfake.Block{CachePoint: &bedrockfake.CachePoint{Type: "default"}}
	const (
		system = "You answer from the policy below.\nPOLICY: refunds take five business days."
		user   = "Shared context: the refund FAQ.\nQuestion: How long does a refund take?"
		shared = "Shared context: the refund FAQ.\n"
	)
	tests := []struct {
		name                   string
		cacheSystem, cacheUser int
		stream                 bool
		wantSystem, wantUser   []bedrockfake.Block
	}{
		{"off", 0, 0, false, []bedrockfake.Block{text(system)}, []bedrockfake.Block{text(user)}},
		{"whole system prompt", len(system), 0, false,
			[]bedrockfake.Block{text(system), point}, []bedrockfake.Block{text(user)}},
		{"system and the user's shared context", len(system), len(shared), false,
			[]bedrockfake.Block{text(system), point},
			[]bedrockfake.Block{text(shared), point, text("Question: How long does a refund take?")}},
		{"static start of a system prompt with a placeholder", len("You answer from the policy below.\n"), 0, false,
			[]bedrockfake.Block{text("You answer from the policy below.\n"), point, text("POLICY: refunds take five business days.")},
			[]bedrockfake.Block{text(user)}},
		{"streaming", len(system), len(shared), true,
			[]bedrockfake.Block{text(system), point},
			[]bedrockfake.Block{text(shared), point, text("Question: How long does a refund take?")}},
		{"a prefix longer than the text is ignored", len(system) + 1, len(user) + 1, false,
			[]bedrockfake.Block{text(system)}, []bedrockfake.Block{text(user)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			reply := bedrockfake.Reply{Text: "Five days.", InputTokens: 12, OutputTokens: 3, CacheReadTokens: 1800, CacheWriteTokens: 40}
			f := repliesWith(reply)
			if tt.stream {
				f = streamsReply(reply)
			}
			c := newClient(t, f)
			req := fullRequest()
			req.System, req.Messages[0].Content = system, user
			req.CacheSystem, req.CacheUser, req.Stream = tt.cacheSystem, tt.cacheUser, tt.stream

			resp, err := c.Complete(t.Context(), req)
			require.NoError(t, err)
			assert.Equal(t, provider.Usage{InputTokens: 12, OutputTokens: 3, CacheReadTokens: 1800, CacheWriteTokens: 40}, resp.Usage)
			b := f.call(0).body
			assert.Equal(t, tt.wantSystem, b.System)
			require.Len(t, b.Messages, 1)
			assert.Equal(t, tt.wantUser, b.Messages[0].Content)
		})
	}
}
