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

// TestCallsExampleTwoRecordedSystemsInTwoFiles runs examples/calls: each
// system's outputs and judge scores in its own file, paired by call_id,
// gated in one command.
func TestCallsExampleTwoRecordedSystemsInTwoFiles(t *testing.T) {
	t.Parallel()
	dir := copyExampleDir(t, "calls")
	out := filepath.Join(dir, "out.jsonl")
	code, stdout, stderr := invoke(t, context.Background(), "run", "--config", filepath.Join(dir, "evalgate.yaml"), "--out", out, "--progress", "off")
	require.Equal(t, ExitPass, code, "stdout: %s\nstderr: %s", stdout, stderr)
	assert.Contains(t, stdout, "nova-lite (amazon.nova-lite-v1:0) vs baseline haiku")
	assert.Contains(t, stdout, "12 pairs")

	_, recs, _, err := results.ReadAll(out)
	require.NoError(t, err)
	require.Len(t, recs, 24)
	got := map[string]float64{}
	for _, r := range recs {
		require.Nil(t, r.Error, "%s/%s", r.Target, r.SampleID)
		if r.SampleID == "c01" {
			got[r.Target] = r.Scores["alignment"]
		}
	}
	// Each target's score is its own file's (see data/*.csv, call c01).
	assert.Equal(t, map[string]float64{"haiku": 0.85, "nova-lite": 0.84}, got)
}

// TestColumnsCreditAMergedFile: the merged CSV, where the source's
// and the target's judge scores are two columns of one row; each target
// reads "alignment" from its own column, so both sides have the metric.
func TestColumnsCreditAMergedFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "merged.csv"), []byte(`call_id,transcript,summary_src,summary_tgt,alignment_src,alignment_tgt
c1,t1,s1,s1b,0.9,0.8
c2,t2,s2,s2b,0.8,0.8
c3,t3,s3,s3b,0.7,0.9
`), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "evalgate.yaml"), []byte(`version: 1
name: merged
dataset: {path: merged.csv, fields: {id: call_id, input: transcript}}
targets:
  - {id: src, provider: recorded, model: m, fields: {output: summary_src}, columns: {alignment: alignment_src}}
  - {id: tgt, provider: recorded, model: m, fields: {output: summary_tgt}, columns: {alignment: alignment_tgt}}
metrics: [{name: alignment, type: imported, field: alignment, min: 0, max: 1}]
gate: {baseline: src}
`), 0o644))
	code, stdout, stderr := invoke(t, context.Background(), "run", "--config", filepath.Join(dir, "evalgate.yaml"), "--progress", "off")
	require.NotEqual(t, ExitUsage, code, stderr)
	assert.NotContains(t, stdout+stderr, "there is no baseline")
	_, recs, _, err := results.ReadAll(filepath.Join(dir, ".evalgate", "results.jsonl"))
	require.NoError(t, err)
	sum := map[string]float64{}
	for _, r := range recs {
		sum[r.Target] += r.Scores["alignment"]
	}
	assert.InDelta(t, 2.4, sum["src"], 1e-9)
	assert.InDelta(t, 2.5, sum["tgt"], 1e-9)
}
