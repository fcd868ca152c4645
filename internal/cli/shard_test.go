package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/results"
	"github.com/evalgate/evalgate/internal/shard"
)

// verdictOf reads the parts of a JSON verdict that decide the gate.
func verdictOf(t *testing.T, path string) (status string, pairs int, criteria []string) {
	t.Helper()
	var v struct {
		Status   string `json:"status"`
		Pairs    int    `json:"pairs"`
		Criteria []struct {
			Metric string `json:"metric"`
			Status string `json:"status"`
		} `json:"criteria"`
	}
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &v))
	for _, c := range v.Criteria {
		criteria = append(criteria, c.Metric+"="+c.Status)
	}
	return v.Status, v.Pairs, criteria
}

// The bundled example run in 3 shards and merged gets the verdict of the
// unsharded run, through evalgate compare and through a run's --baseline.
func TestShardedRunMergedGatesLikeOneRun(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := copyExample(t)
	cfg := filepath.Join(dir, "evalgate.yaml")
	whole := filepath.Join(dir, "whole.jsonl")
	code, _, stderr := invoke(t, ctx, "run", "--config", cfg, "--out", whole, "--progress", "off")
	require.Equal(t, ExitPass, code, stderr)

	var shards []string
	for i := 1; i <= 3; i++ {
		p := filepath.Join(dir, fmt.Sprintf("shard%d.jsonl", i))
		code, stdout, stderr := invoke(t, ctx, "run", "--config", cfg, "--shard", fmt.Sprintf("%d/3", i), "--out", p, "--progress", "off")
		require.Equal(t, ExitPass, code, stderr)
		assert.Contains(t, stdout, fmt.Sprintf("gate skipped: shard %d/3 holds part of the dataset", i))
		assert.NotContains(t, stdout, "verdict:", "a shard is not gated alone")
		h, recs, _, err := results.ReadAll(p)
		require.NoError(t, err)
		require.NotNil(t, h.Shard)
		assert.Equal(t, results.Shard{Index: i, Count: 3}, *h.Shard, "the header records the shard")
		assert.NotEmpty(t, recs)
		for _, r := range recs {
			assert.Equal(t, i, shard.Of(r.SampleID, 3), r.SampleID)
		}
		shards = append(shards, p)
	}
	merged := filepath.Join(dir, "merged.jsonl")
	code, stdout, stderr := invoke(t, ctx, "merge", merged, shards[2], shards[0], shards[1])
	require.Equal(t, ExitPass, code, stderr)
	assert.Contains(t, stdout, "merged 3 shards (60 records) into "+merged+": complete")
	_, wholeRecs, wholeSum, err := results.ReadAll(whole)
	require.NoError(t, err)
	_, mergedRecs, mergedSum, err := results.ReadAll(merged)
	require.NoError(t, err)
	assert.Len(t, mergedRecs, len(wholeRecs))
	for i, ts := range mergedSum.Targets {
		w := wholeSum.Targets[i]
		assert.Equal(t, w.Records, ts.Records, ts.ID)
		assert.InDelta(t, w.Means["f1"], ts.Means["f1"], 1e-9, ts.ID)
		assert.InDelta(t, *w.CostUSD, *ts.CostUSD, 1e-12, ts.ID)
		assert.Equal(t, w.LatencyP95MS, ts.LatencyP95MS, ts.ID)
	}

	wantStatus, wantPairs, wantCriteria := verdictOf(t, filepath.Join(dir, "whole.verdict.json"))
	require.Equal(t, "pass", wantStatus)
	require.NotEmpty(t, wantCriteria)
	// evalgate compare on the merged file.
	vpath := filepath.Join(dir, "compare.json")
	code, _, stderr = invoke(t, ctx, "compare", "--config", cfg, "--baseline", merged+"#source", "--target", merged+"#nova-lite", "--format", "json", "--out", vpath)
	require.Equal(t, ExitPass, code, stderr)
	status, pairs, criteria := verdictOf(t, vpath)
	assert.Equal(t, wantStatus, status)
	assert.Equal(t, wantPairs, pairs)
	assert.Equal(t, wantCriteria, criteria)

	// The merged file as a later run's baseline: the same answers pass.
	again := filepath.Join(dir, "again.jsonl")
	code, stdout, stderr = invoke(t, ctx, "run", "--config", cfg, "--targets", "nova-lite", "--baseline", merged+"#nova-lite", "--out", again, "--progress", "off")
	require.Equal(t, ExitPass, code, stderr)
	assert.Contains(t, stdout, "verdict: PASS")
	_, pairs, _ = verdictOf(t, filepath.Join(dir, "again.verdict.json"))
	assert.Equal(t, 30, pairs)
}

