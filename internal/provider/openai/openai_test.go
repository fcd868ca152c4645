package openai_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/provider"
	"github.com/evalgate/evalgate/internal/provider/openai"
)

// prefix is the fake server's API root: a client that builds its own URL misses it.
const prefix = "/gateway/v1"

const (
	testKey    = "sk-evalgate-test-key-never-printed"
	testKeyEnv = "EVALGATE_TEST_OPENAI_KEY"
)

type call struct {
	method, path, auth string
	body               map[string]any
}

// fake is an OpenAI-compatible server whose behaviour is a function of the
// call number (0-based); it records every request.
type fake struct {
	mu      sync.Mutex
	calls   []call
	respond func(w http.ResponseWriter, r *http.Request, n int)
}

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	_ = json.Unmarshal(raw, &body)
	f.mu.Lock()
	n := len(f.calls)
	f.calls = append(f.calls, call{method: r.Method, path: r.URL.Path, auth: r.Header.Get("Authorization"), body: body})
	f.mu.Unlock()
	if r.URL.Path != prefix+"/chat/completions" {
		writeError(w, http.StatusNotFound, "not_found", "no route "+r.URL.Path)
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

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, `{"error":{"message":%q,"type":"invalid_request_error","param":null,"code":%q}}`, msg, code)
}

const completionJSON = `{
  "id": "chatcmpl-1", "object": "chat.completion", "created": 1700000000, "model": "gpt-4o-mini",
  "choices": [{"index": 0, "message": {"role": "assistant", "content": "Five business days."}, "finish_reason": "length", "logprobs": null}],
  "usage": {"prompt_tokens": 50, "completion_tokens": 6, "total_tokens": 56,
            "prompt_tokens_details": {"cached_tokens": 20}}
}`

// Behaviours of the fake, by name.

func repliesWith(body string) *fake {
	return &fake{respond: func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, body)
	}}
}

func streamsChunks(chunks ...string) *fake {
	return &fake{respond: func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("Content-Type", "text/event-stream")
		for _, c := range chunks {
			_, _ = fmt.Fprintf(w, "data: %s\n\n", c)
			w.(http.Flusher).Flush()
		}
	}}
}

func alwaysFails(status int, code, msg string, header ...string) *fake {
	return &fake{respond: func(w http.ResponseWriter, _ *http.Request, _ int) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		writeError(w, status, code, msg)
	}}
}

func truncatesBody() *fake {
	return &fake{respond: func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "4096")
		_, _ = io.WriteString(w, completionJSON[:60])
	}}
}

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func newClient(t *testing.T, f *fake) *openai.Client {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c, err := openai.New(openai.Options{
		BaseURL:    srv.URL + prefix,
		APIKeyEnv:  testKeyEnv,
		Getenv:     env(map[string]string{testKeyEnv: testKey}),
		HTTPClient: srv.Client(),
	})
	require.NoError(t, err)
	return c
}

func ptr[T any](v T) *T { return &v }

func fullRequest() provider.Request {
	return provider.Request{
		Model:    "llama3.1:8b",
		System:   "Answer from the context only.",
		Messages: []provider.Message{{Role: provider.RoleUser, Content: "How long does a refund take?"}},
		Params: provider.Params{
			Temperature: ptr(0.0), TopP: ptr(0.9), TopK: ptr(40), MaxTokens: ptr(400),
			Stop: []string{"END"}, Seed: ptr(int64(7)),
		},
	}
}

