package gate

import (
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/evalgate/evalgate/internal/metric"
	"github.com/evalgate/evalgate/internal/results"
	"github.com/evalgate/evalgate/internal/suite"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func ptr[T any](v T) *T { return &v }

func drop(v float64) *suite.Margin    { return &suite.Margin{Value: v} }
func dropPct(v float64) *suite.Margin { return &suite.Margin{Value: v, Relative: true} }

// twoFiles writes a baseline and a target file and returns their sides.
func twoFiles(t *testing.T, b, tg sim, n, repeats int) (Side, Side) {
	t.Helper()
	bp, tp := tmp(t, "base.jsonl"), tmp(t, "target.jsonl")
	writeFile(t, bp, header("h1", defaultInfo, b.target), genRecords(b, n, repeats), true)
	writeFile(t, tp, header("h1", defaultInfo, tg.target), genRecords(tg, n, repeats), true)
	return Side{Path: bp}, Side{Path: tp}
}

func TestCompareVerdicts(t *testing.T) {
	t.Parallel()
	base := sim{target: "prod", latency: 800, cost: 0.002, seed: 1}
	tests := []struct {
		name     string
		target   sim
		n        int
		repeats  int
		cfg      Config
		status   Status
		blocks   bool
		checks   []CriterionStatus
		reasonIn string
	}{
		{
			name:   "same system passes in regression mode",
			target: sim{target: "cand", latency: 800, cost: 0.002, seed: 2},
			n:      200,
			cfg:    Config{Criteria: []suite.Criterion{{Metric: "correctness", MaxDrop: drop(0.05)}}},
			status: StatusPass, checks: []CriterionStatus{CheckPass},
		},
		{
			name:   "a drop of twice the margin regresses",
			target: sim{target: "cand", shift: -0.10, latency: 800, cost: 0.002, seed: 2},
			n:      200,
			cfg:    Config{Criteria: []suite.Criterion{{Metric: "correctness", MaxDrop: drop(0.05)}}},
			status: StatusRegressed, blocks: true, checks: []CriterionStatus{CheckFail},
		},
		{
			name:   "a warn severity does not fail",
			target: sim{target: "cand", shift: -0.10, latency: 800, cost: 0.002, seed: 2},
			n:      200,
			cfg:    Config{Criteria: []suite.Criterion{{Metric: "correctness", MaxDrop: drop(0.05), Severity: "warn"}}},
			status: StatusPass, checks: []CriterionStatus{CheckFail},
		},
		{
			name:   "non-inferiority shown with enough samples",
			target: sim{target: "cand", latency: 800, cost: 0.002, seed: 2},
			n:      300,
			cfg:    Config{Mode: suite.ModeNonInferiority, Criteria: []suite.Criterion{{Metric: "correctness", MaxDrop: drop(0.05)}}},
			status: StatusPass, checks: []CriterionStatus{CheckPass},
		},
		{
			name:   "non-inferiority not shown on a small suite does not pass",
			target: sim{target: "cand", shift: -0.02, latency: 800, cost: 0.002, seed: 2},
			n:      12,
			cfg:    Config{Mode: suite.ModeNonInferiority, Criteria: []suite.Criterion{{Metric: "exact_match", MaxDrop: drop(0.05)}}},
			status: StatusInconclusive, blocks: true, checks: []CriterionStatus{CheckInconclusive},
		},
		{
			name:   "cost doubling breaks a 10% allowance",
			target: sim{target: "cand", latency: 800, cost: 0.004, seed: 2},
			n:      100,
			cfg:    Config{Criteria: []suite.Criterion{{Metric: "cost_per_1k", MaxIncrease: dropPct(0.10)}}},
			status: StatusRegressed, blocks: true, checks: []CriterionStatus{CheckFail},
		},
		{
			name:   "latency p95 within 25%",
			target: sim{target: "cand", latency: 780, cost: 0.002, seed: 2},
			n:      300,
			cfg:    Config{Criteria: []suite.Criterion{{Metric: "latency_p95", MaxIncrease: dropPct(0.25)}}},
			status: StatusPass, checks: []CriterionStatus{CheckPass},
		},
		{
			name:   "floor and drop give two checks",
			target: sim{target: "cand", latency: 800, cost: 0.002, seed: 2},
			n:      200,
			cfg:    Config{Criteria: []suite.Criterion{{Metric: "correctness", Min: ptr(0.9), MaxDrop: drop(0.05)}}},
			status: StatusRegressed, blocks: true, checks: []CriterionStatus{CheckFail, CheckPass},
		},
		{
			name:   "a criterion on a metric neither side has is an error",
			target: sim{target: "cand", latency: 800, cost: 0.002, seed: 2},
			n:      50,
			cfg:    Config{Criteria: []suite.Criterion{{Metric: "bleu", MaxDrop: drop(0.05)}}},
			status: StatusError, checks: []CriterionStatus{CheckError}, reasonIn: `metric "bleu" is in neither results file`,
		},
		{
			name:   "max_increase on a higher-is-better metric is an error",
			target: sim{target: "cand", latency: 800, cost: 0.002, seed: 2},
			n:      50,
			cfg:    Config{Criteria: []suite.Criterion{{Metric: "correctness", MaxIncrease: drop(0.05)}}},
			status: StatusError, checks: []CriterionStatus{CheckError}, reasonIn: "use max_drop",
		},
		{
			name:   "a criterion without bounds is an error",
			target: sim{target: "cand", latency: 800, cost: 0.002, seed: 2},
			n:      50,
			cfg:    Config{Criteria: []suite.Criterion{{Metric: "correctness"}}},
			status: StatusError, checks: []CriterionStatus{CheckError},
		},
		{
			name:   "repeats cluster by sample",
			target: sim{target: "cand", latency: 800, cost: 0.002, seed: 2},
			n:      60, repeats: 3,
			cfg:    Config{Criteria: []suite.Criterion{{Metric: "exact_match", MaxDrop: drop(0.15)}}},
			status: StatusPass, checks: []CriterionStatus{CheckPass},
		},
		{
			name:   "no criteria compares only",
			target: sim{target: "cand", latency: 800, cost: 0.002, seed: 2},
			n:      20,
			status: StatusPass,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reps := max(tc.repeats, 1)
			bs, ts := twoFiles(t, base, tc.target, tc.n, reps)
			v, err := Compare(context.Background(), bs, ts, tc.cfg)
			require.NoError(t, err)
			assert.Equal(t, tc.status, v.Status, v.Reason)
			assert.Equal(t, tc.blocks, v.Blocks())
			var got []CriterionStatus
			for _, c := range v.Criteria {
				got = append(got, c.Status)
				assert.NotEmpty(t, c.Reason)
			}
			assert.Equal(t, tc.checks, got)
			assert.Equal(t, tc.n*reps, v.Pairs)
			assert.Contains(t, v.Reason, tc.reasonIn)
			if reps > 1 {
				assert.Equal(t, "sample_id", v.Cluster)
				assert.Equal(t, tc.n, v.Clusters)
				require.Len(t, v.Flips, 1)
				assert.Equal(t, "exact_match", v.Flips[0].Metric)
			}
		})
	}
}

