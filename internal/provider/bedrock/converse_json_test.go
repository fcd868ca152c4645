package bedrock_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/provider"
	"github.com/evalgate/evalgate/internal/provider/bedrock"
)

func TestConverseJSON(t *testing.T) {
	t.Parallel()
	temp, topP, topK, maxTokens := 0.2, 0.9, 40, 300
	params := provider.Params{Temperature: &temp, TopP: &topP, TopK: &topK, MaxTokens: &maxTokens, Stop: []string{"</a>"}}
	for _, tc := range []struct {
		name string
		req  provider.Request
		want string
	}{
		{
			name: "user only, no params",
			req:  provider.Request{Model: "m", Messages: []provider.Message{{Role: provider.RoleUser, Content: "hi"}}},
			want: `{"messages":[{"role":"user","content":[{"text":"hi"}]}]}`,
		},
		{
			name: "anthropic with every param",
			req: provider.Request{Model: "us.anthropic.claude-3-5-haiku-20241022-v1:0", System: "Be brief.", Params: params,
				Messages: []provider.Message{{Role: provider.RoleUser, Content: "q"}, {Role: provider.RoleAssistant, Content: "a"}}},
			want: `{"system":[{"text":"Be brief."}],
				"messages":[{"role":"user","content":[{"text":"q"}]},{"role":"assistant","content":[{"text":"a"}]}],
				"inferenceConfig":{"maxTokens":300,"temperature":0.2,"topP":0.9,"stopSequences":["</a>"]},
				"additionalModelRequestFields":{"top_k":40}}`,
		},
		{
			name: "nova nests top_k",
			req:  provider.Request{Model: "us.amazon.nova-lite-v1:0", Params: provider.Params{TopK: &topK}, Messages: []provider.Message{{Role: provider.RoleUser, Content: "q"}}},
			want: `{"messages":[{"role":"user","content":[{"text":"q"}]}],"additionalModelRequestFields":{"inferenceConfig":{"topK":40}}}`,
		},
		{
			name: "cache points are not written",
			req:  provider.Request{Model: "m", System: "shared prefix", CacheSystem: 6, Messages: []provider.Message{{Role: provider.RoleUser, Content: "q"}}},
			want: `{"system":[{"text":"shared prefix"}],"messages":[{"role":"user","content":[{"text":"q"}]}]}`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := bedrock.ConverseJSON(tc.req)
			require.NoError(t, err)
			assert.JSONEq(t, tc.want, string(got))
		})
	}
}

func TestParseConverseJSON(t *testing.T) {
	t.Parallel()
	resp, err := bedrock.ParseConverseJSON([]byte(`{"output":{"message":{"role":"assistant","content":[{"text":"Five "},{"text":"days."}]}},
		"stopReason":"max_tokens","usage":{"inputTokens":12,"outputTokens":3,"totalTokens":15,"cacheReadInputTokens":4},"metrics":{"latencyMs":640}}`))
	require.NoError(t, err)
	assert.Equal(t, provider.Response{Text: "Five days.", StopReason: provider.StopMaxTokens,
		Usage:   provider.Usage{InputTokens: 12, OutputTokens: 3, CacheReadTokens: 4},
		Latency: 640 * time.Millisecond, ServiceLatency: 640 * time.Millisecond}, resp)

	filtered, err := bedrock.ParseConverseJSON([]byte(`{"output":{"message":{"role":"assistant","content":[]}},"stopReason":"guardrail_intervened"}`))
	require.NoError(t, err)
	assert.Equal(t, "content_filtered", filtered.StopReason)
	assert.Empty(t, filtered.Text)

	_, err = bedrock.ParseConverseJSON([]byte(`{"output":{}}`))
	assert.ErrorContains(t, err, "no output.message or stopReason")
	_, err = bedrock.ParseConverseJSON([]byte(`not json`))
	assert.ErrorContains(t, err, "converse response")
}