func TestCompleteSendsRequestAndReadsReply(t *testing.T) {
	t.Parallel()
	f := repliesWith(completionJSON)
	c := newClient(t, f)

	resp, err := c.Complete(t.Context(), fullRequest())
	require.NoError(t, err)
	assert.Equal(t, "Five business days.", resp.Text)
	assert.Equal(t, provider.Usage{InputTokens: 30, OutputTokens: 6, CacheReadTokens: 20}, resp.Usage)
	assert.Equal(t, provider.StopMaxTokens, resp.StopReason)
	assert.Positive(t, resp.Latency)

	require.Equal(t, 1, f.count())
	got := f.call(0)
	assert.Equal(t, http.MethodPost, got.method)
	assert.Equal(t, prefix+"/chat/completions", got.path)
	assert.Equal(t, "Bearer "+testKey, got.auth)
	b := got.body
	assert.Equal(t, "llama3.1:8b", b["model"])
	assert.Equal(t, []any{
		map[string]any{"role": "system", "content": "Answer from the context only."},
		map[string]any{"role": "user", "content": "How long does a refund take?"},
	}, b["messages"])
	assert.Equal(t, 0.0, b["temperature"])
	assert.Equal(t, 0.9, b["top_p"])
	assert.Equal(t, 40.0, b["top_k"], "top_k goes to compatible servers as an extra field")
	assert.Equal(t, 400.0, b["max_tokens"], "compatible servers get max_tokens")
	assert.Equal(t, []any{"END"}, b["stop"])
	assert.Equal(t, 7.0, b["seed"])
	assert.NotContains(t, b, "stream")
}

func TestOfficialAPIRejectsTopKBeforeCalling(t *testing.T) {
	t.Parallel()
	c, err := openai.New(openai.Options{Getenv: env(map[string]string{"OPENAI_API_KEY": testKey})})
	require.NoError(t, err)

	_, err = c.Complete(t.Context(), fullRequest())
	require.Error(t, err)
	assert.Equal(t, provider.KindInvalidRequest, provider.KindOf(err))
	assert.Contains(t, err.Error(), "top_k")
}

func TestOfficialAPINeedsKey(t *testing.T) {
	t.Parallel()
	_, err := openai.New(openai.Options{Getenv: env(nil)})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "OPENAI_API_KEY")
}

func TestNamedKeyEnvMustBeSet(t *testing.T) {
	t.Parallel()
	_, err := openai.New(openai.Options{BaseURL: "http://127.0.0.1:1/v1", APIKeyEnv: "VLLM_KEY", Getenv: env(nil)})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "VLLM_KEY")
}

func TestLocalServerWithoutKey(t *testing.T) {
	t.Parallel()
	f := repliesWith(completionJSON)
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c, err := openai.New(openai.Options{BaseURL: srv.URL + prefix + "/", Getenv: env(nil), HTTPClient: srv.Client()})
	require.NoError(t, err)

	_, err = c.Complete(t.Context(), provider.Request{Model: "m", Messages: []provider.Message{{Role: provider.RoleUser, Content: "hi"}}})
	require.NoError(t, err)
	assert.Empty(t, f.call(0).auth)
	assert.NotContains(t, f.call(0).body, "top_k")
	assert.NotContains(t, f.call(0).body, "max_tokens")
}

func TestStreamMeasuresTTFT(t *testing.T) {
	t.Parallel()
	f := streamsChunks(
		`{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}`,
		`{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Five "},"finish_reason":null}]}`,
		`{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"days."},"finish_reason":"stop"}]}`,
		`{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15,"prompt_tokens_details":{"cached_tokens":2}}}`,
		`[DONE]`,
	)
	c := newClient(t, f)
	req := fullRequest()
	req.Stream = true

	resp, err := c.Complete(t.Context(), req)
	require.NoError(t, err)
	assert.Equal(t, "Five days.", resp.Text)
	assert.Equal(t, "end_turn", resp.StopReason)
	assert.Equal(t, provider.Usage{InputTokens: 10, OutputTokens: 3, CacheReadTokens: 2}, resp.Usage)
	assert.Positive(t, resp.TTFT)
	assert.LessOrEqual(t, resp.TTFT, resp.Latency)

	b := f.call(0).body
	assert.Equal(t, true, b["stream"])
	assert.Equal(t, map[string]any{"include_usage": true}, b["stream_options"])
	assert.Equal(t, 40.0, b["top_k"])
}

