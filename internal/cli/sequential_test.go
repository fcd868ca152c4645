package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/gate"
	"github.com/evalgate/evalgate/internal/results"
)

// sequentialSuite writes a suite of n samples whose two recorded targets
// answer alike (cand's answer is wrong on the samples wrong says), gated on
// f1 with the given criterion.
func sequentialSuite(t *testing.T, n int, wrong func(i int) bool, criterion, runYAML string) string {
	t.Helper()
	dir := t.TempDir()
	var data strings.Builder
	for i := range n {
		cand := fmt.Sprintf("answer number %d", i)
		if wrong(i) {
			cand = "no idea"
		}
		fmt.Fprintf(&data, `{"sample_id":"s%03d","question":"q%d","answer_ground_truth":"answer number %d","answer_source_llm":"answer number %d","answer_cand":%q}`+"\n", i, i, i, i, cand)
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "data.jsonl"), []byte(data.String()), 0o644))
	cfg := `version: 1
name: seq
dataset: {path: data.jsonl}
targets:
  - {id: source, provider: recorded, model: gpt-4o-mini}
  - {id: cand, provider: recorded, model: gpt-4o-mini, fields: {output: answer_cand}}
metrics: [f1]
criteria:
  - ` + criterion + `
gate: {baseline: source, target: cand}
run:
  results: out.jsonl
` + runYAML
	require.NoError(t, os.WriteFile(filepath.Join(dir, "evalgate.yaml"), []byte(cfg), 0o644))
	return dir
}

// A clear pass stops at the first look: every record it needed is written,
// the results say why it stopped, and the verdict is that look's.
func TestSequentialRunStopsOnAClearPass(t *testing.T) {
	t.Parallel()
	// One call at a time: recorded answers take microseconds, and with
	// several in flight one slow goroutine could hold the first look back
	// until every call is done.
	dir := sequentialSuite(t, 200, func(int) bool { return false }, "{metric: f1, max_drop: 0.3}", "  sequential: true\n  concurrency: 1\n")
	code, stdout, stderr := invoke(t, context.Background(), "run", "--config", filepath.Join(dir, "evalgate.yaml"), "--progress", "off")
	require.Equal(t, ExitPass, code, "stdout: %s\nstderr: %s", stdout, stderr)
	assert.Contains(t, stderr, "sequential run: 200 samples in a random order (seed 1), looks after 40, 70, 100, 150, 200 samples")

	_, recs, sum, err := results.ReadAll(filepath.Join(dir, "out.jsonl"))
	require.NoError(t, err)
	require.NotNil(t, sum)
	assert.Equal(t, results.StatusComplete, sum.Status)
	require.NotNil(t, sum.Sequential)
	s := sum.Sequential
	assert.True(t, s.Stopped)
	assert.Equal(t, []int{40}, s.Looks)
	assert.Equal(t, "all 1 fail-severity checks settled (1 shown within the limit, 0 past it)", s.Reason)
	// The first 40 samples of the seeded order, on both targets; calls in
	// flight when it stopped may have added a few more.
	used := map[string]int{}
	for _, r := range recs {
		if s.Uses(r.SampleID) {
			used[r.Target]++
		}
	}
	assert.Equal(t, map[string]int{"source": 40, "cand": 40}, used)
	assert.Less(t, len(recs), 90, "the run stopped calling")

	assert.Contains(t, stdout, "verdict: PASS")
	assert.Contains(t, stdout, "Sequential run (seed 1): stopped at look 1 of 5, after 40 of 200 samples (20%): all 1 fail-severity checks settled (1 shown within the limit, 0 past it); decided at the look's one-sided level 0.001 of the gate's 0.025 (99.8% intervals).")
	md, err := os.ReadFile(filepath.Join(dir, "out.report.md"))
	require.NoError(t, err)
	assert.Contains(t, string(md), `Sequential run \(seed 1\)\: stopped at look 1 of 5, after 40 of 200 samples \(20%\)`)
	assert.Contains(t, string(md), "99.8% confidence")
	assert.Contains(t, string(md), "intervals at 99.8% (a sequential run's look)")

	// evalgate compare on the file judges the same look.
	code, cmpOut, _ := invoke(t, context.Background(), "compare", "--baseline", filepath.Join(dir, "out.jsonl#source"),
		"--target", filepath.Join(dir, "out.jsonl#cand"), "--config", filepath.Join(dir, "evalgate.yaml"))
	assert.Equal(t, ExitPass, code)
	assert.Contains(t, cmpOut, "40 pairs")
}

