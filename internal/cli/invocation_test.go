package cli

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/results"
)

// TestTargetInheritsTheSourcesInvocationConfig: the target is called with the
// temperature the source logged for each sample (and the source's params
// where a row logged none), and the summary and the report say how the
// source was called.
func TestTargetInheritsTheSourcesInvocationConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := `{"sample_id":"1","question":"q1","answer_ground_truth":"a","answer_source_llm":"a","temperature_source_llm":0.7,"prompt_source_llm":"Answer {q}"}
{"sample_id":"2","question":"q2","answer_ground_truth":"b","answer_source_llm":"b","temperature_source_llm":0.2,"prompt_source_llm":"Answer {q}"}
{"sample_id":"3","question":"q3","answer_ground_truth":"c","answer_source_llm":"c","prompt_source_llm":"Answer {q}"}
`
	// The model echoes the temperature it was called with.
	model := script(t, dir, `req=$(cat)
t=$(printf '%s' "$req" | sed -n 's/.*"temperature":\([0-9.]*\).*/\1/p')
printf '{"text":"t=%s"}\n' "$t"`)
	cfg := "version: 1\nname: t\ndataset: {path: data.jsonl}\nprompts:\n  p: {user: \"Q: {{question}}\"}\ntargets:\n" +
		"  - {id: source, provider: recorded, model: gpt-4o-mini, params: {temperature: 0.5, top_p: 0.9}}\n" +
		"  - {id: app, provider: command, model: app, prompt: p, command: [" + model + "], params_from: source}\n" +
		"metrics: [f1]\ngate: {baseline: source}\nrun:\n  results: out.jsonl\n  cache: false\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "data.jsonl"), []byte(data), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "evalgate.yaml"), []byte(cfg), 0o644))
	code, stdout, stderr := invoke(t, context.Background(), "run", "--config", filepath.Join(dir, "evalgate.yaml"), "--progress", "off")
	require.NotEqual(t, ExitUsage, code, stderr)

	_, recs, _, err := results.ReadAll(filepath.Join(dir, "out.jsonl"))
	require.NoError(t, err)
	got := map[string]string{}
	for _, r := range recs {
		if r.Target == "app" {
			got[r.SampleID] = r.Output
		}
	}
	assert.Equal(t, map[string]string{"1": "t=0.7", "2": "t=0.2", "3": "t=0.5"}, got)

	note := "source source (gpt-4o-mini) was called with temperature 0.7, 0.2 (logged on 2 of 3 samples), top_p 0.9 (params), top_k not logged; prompt (prompt_source_llm) logged on 3 of 3 samples, 1 distinct"
	assert.Contains(t, stdout, note)
	md, err := os.ReadFile(filepath.Join(dir, "out.report.md"))
	require.NoError(t, err)
	assert.Contains(t, string(md), "was called with temperature 0.7, 0.2")
}