func TestStreamErrors(t *testing.T) {
	t.Parallel()
	first := `{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Fi"},"finish_reason":null}]}`
	tests := []struct {
		name string
		fake *fake
		want provider.ErrorKind
	}{
		{"error event mid-stream", streamsChunks(first, `{"error":{"message":"overloaded","type":"server_error"}}`), provider.KindTransient},
		{"rate limit mid-stream", streamsChunks(first, `{"error":{"message":"slow down","type":"rate_limit_error","code":"rate_limit_exceeded"}}`), provider.KindThrottled},
		{"cut before finish_reason", streamsChunks(first), provider.KindTransient},
		{"malformed chunk", streamsChunks(first, `{"choices":[{`), provider.KindTransient},
		{"throttled before stream", alwaysFails(429, "rate_limit_exceeded", "Rate limit reached"), provider.KindThrottled},
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

func TestErrorKinds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		fake       *fake
		want       provider.ErrorKind
		retryAfter time.Duration
		msg        string
	}{
		{"throttled with retry-after", alwaysFails(429, "rate_limit_exceeded", "Rate limit reached", "Retry-After", "2"), provider.KindThrottled, 2 * time.Second, ""},
		{"throttled with retry-after-ms", alwaysFails(429, "rate_limit_exceeded", "Rate limit reached", "Retry-After-Ms", "1500", "Retry-After", "2"), provider.KindThrottled, 1500 * time.Millisecond, ""},
		{"quota exhausted", alwaysFails(429, "insufficient_quota", "You exceeded your current quota"), provider.KindAuth, 0, "billing"},
		{"bad key", alwaysFails(401, "invalid_api_key", "Incorrect API key provided"), provider.KindAuth, 0, testKeyEnv},
		{"forbidden", alwaysFails(403, "unsupported_country_region_territory", "Country not supported"), provider.KindAuth, 0, ""},
		{"server error", alwaysFails(500, "server_error", "The server had an error"), provider.KindTransient, 0, ""},
		{"overloaded", alwaysFails(503, "overloaded", "Slow down"), provider.KindTransient, 0, ""},
		{"bad request", alwaysFails(400, "invalid_value", "temperature too high"), provider.KindInvalidRequest, 0, "temperature too high"},
		{"unknown model", alwaysFails(404, "model_not_found", "The model does not exist"), provider.KindInvalidRequest, 0, ""},
		{"unprocessable", alwaysFails(422, "invalid", "bad"), provider.KindInvalidRequest, 0, ""},
		{"truncated body", truncatesBody(), provider.KindTransient, 0, ""},
		{"malformed json", repliesWith(`{"choices": [{"message": `), provider.KindTransient, 0, ""},
		{"unknown status", alwaysFails(418, "teapot", "short and stout"), provider.KindOther, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newClient(t, tt.fake)
			_, err := c.Complete(t.Context(), fullRequest())
			require.Error(t, err)
			assert.Equal(t, tt.want, provider.KindOf(err), "%v", err)
			assert.Equal(t, tt.retryAfter, provider.RetryAfterOf(err))
			if tt.msg != "" {
				assert.Contains(t, err.Error(), tt.msg)
			}
			assert.NotContains(t, err.Error(), testKey)
			assert.Equal(t, 1, tt.fake.count(), "the SDK must not retry: the run engine does")
		})
	}
}

