package cli

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/results"
)

// TestRunTargetFiltersCompareTwoSystemsOfOneFile: one outputs file holds
// both prompt variants under the same call ids (the companion repository's
// shape); dataset.filter drops the rows of a third variant, and each recorded
// target reads its own variant's rows, paired by call id.
func TestRunTargetFiltersCompareTwoSystemsOfOneFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := `call_id,variant,transcript,reference,summary,latency
c1,raw,t1,the refund was approved,the refund was approved,1.0
c1,optimized,t1,the refund was approved,refund approved,0.5
c2,raw,t2,the order ships monday,the order ships monday,1.2
c2,optimized,t2,the order ships monday,order ships monday,0.6
c3,raw,t3,the card was replaced,the card was replaced,0.9
c3,optimized,t3,the card was replaced,card replaced,0.4
c1,draft,t1,the refund was approved,x,9
`
	cfg := `version: 1
name: calls
dataset:
  path: outputs.csv
  fields: {id: call_id, input: transcript, reference: reference}
  filter: [{column: variant, in: [raw, optimized]}]
targets:
  - {id: raw, provider: recorded, model: m, fields: {output: summary, latency: latency}, filter: [{column: variant, equals: raw}]}
  - {id: optimized, provider: recorded, model: m, fields: {output: summary, latency: latency}, filter: [{column: variant, equals: optimized}]}
metrics: [exact_match]
gate: {baseline: raw}
`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "outputs.csv"), []byte(data), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "evalgate.yaml"), []byte(cfg), 0o644))
	out := filepath.Join(dir, "out.jsonl")
	code, stdout, stderr := invoke(t, context.Background(), "run", "--config", filepath.Join(dir, "evalgate.yaml"), "--out", out, "--progress", "off")
	require.NotEqual(t, ExitUsage, code, "stdout: %s\nstderr: %s", stdout, stderr)

	_, recs, _, err := results.ReadAll(out)
	require.NoError(t, err)
	var got []string
	for _, r := range recs {
		got = append(got, r.Target+"/"+r.SampleID+"="+r.Output)
	}
	sort.Strings(got)
	assert.Equal(t, []string{
		"optimized/c1=refund approved", "optimized/c2=order ships monday", "optimized/c3=card replaced",
		"raw/c1=the refund was approved", "raw/c2=the order ships monday", "raw/c3=the card was replaced",
	}, got, "each target has its own variant's rows; the draft row is filtered out of the dataset")
	assert.Contains(t, stdout, "exact_match")
	assert.Contains(t, stdout, "3 pairs", "the two systems pair by call id")
}

func TestRunTargetFilterThatMatchesNothingIsAnError(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "d.csv"), []byte("sample_id,question,answer_source_llm,variant\n1,q,a,raw\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "evalgate.yaml"), []byte(`version: 1
name: t
dataset: {path: d.csv}
targets:
  - {id: a, provider: recorded, model: m, filter: [{column: variant, equals: optimised}]}
metrics: [f1]
`), 0o644))
	code, _, stderr := invoke(t, context.Background(), "run", "--config", filepath.Join(dir, "evalgate.yaml"), "--progress", "off")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, stderr, "target a sees no sample: no row matches its filter")
}

// TestValidateFindsSingleBracePlaceholders: a prompt written for another tool
// ({TRANSCRIPT}) no longer validates as ok.
func TestValidateFindsSingleBracePlaceholders(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "d.jsonl"), []byte(`{"sample_id":"1","transcript":"t","answer_ground_truth":"a"}`+"\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "p.txt"), []byte("Summarize.\n{TRANSCRIPT}\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "evalgate.yaml"), []byte(`version: 1
name: t
dataset: {path: d.jsonl}
prompts: {p: p.txt}
targets: [{id: a, provider: bedrock, model: m, prompt: p}]
metrics: [f1]
`), 0o644))
	code, stdout, stderr := invoke(t, context.Background(), "validate", "--config", filepath.Join(dir, "evalgate.yaml"))
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, stdout, "error: p.txt line 2 column 1 (prompt p, user part): {TRANSCRIPT} looks like a placeholder for column transcript")
	assert.Contains(t, stderr, "1 problem to fix")
}
