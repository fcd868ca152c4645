package optimize

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/provider"
	cmdprovider "github.com/evalgate/evalgate/internal/provider/command"
	"github.com/evalgate/evalgate/internal/results"
	"github.com/evalgate/evalgate/internal/run"
)

// rewriter is a metaprompt generator whose model is a shell script run by the
// command provider, through the run engine's caller (retries, cache, budget).
// The script saves the request it got in dir/request.json.
func rewriter(t *testing.T, reply string) (Metaprompt, string) {
	t.Helper()
	dir := t.TempDir()
	script := filepath.Join(dir, "rewrite.sh")
	body := "#!/bin/sh\ncat > \"$(dirname \"$0\")/request.json\"\nprintf '%s' '" + reply + "'\n"
	require.NoError(t, os.WriteFile(script, []byte(body), 0o755))
	cmd, err := cmdprovider.New([]string{script}, dir, nil)
	require.NoError(t, err)
	// The caller waits on a fake clock: a script that stays throttled is
	// retried for the minute of run.retry_throttled_for without a real sleep.
	caller := run.NewCaller(run.Options{Retries: 2, RetryThrottledFor: time.Minute, BackoffBase: time.Minute, BackoffMax: time.Minute, Clock: &fakeClock{}})
	c := caller.Completer(run.Target{Info: results.TargetInfo{ID: "rewriter", Provider: "command", Model: "rewriter-model"}, Provider: cmd}, 1)
	return Metaprompt{Model: "rewriter-model", TargetModel: "us.amazon.nova-lite-v1:0", Completer: c}, dir
}

func questionSource(t *testing.T) (*Source, Checks) {
	t.Helper()
	src, err := NativeSource("prompt answer", "You answer support questions.", "Context: {{context}}\n\nQ: {{question}}", []string{"context", "question"})
	require.NoError(t, err)
	return src, Checks{Required: src.Fields, Columns: []string{"context", "question"}}
}

func TestMetapromptRewritesThroughTheCommandProvider(t *testing.T) {
	t.Parallel()
	g, dir := rewriter(t, `{"text":"Sure.\n<system_prompt>\nYou are the support assistant.\n</system_prompt>\n<user_prompt>\n## Context\n{{context}}\n\n## Question\n{{question}}\n</user_prompt>","usage":{"input_tokens":300,"output_tokens":40}}`)
	src, k := questionSource(t)
	kept, dropped := Generate(context.Background(), []Generator{g}, src, provider.Params{}, k)
	require.Empty(t, dropped)
	require.Len(t, kept, 1)
	assert.Equal(t, "You are the support assistant.", kept[0].System)
	assert.Equal(t, "## Context\n{{context}}\n\n## Question\n{{question}}", kept[0].User)

	raw, err := os.ReadFile(filepath.Join(dir, "request.json"))
	require.NoError(t, err)
	var sent provider.Request
	require.NoError(t, json.Unmarshal(raw, &sent))
	assert.Equal(t, "rewriter-model", sent.Model)
	assert.Contains(t, sent.System, "The placeholders in this template are: {{context}}, {{question}}.")
	assert.Contains(t, sent.System, "Amazon Nova expects the role and rules in the system prompt")
	require.Len(t, sent.Messages, 1)
	assert.Contains(t, sent.Messages[0].Content, "<original_user_prompt>\nContext: {{context}}\n\nQ: {{question}}\n</original_user_prompt>")
}

func TestMetapromptBadRewrites(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, reply, want, kind string
	}{
		{"placeholder dropped", `{"text":"<user_prompt>\nQ: {{question}}\n</user_prompt>"}`, "it drops the source prompt's placeholders {{context}}", ""},
		{"empty rewrite", `{"text":"<system_prompt>x</system_prompt><user_prompt>\n</user_prompt>"}`, "the prompt is empty", ""},
		{"no sections", `{"text":"Here is a better prompt: answer {{question}} well."}`, "the reply has no <user_prompt> section; the model must answer with <system_prompt> and <user_prompt> sections", ""},
		{"throttled", `{"error":{"kind":"throttled","message":"rate exceeded"}}`, "metaprompt rewrite with rewriter-model: still throttled after 1m0s of retries (run.retry_throttled_for): command: throttled: ", "throttled"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g, _ := rewriter(t, tc.reply)
			src, k := questionSource(t)
			kept, dropped := Generate(context.Background(), []Generator{g}, src, provider.Params{}, k)
			assert.Empty(t, kept)
			require.Len(t, dropped, 1)
			assert.Contains(t, dropped[0].Reason, tc.want)
			assert.Equal(t, tc.kind, dropped[0].Kind)
			assert.Equal(t, GenMetaprompt, dropped[0].Generator)
		})
	}
}