func TestCompareBadInput(t *testing.T) {
	t.Parallel()
	recs := func(target string) []results.Record {
		return genRecords(sim{target: target, latency: 500, cost: 0.001, seed: 3}, 40, 1)
	}
	tests := []struct {
		name    string
		setup   func(t *testing.T) (Side, Side)
		wantErr string
	}{
		{
			name: "baseline without its summary line",
			setup: func(t *testing.T) (Side, Side) {
				bp, tp := tmp(t, "b.jsonl"), tmp(t, "t.jsonl")
				writeFile(t, bp, header("h", defaultInfo, "prod"), recs("prod"), false)
				writeFile(t, tp, header("h", defaultInfo, "cand"), recs("cand"), true)
				return Side{Path: bp}, Side{Path: tp}
			},
			wantErr: "ends without a summary line",
		},
		{
			name: "baseline cut mid-record",
			setup: func(t *testing.T) (Side, Side) {
				bp, tp := tmp(t, "b.jsonl"), tmp(t, "t.jsonl")
				writeFile(t, bp, header("h", defaultInfo, "prod"), recs("prod"), false)
				st, err := os.Stat(bp)
				require.NoError(t, err)
				require.NoError(t, os.Truncate(bp, st.Size()-30))
				writeFile(t, tp, header("h", defaultInfo, "cand"), recs("cand"), true)
				return Side{Path: bp}, Side{Path: tp}
			},
			wantErr: "truncated",
		},
		{
			name: "results of different suites",
			setup: func(t *testing.T) (Side, Side) {
				bp, tp := tmp(t, "b.jsonl"), tmp(t, "t.jsonl")
				h := header("h", defaultInfo, "prod")
				h.Suite = "other"
				writeFile(t, bp, h, recs("prod"), true)
				writeFile(t, tp, header("h", defaultInfo, "cand"), recs("cand"), true)
				return Side{Path: bp}, Side{Path: tp}
			},
			wantErr: "not comparable",
		},
		{
			name: "a metric defined the other way round",
			setup: func(t *testing.T) (Side, Side) {
				bp, tp := tmp(t, "b.jsonl"), tmp(t, "t.jsonl")
				flipped := infoScore
				flipped.Direction = metric.LowerIsBetter
				writeFile(t, bp, header("h", []metric.Info{flipped, infoPass}, "prod"), recs("prod"), true)
				writeFile(t, tp, header("h", defaultInfo, "cand"), recs("cand"), true)
				return Side{Path: bp}, Side{Path: tp}
			},
			wantErr: "defined differently",
		},
		{
			name: "a file with several targets and none named",
			setup: func(t *testing.T) (Side, Side) {
				p := tmp(t, "r.jsonl")
				writeFile(t, p, header("h", defaultInfo, "prod", "cand"), append(recs("prod"), recs("cand")...), true)
				return Side{Path: p}, Side{Path: p, Target: "cand"}
			},
			wantErr: "name one as FILE#target",
		},
		{
			name: "an unknown target",
			setup: func(t *testing.T) (Side, Side) {
				p := tmp(t, "r.jsonl")
				writeFile(t, p, header("h", defaultInfo, "prod", "cand"), append(recs("prod"), recs("cand")...), true)
				return Side{Path: p, Target: "prod"}, Side{Path: p, Target: "nope"}
			},
			wantErr: `no target "nope" (targets: prod, cand)`,
		},
		{
			name: "duplicate records",
			setup: func(t *testing.T) (Side, Side) {
				bp, tp := tmp(t, "b.jsonl"), tmp(t, "t.jsonl")
				writeFile(t, bp, header("h", defaultInfo, "prod"), append(recs("prod"), recs("prod")[0]), true)
				writeFile(t, tp, header("h", defaultInfo, "cand"), recs("cand"), true)
				return Side{Path: bp}, Side{Path: tp}
			},
			wantErr: "two records for sample",
		},
		{
			name: "a missing file",
			setup: func(t *testing.T) (Side, Side) {
				return Side{Path: tmp(t, "nope.jsonl")}, Side{Path: tmp(t, "nope2.jsonl")}
			},
			wantErr: "baseline results",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, tg := tc.setup(t)
			_, err := Compare(context.Background(), b, tg, Config{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
		})
	}
}

func TestComparePartialData(t *testing.T) {
	t.Parallel()
	crit := []suite.Criterion{{Metric: "correctness", MaxDrop: drop(0.05)}}
	t.Run("no shared samples is incomplete, never a pass", func(t *testing.T) {
		t.Parallel()
		bp, tp := tmp(t, "b.jsonl"), tmp(t, "t.jsonl")
		b := genRecords(sim{target: "prod", seed: 1}, 10, 1)
		tr := genRecords(sim{target: "cand", seed: 2}, 10, 1)
		for i := range tr {
			tr[i].SampleID = "other-" + tr[i].SampleID
		}
		writeFile(t, bp, header("h", defaultInfo, "prod"), b, true)
		writeFile(t, tp, header("h", defaultInfo, "cand"), tr, true)
		v, err := Compare(context.Background(), Side{Path: bp}, Side{Path: tp}, Config{Criteria: crit})
		require.NoError(t, err)
		assert.Equal(t, StatusIncomplete, v.Status)
		assert.False(t, v.Passes(), "incomplete is never a pass")
		assert.Equal(t, 10, v.BaselineOnlyCount)
		assert.Equal(t, 10, v.TargetOnlyCount)
		assert.Contains(t, v.Reason, "no (sample id, repeat) pair")
	})
	t.Run("every target call failed is incomplete", func(t *testing.T) {
		t.Parallel()
		bp, tp := tmp(t, "b.jsonl"), tmp(t, "t.jsonl")
		tr := genRecords(sim{target: "cand", seed: 2}, 10, 1)
		for i := range tr {
			tr[i].Scores, tr[i].Error = nil, &results.RecordError{Kind: "auth", Message: "denied"}
		}
		writeFile(t, bp, header("h", defaultInfo, "prod"), genRecords(sim{target: "prod", seed: 1}, 10, 1), true)
		writeFile(t, tp, header("h", defaultInfo, "cand"), tr, true)
		v, err := Compare(context.Background(), Side{Path: bp}, Side{Path: tp}, Config{Criteria: crit})
		require.NoError(t, err)
		assert.Equal(t, StatusIncomplete, v.Status)
		assert.False(t, v.Passes(), "incomplete is never a pass")
		require.Len(t, v.Criteria, 1)
		assert.Equal(t, CheckInconclusive, v.Criteria[0].Status)
	})
	t.Run("a metric only the target has is inconclusive; its floor is checked", func(t *testing.T) {
		t.Parallel()
		bp, tp := tmp(t, "b.jsonl"), tmp(t, "t.jsonl")
		b := genRecords(sim{target: "prod", seed: 1}, 50, 1)
		for i := range b {
			delete(b[i].Scores, "correctness")
		}
		writeFile(t, bp, header("h", []metric.Info{infoPass}, "prod"), b, true)
		writeFile(t, tp, header("h", defaultInfo, "cand"), genRecords(sim{target: "cand", seed: 2}, 50, 1), true)
		v, err := Compare(context.Background(), Side{Path: bp}, Side{Path: tp},
			Config{Criteria: []suite.Criterion{{Metric: "correctness", MaxDrop: drop(0.05), Min: ptr(0.1)}}})
		require.NoError(t, err)
		require.Len(t, v.Criteria, 2)
		assert.Equal(t, CheckPass, v.Criteria[0].Status, v.Criteria[0].Reason)
		assert.Equal(t, CheckInconclusive, v.Criteria[1].Status)
		assert.Contains(t, v.Criteria[1].Reason, "the baseline has no score for correctness")
		assert.Equal(t, StatusInconclusive, v.Status)
		assert.True(t, v.Passes(), "regression mode: inconclusive does not fail")
	})
	t.Run("missing scores are left out and said", func(t *testing.T) {
		t.Parallel()
		bp, tp := tmp(t, "b.jsonl"), tmp(t, "t.jsonl")
		tr := genRecords(sim{target: "cand", seed: 2}, 40, 1)
		for i := 0; i < 10; i++ {
			delete(tr[i].Scores, "correctness")
			tr[i].ScoreErrors = map[string]string{"correctness": "judge failed"}
		}
		writeFile(t, bp, header("h", defaultInfo, "prod"), genRecords(sim{target: "prod", seed: 1}, 40, 1), true)
		writeFile(t, tp, header("h", defaultInfo, "cand"), tr, true)
		v, err := Compare(context.Background(), Side{Path: bp}, Side{Path: tp},
			Config{Criteria: []suite.Criterion{{Metric: "correctness", MaxErrorRate: ptr(0.5)}}})
		require.NoError(t, err)
		assert.Equal(t, 30, v.Metrics[0].N)
		assert.Equal(t, 10, v.Metrics[0].Missing)
		assert.Contains(t, v.Warnings[0], "10 of 40 pairs lack a score")
		assert.InDelta(t, 0.25, float64(v.Criteria[0].Target), 1e-12)
		assert.Equal(t, CheckPass, v.Criteria[0].Status, v.Criteria[0].Reason)
	})
	t.Run("a changed suite hash warns", func(t *testing.T) {
		t.Parallel()
		bp, tp := tmp(t, "b.jsonl"), tmp(t, "t.jsonl")
		writeFile(t, bp, header("aaaa", defaultInfo, "prod"), genRecords(sim{target: "prod", seed: 1}, 30, 1), true)
		writeFile(t, tp, header("bbbb", defaultInfo, "cand"), genRecords(sim{target: "cand", seed: 2}, 30, 1), true)
		v, err := Compare(context.Background(), Side{Path: bp}, Side{Path: tp}, Config{})
		require.NoError(t, err)
		require.NotEmpty(t, v.Warnings)
		assert.Contains(t, v.Warnings[0], "the suite changed between the runs")
	})
}

func TestCompareTwoTargetsOfOneFile(t *testing.T) {
	t.Parallel()
	p := tmp(t, "r.jsonl")
	h := header("h", []metric.Info{infoScore, infoPass, infoJudge, infoHuman}, "source", "cand")
	var recs []results.Record
	for _, s := range []sim{{target: "source", latency: 900, cost: 0.003, seed: 1}, {target: "cand", latency: 600, cost: 0.001, seed: 2}} {
		for i, r := range genRecords(s, 80, 1) {
			j := float64(i%10) / 10
			r.Scores["llm_judge_score_source_llm"] = j
			r.Scores["human_score_source_llm"] = float64((i+i/10)%10) / 10
			recs = append(recs, r)
		}
	}
	writeFile(t, p, h, recs, true)
	v, err := Compare(context.Background(), Side{Path: p, Target: "source"}, Side{Path: p, Target: "cand"},
		Config{MonthlyCalls: 1_000_000, Criteria: []suite.Criterion{{Metric: "cost_per_1k", MaxIncrease: dropPct(0)}}})
	require.NoError(t, err)
	assert.Equal(t, StatusPass, v.Status, v.Reason)
	assert.Equal(t, "source", v.Baseline.Target)
	assert.Equal(t, "cand", v.Target.Target)
	assert.Equal(t, 80, v.Pairs)
	require.True(t, v.Cost.Known)
	assert.InDelta(t, 3.0, float64(v.Cost.BaselinePer1K), 0.2)
	assert.InDelta(t, 1000.0, float64(v.Cost.TargetMonthly), 60)
	require.Len(t, v.Agreement, 2, "judge/human found by name, on each side")
	assert.Equal(t, "llm_judge_score_source_llm", v.Agreement[0].Judge)
	assert.Equal(t, 80, v.Agreement[0].N)
	require.NotEmpty(t, v.Regressed)
	assert.NotEmpty(t, v.Regressed[0].TargetOutput)
	assert.Contains(t, v.Regressed[0].BaselineOutput, "source says")
	assert.Contains(t, v.Regressed[0].TargetOutput, "cand says")
}

func TestCompareIsReproducible(t *testing.T) {
	t.Parallel()
	bs, ts := twoFiles(t, sim{target: "prod", latency: 700, cost: 0.002, seed: 1}, sim{target: "cand", shift: -0.02, latency: 750, cost: 0.002, seed: 2}, 25, 1)
	cfg := Config{Criteria: []suite.Criterion{
		{Metric: "correctness", MaxDrop: dropPct(0.05)},
		{Metric: "latency_p95", MaxIncrease: dropPct(0.2)},
	}}
	v1, err := Compare(context.Background(), bs, ts, cfg)
	require.NoError(t, err)
	v2, err := Compare(context.Background(), bs, ts, cfg)
	require.NoError(t, err)
	j1, err := json.Marshal(v1)
	require.NoError(t, err)
	j2, err := json.Marshal(v2)
	require.NoError(t, err)
	assert.JSONEq(t, string(j1), string(j2))
	assert.Equal(t, MethodPairedT, v1.Metrics[0].Delta.Method, "no resampling at any n")
}

func TestCompareCancelled(t *testing.T) {
	t.Parallel()
	bs, ts := twoFiles(t, sim{target: "prod", seed: 1}, sim{target: "cand", seed: 2}, 10, 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Compare(ctx, bs, ts, Config{})
	require.ErrorIs(t, err, context.Canceled)
}

func TestParseSide(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    Side
		wantErr bool
	}{
		{in: "a.jsonl", want: Side{Path: "a.jsonl"}},
		{in: "a.jsonl#prod", want: Side{Path: "a.jsonl", Target: "prod"}},
		{in: "dir#1/a.jsonl#prod", want: Side{Path: "dir#1/a.jsonl", Target: "prod"}},
		{in: "a.jsonl#", wantErr: true},
		{in: "#prod", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tc := range tests {
		got, err := ParseSide(tc.in)
		if tc.wantErr {
			assert.Error(t, err, tc.in)
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, tc.want, got)
		assert.Equal(t, tc.in, got.String())
	}
}
