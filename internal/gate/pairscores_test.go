package gate

import (
	"context"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/metric"
	"github.com/evalgate/evalgate/internal/suite"
)

var infoPreference = metric.Info{Name: "preference", Min: 0, Max: 1, Direction: metric.HigherIsBetter}

// prefs scores n pairs: the target wins w of them, ties t, loses the rest.
func prefs(n, w, ties int) map[PairKey]float64 {
	out := map[PairKey]float64{}
	for i := range n {
		s := 0.0
		switch {
		case i < w:
			s = 1
		case i < w+ties:
			s = 0.5
		}
		out[PairKey{SampleID: "s" + strconv.Itoa(1000+i), Repeat: 0}] = s
	}
	return out
}

func TestPairScoresAreCheckedLikeAnyMetric(t *testing.T) {
	t.Parallel()
	path := tmp(t, "run.jsonl")
	base := genRecords(sim{target: "prod", latency: 800, cost: 0.002, seed: 1}, 200, 1)
	cand := genRecords(sim{target: "cand", latency: 800, cost: 0.002, seed: 2}, 200, 1)
	writeFile(t, path, header("h", defaultInfo, "prod", "cand"), append(base, cand...), true)
	floor := 0.5
	tests := []struct {
		name   string
		scores map[PairKey]float64
		mode   suite.Mode
		status CriterionStatus
		rate   float64
	}{
		// The target is preferred in 130 of 200 pairs: clearly above an even split.
		{"clear win passes non-inferiority", prefs(200, 130, 0), suite.ModeNonInferiority, CheckPass, 0.65},
		// Preferred in 60, ties in 20: win rate 0.35, significantly below 0.5.
		{"clear loss fails regression", prefs(200, 60, 20), suite.ModeRegression, CheckFail, 0.35},
		// An even split cannot show a win rate of at least 0.5.
		{"even split is inconclusive in non-inferiority", prefs(200, 90, 20), suite.ModeNonInferiority, CheckInconclusive, 0.5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := Config{
				Mode:       tc.mode,
				Criteria:   []suite.Criterion{{Metric: "preference", Min: &floor}},
				PairScores: []PairScores{{Info: infoPreference, Scores: tc.scores}},
			}
			v, err := Compare(context.Background(), Side{Path: path, Target: "prod"}, Side{Path: path, Target: "cand"}, cfg)
			require.NoError(t, err)
			require.Len(t, v.Criteria, 1)
			assert.Equal(t, tc.status, v.Criteria[0].Status, v.Criteria[0].Reason)
			assert.InDelta(t, tc.rate, float64(v.Criteria[0].Target), 1e-9, "the target's mean is its win rate")
			var m *MetricComparison
			for i := range v.Metrics {
				if v.Metrics[i].Metric == "preference" {
					m = &v.Metrics[i]
				}
			}
			require.NotNil(t, m, "the pairwise metric is compared like the others")
			assert.Equal(t, 200, m.N)
		})
	}
}

func TestUndecidedPairsAreMissingNotTies(t *testing.T) {
	t.Parallel()
	path := tmp(t, "run.jsonl")
	base := genRecords(sim{target: "prod", latency: 800, cost: 0.002, seed: 1}, 50, 1)
	cand := genRecords(sim{target: "cand", latency: 800, cost: 0.002, seed: 2}, 50, 1)
	writeFile(t, path, header("h", defaultInfo, "prod", "cand"), append(base, cand...), true)
	scores := prefs(40, 30, 0) // 10 of the 50 pairs were not decided
	v, err := Compare(context.Background(), Side{Path: path, Target: "prod"}, Side{Path: path, Target: "cand"},
		Config{PairScores: []PairScores{{Info: infoPreference, Scores: scores}}})
	require.NoError(t, err)
	for _, m := range v.Metrics {
		if m.Metric == "preference" {
			assert.Equal(t, 40, m.N)
			assert.Equal(t, 10, m.Missing)
			return
		}
	}
	t.Fatal("no preference comparison")
}

func TestAnswersCutAtMaxTokensAreFlagged(t *testing.T) {
	t.Parallel()
	path := tmp(t, "run.jsonl")
	base := genRecords(sim{target: "prod", latency: 800, cost: 0.002, seed: 1}, 40, 1)
	cand := genRecords(sim{target: "cand", latency: 800, cost: 0.002, seed: 2}, 40, 1)
	for i := range 7 {
		cand[i].StopReason = "max_tokens"
	}
	writeFile(t, path, header("h", defaultInfo, "prod", "cand"), append(base, cand...), true)
	v, err := Compare(context.Background(), Side{Path: path, Target: "prod"}, Side{Path: path, Target: "cand"}, Config{})
	require.NoError(t, err)
	assert.Equal(t, 7, v.Target.MaxTokensStops)
	assert.Zero(t, v.Baseline.MaxTokensStops)
	assert.Contains(t, v.Warnings, "cand: 7 of 40 answers were cut at max_tokens; their scores judge a truncated answer (raise params.max_tokens)")
}