// Issue 14, item 3: OpenAI's x-ratelimit-* headers say what is left of the
// quota, with a reply or a 429; a 429 without Retry-After waits for the
// spent quota's reset.
func TestRateLimitHeaders(t *testing.T) {
	t.Parallel()
	withHeaders := func(status int, header ...string) *fake {
		return &fake{respond: func(w http.ResponseWriter, _ *http.Request, _ int) {
			for i := 0; i+1 < len(header); i += 2 {
				w.Header().Set(header[i], header[i+1])
			}
			if status != http.StatusOK {
				writeError(w, status, "rate_limit_exceeded", "Rate limit reached")
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, completionJSON)
		}}
	}
	all := []string{"X-Ratelimit-Remaining-Requests", "59", "X-Ratelimit-Remaining-Tokens", "149984",
		"X-Ratelimit-Reset-Requests", "1s", "X-Ratelimit-Reset-Tokens", "6m0s"}
	tests := []struct {
		name       string
		fake       *fake
		want       *provider.RateLimit
		retryAfter time.Duration // of a 429
	}{
		{"reply with all four", withHeaders(200, all...),
			&provider.RateLimit{RemainingRequests: 59, RemainingTokens: 149984, ResetRequests: time.Second, ResetTokens: 6 * time.Minute}, 0},
		{"reply without", withHeaders(200), nil, 0},
		{"reply with requests only, reset in seconds", withHeaders(200, "X-Ratelimit-Remaining-Requests", "0", "X-Ratelimit-Reset-Requests", "0.5"),
			&provider.RateLimit{RemainingRequests: 0, RemainingTokens: -1, ResetRequests: 500 * time.Millisecond}, 0},
		{"garbled values are not read", withHeaders(200, "X-Ratelimit-Remaining-Requests", "many", "X-Ratelimit-Reset-Tokens", "soon"), nil, 0},
		{"429, requests spent", withHeaders(429, "X-Ratelimit-Remaining-Requests", "0", "X-Ratelimit-Remaining-Tokens", "9000",
			"X-Ratelimit-Reset-Requests", "20ms", "X-Ratelimit-Reset-Tokens", "2s"),
			&provider.RateLimit{RemainingRequests: 0, RemainingTokens: 9000, ResetRequests: 20 * time.Millisecond, ResetTokens: 2 * time.Second}, 20 * time.Millisecond},
		{"429, tokens spent", withHeaders(429, "X-Ratelimit-Remaining-Requests", "10", "X-Ratelimit-Remaining-Tokens", "0",
			"X-Ratelimit-Reset-Requests", "20ms", "X-Ratelimit-Reset-Tokens", "1m30.5s"),
			&provider.RateLimit{RemainingRequests: 10, RemainingTokens: 0, ResetRequests: 20 * time.Millisecond, ResetTokens: 90500 * time.Millisecond}, 90500 * time.Millisecond},
		{"429, Retry-After wins", withHeaders(429, "Retry-After", "3", "X-Ratelimit-Remaining-Requests", "0", "X-Ratelimit-Reset-Requests", "20ms"),
			&provider.RateLimit{RemainingRequests: 0, RemainingTokens: -1, ResetRequests: 20 * time.Millisecond}, 3 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, stream := range []bool{false, true} {
				if stream && tt.retryAfter == 0 {
					continue // the fake's reply is not a stream
				}
				req := fullRequest()
				req.Stream = stream
				resp, err := newClient(t, tt.fake).Complete(t.Context(), req)
				if tt.retryAfter == 0 {
					require.NoError(t, err)
					assert.Equal(t, tt.want, resp.RateLimit)
					continue
				}
				require.Error(t, err)
				assert.Equal(t, provider.KindThrottled, provider.KindOf(err))
				assert.Equal(t, tt.want, provider.RateLimitOf(err))
				assert.Equal(t, tt.retryAfter, provider.RetryAfterOf(err))
			}
		})
	}
}

func TestStreamedReplyCarriesRateLimit(t *testing.T) {
	t.Parallel()
	f := streamsChunks(`{"choices":[{"index":0,"delta":{"content":"Five"}}]}`, `{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`, "[DONE]")
	respond := f.respond
	f.respond = func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("X-Ratelimit-Remaining-Tokens", "0")
		w.Header().Set("X-Ratelimit-Reset-Tokens", "12s")
		respond(w, r, n)
	}
	req := fullRequest()
	req.Stream = true
	resp, err := newClient(t, f).Complete(t.Context(), req)
	require.NoError(t, err)
	require.NotNil(t, resp.RateLimit)
	assert.Equal(t, provider.RateLimit{RemainingRequests: -1, RemainingTokens: 0, ResetTokens: 12 * time.Second}, *resp.RateLimit)
}