// A borderline case settles at no look: the run calls every sample and is
// judged on all of them at the level left for the final look.
func TestSequentialRunGoesToTheEndWhenBorderline(t *testing.T) {
	t.Parallel()
	// One answer in ten is wrong: a drop of 0.1 against an allowed 0.1.
	dir := sequentialSuite(t, 100, func(i int) bool { return i%10 == 3 }, "{metric: f1, max_drop: 0.1}", "  sequential: true\n  sequential_seed: 9\n")
	code, stdout, stderr := invoke(t, context.Background(), "run", "--config", filepath.Join(dir, "evalgate.yaml"), "--progress", "off")
	require.NotEqual(t, ExitUsage, code, "stderr: %s", stderr)
	_, recs, sum, err := results.ReadAll(filepath.Join(dir, "out.jsonl"))
	require.NoError(t, err)
	assert.Len(t, recs, 200)
	require.NotNil(t, sum.Sequential)
	assert.False(t, sum.Sequential.Stopped)
	assert.Equal(t, []int{20, 35, 50, 75}, sum.Sequential.Looks)
	assert.Equal(t, uint64(9), sum.Sequential.Seed)
	assert.Contains(t, sum.Sequential.Reason, "at look 4 of 5 (75 samples): 1 of 1 fail-severity checks not settled (f1 max_drop)")
	level, _, err := gate.LookLevel(0.025, sum.Sequential, 100)
	require.NoError(t, err)
	// The final look of the default design: more than the union bound's
	// α·(1 − 0.75²) = 0.0109, since a path that crossed an earlier
	// boundary stopped there.
	assert.InDelta(t, 0.0181, level, 1e-4)
	assert.Contains(t, stdout, "Sequential run (seed 9): used 100 of 100 samples, judged at look 5 of 5")
}

func TestSequentialRunNeedsABaseline(t *testing.T) {
	t.Parallel()
	dir := sequentialSuite(t, 20, func(int) bool { return false }, "{metric: f1, max_drop: 0.3}", "  sequential: true\n")
	cfg := filepath.Join(dir, "evalgate.yaml")
	b, err := os.ReadFile(cfg)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(cfg, []byte(strings.Replace(string(b), "gate: {baseline: source, target: cand}\n", "", 1)), 0o644))
	code, _, stderr := invoke(t, context.Background(), "run", "--config", cfg, "--progress", "off")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, stderr, "run.sequential stops calling once the verdict is settled, so it needs a verdict")

	code, _, stderr = invoke(t, context.Background(), "run", "--config", cfg, "--progress", "off", "--sequential=false", "--shard", "1/2")
	assert.Equal(t, ExitPass, code, stderr)
	code, _, stderr = invoke(t, context.Background(), "run", "--config", cfg, "--progress", "off", "--shard", "1/2")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, stderr, "a sequential run decides when to stop on the whole suite's evidence")
}

// A clear regression stops early too, and fails the run.
func TestSequentialRunStopsOnAClearRegression(t *testing.T) {
	t.Parallel()
	dir := sequentialSuite(t, 200, func(i int) bool { return i%2 == 0 }, "{metric: f1, max_drop: 0.05}", "  sequential: true\n  concurrency: 1\n")
	code, stdout, stderr := invoke(t, context.Background(), "run", "--config", filepath.Join(dir, "evalgate.yaml"), "--progress", "off")
	assert.Equal(t, ExitRegressed, code, "stderr: %s", stderr)
	_, _, sum, err := results.ReadAll(filepath.Join(dir, "out.jsonl"))
	require.NoError(t, err)
	require.NotNil(t, sum.Sequential)
	assert.True(t, sum.Sequential.Stopped)
	assert.Equal(t, []int{40}, sum.Sequential.Looks)
	assert.Equal(t, "all 1 fail-severity checks settled (0 shown within the limit, 1 past it)", sum.Sequential.Reason)
	assert.Contains(t, stdout, "verdict: REGRESSED")
	assert.Contains(t, stdout, "the 99.8% interval is wholly past the limit")
}