// A shard that holds no sample of a small dataset is its whole share: it
// succeeds with an empty results file, which the merge needs like any other.
func TestEmptyShardSucceeds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := copyExample(t)
	cfg := filepath.Join(dir, "evalgate.yaml")
	const n = 64
	used := map[int]bool{}
	for i := 1; i <= 30; i++ {
		used[shard.Of(fmt.Sprintf("kb-%03d", i), n)] = true
	}
	empty := 0
	for i := 1; i <= n && empty == 0; i++ {
		if !used[i] {
			empty = i
		}
	}
	require.NotZero(t, empty, "30 samples leave some of 64 shards empty")
	p := filepath.Join(dir, "empty.jsonl")
	code, stdout, stderr := invoke(t, ctx, "run", "--config", cfg, "--shard", fmt.Sprintf("%d/%d", empty, n), "--out", p, "--progress", "off")
	require.Equal(t, ExitPass, code, "stdout: %s\nstderr: %s", stdout, stderr)
	_, recs, sum, err := results.ReadAll(p)
	require.NoError(t, err)
	assert.Empty(t, recs)
	assert.Equal(t, results.StatusComplete, sum.Status)
}

func TestShardAndMergeUsageErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := copyExample(t)
	cfg := filepath.Join(dir, "evalgate.yaml")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--config", cfg, "--shard", "0/3"}, `--shard "0/3": i must be between 1 and 3 (shards count from 1)`},
		{[]string{"run", "--config", cfg, "--shard", "2"}, `--shard "2": write the shard as i/N`},
		{[]string{"merge", "only.jsonl"}, "give the merged results file, then every shard's results"},
		{[]string{"merge", "a.jsonl", "a.jsonl", "b.jsonl"}, "is also given as a shard"},
		{[]string{"merge", filepath.Join(dir, "m.jsonl"), filepath.Join(dir, "nope.jsonl")}, "nope.jsonl"},
	} {
		code, _, stderr := invoke(t, ctx, tc.args...)
		assert.Equal(t, ExitUsage, code, "%v: %s", tc.args, stderr)
		assert.Contains(t, stderr, tc.want, tc.args)
	}
	// The refusals of a real merge are usage errors naming the files.
	p := filepath.Join(dir, "s1.jsonl")
	code, _, stderr := invoke(t, ctx, "run", "--config", cfg, "--shard", "1/2", "--out", p, "--progress", "off")
	require.Equal(t, ExitPass, code, stderr)
	code, _, stderr = invoke(t, ctx, "merge", filepath.Join(dir, "m.jsonl"), p)
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, stderr, "missing shard 2/2")
	assert.Contains(t, stderr, p)

	// One shard is not gated as if it were the whole run.
	const notWhole = "holds shard 1/2 of a run, not the whole run: merge every shard first"
	code, _, stderr = invoke(t, ctx, "compare", "--baseline", p+"#source", "--target", p+"#nova-lite")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, stderr, p+" "+notWhole)
	code, _, stderr = invoke(t, ctx, "run", "--config", cfg, "--targets", "nova-lite", "--baseline", p+"#nova-lite", "--out", filepath.Join(dir, "b.jsonl"), "--progress", "off")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, stderr, notWhole)
}
