package bedrock_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/provider"
	"github.com/evalgate/evalgate/internal/provider/bedrock"
	"github.com/evalgate/evalgate/internal/provider/bedrock/bedrockfake"
)

// optimizeFake is bedrock-agent-runtime's OptimizePrompt; respond answers
// call n (0-based). It records every request.
type optimizeFake struct {
	mu      sync.Mutex
	paths   []string
	bodies  []bedrockfake.OptimizeRequest
	auth    []string
	respond func(w http.ResponseWriter, n int)
}

func (f *optimizeFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := bedrockfake.DecodeOptimizeRequest(r)
	f.mu.Lock()
	n := len(f.paths)
	f.paths = append(f.paths, r.Method+" "+r.URL.EscapedPath())
	f.bodies = append(f.bodies, body)
	f.auth = append(f.auth, r.Header.Get("Authorization"))
	f.mu.Unlock()
	if err != nil {
		bedrockfake.WriteError(w, http.StatusBadRequest, "SerializationException", err.Error())
		return
	}
	f.respond(w, n)
}

func streamsOptimized(analysis []string, text string) *optimizeFake {
	return &optimizeFake{respond: func(w http.ResponseWriter, _ int) {
		bedrockfake.StartStream(w)
		for _, ev := range bedrockfake.OptimizeEvents(analysis, text) {
			_ = bedrockfake.WriteEvent(w, ev)
		}
	}}
}

func newOptimizer(t *testing.T, f *optimizeFake) *bedrock.Optimizer {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	o, err := bedrock.NewOptimizer(t.Context(), bedrock.Options{
		Region: testRegion, Endpoint: srv.URL + prefix, HTTPClient: awshttp.NewBuildableClient(),
		Credentials: credentials.NewStaticCredentialsProvider(testKeyID, testSecret, ""), ConfigOptions: testConfig,
	})
	require.NoError(t, err)
	return o
}

func optimizeRequest(text string) provider.Request {
	return provider.Request{Model: "amazon.nova-lite-v1:0", Messages: []provider.Message{{Role: provider.RoleUser, Content: text}}}
}

func TestOptimizePromptReadsTheEventStream(t *testing.T) {
	t.Parallel()
	f := streamsOptimized([]string{"The prompt mixes instructions and data.", "No output format is given."}, "## Task\nSummarize {{transcript}}.")
	resp, err := newOptimizer(t, f).Complete(t.Context(), optimizeRequest("Summarize {{transcript}}"))
	require.NoError(t, err)

	require.Len(t, f.paths, 1)
	assert.Equal(t, "POST "+prefix+bedrockfake.OptimizePath, f.paths[0])
	assert.Equal(t, "Summarize {{transcript}}", f.bodies[0].Input.TextPrompt.Text)
	assert.Equal(t, "amazon.nova-lite-v1:0", f.bodies[0].TargetModelID)
	assert.Contains(t, f.auth[0], "Credential="+testKeyID+"/", "the request is signed")
	assert.Contains(t, f.auth[0], "/bedrock/aws4_request", "signed for the bedrock service")

	var res bedrock.OptimizeResult
	require.NoError(t, json.Unmarshal([]byte(resp.Text), &res))
	assert.Equal(t, []string{"The prompt mixes instructions and data.", "No output format is given."}, res.Analysis)
	assert.Equal(t, "## Task\nSummarize {{transcript}}.", res.Prompt)
}

func TestOptimizePromptErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		respond func(w http.ResponseWriter, n int)
		kind    provider.ErrorKind
		want    string
	}{
		{"throttled in the stream", func(w http.ResponseWriter, _ int) {
			bedrockfake.StartStream(w)
			_ = bedrockfake.WriteEvent(w, bedrockfake.Event{Type: "analyzePromptEvent", Payload: map[string]any{"message": "looking"}})
			_ = bedrockfake.WriteEvent(w, bedrockfake.Event{Type: "throttlingException", Exception: true, Payload: map[string]any{"message": "Too many requests"}})
		}, provider.KindThrottled, "optimize prompt: "},
		{"throttled before the stream", func(w http.ResponseWriter, _ int) {
			bedrockfake.WriteError(w, http.StatusTooManyRequests, "ThrottlingException", "Rate exceeded")
		}, provider.KindThrottled, "Rate exceeded"},
		{"access denied names the permission", func(w http.ResponseWriter, _ int) {
			bedrockfake.WriteError(w, http.StatusForbidden, "AccessDeniedException", "not authorized to perform bedrock:OptimizePrompt")
		}, provider.KindAuth, "needs the IAM permission bedrock:OptimizePrompt"},
		{"unsupported model", func(w http.ResponseWriter, _ int) {
			bedrockfake.WriteError(w, http.StatusBadRequest, "ValidationException", "The provided model identifier is invalid.")
		}, provider.KindInvalidRequest, "prompt optimization supports only some models and regions"},
		{"dependency failed is transient", func(w http.ResponseWriter, _ int) {
			bedrockfake.StartStream(w)
			_ = bedrockfake.WriteEvent(w, bedrockfake.Event{Type: "dependencyFailedException", Exception: true, Payload: map[string]any{"message": "model busy"}})
		}, provider.KindTransient, "model busy"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := newOptimizer(t, &optimizeFake{respond: tc.respond}).Complete(t.Context(), optimizeRequest("Summarize {{transcript}}"))
			require.Error(t, err)
			assert.Equal(t, tc.kind, provider.KindOf(err), "%v", err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), testSecret)
		})
	}
}
