package trend

import (
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/evalgate/evalgate/internal/gate"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func verdict(target float64) *gate.Verdict {
	return &gate.Verdict{Status: gate.StatusPass, Target: gate.SideInfo{Target: "nova", Model: "nova-lite"},
		Criteria: []gate.CriterionResult{
			{Metric: "f1", Check: "max_drop", Status: gate.CheckPass, Target: gate.Num(target), Baseline: 0.8,
				Estimate: gate.Interval{Est: target - 0.8}, Limit: -0.05},
			{Metric: "latency_p95", Check: "max_increase", Status: gate.CheckPass, Target: gate.Num(math.NaN()), Baseline: 900,
				Estimate: gate.Interval{Est: math.NaN()}, Limit: 0.25},
		}}
}

func TestHistoryRoundTripAndSteps(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "history.jsonl")
	h, err := Read(path)
	require.NoError(t, err, "no file yet: an empty history")
	assert.Empty(t, h)
	day := time.Date(2026, 11, 1, 3, 17, 0, 0, time.UTC)
	values := []float64{0.81, 0.80, 0.82, 0.64, 0.65}
	for i, x := range values {
		h = Append(h, FromVerdict(verdict(x), Run{ID: int64(100 + i), URL: "https://github.com/o/r/actions/runs/1", Commit: "abc"}, day.AddDate(0, 0, i)))
		require.NoError(t, Write(path, h))
		h, err = Read(path)
		require.NoError(t, err)
	}
	require.Len(t, h, len(values))
	assert.Equal(t, int64(103), h[3].ID)
	assert.Equal(t, "nova (nova-lite)", h[0].Target)
	series := BySeries(h)
	require.Len(t, series, 2)
	assert.Equal(t, values, series[0].Values)
	step, ok := series[0].Largest()
	require.True(t, ok)
	assert.Equal(t, 2, step.From)
	assert.Equal(t, 3, step.To, "the step is at the run where the value fell")
	assert.InDelta(t, -0.18, step.Delta, 1e-9)
	// A value never known (NaN, written as null) reads back as NaN.
	assert.True(t, math.IsNaN(series[1].Values[0]))
	_, ok = series[1].Largest()
	assert.False(t, ok)
}

func TestHistoryKeepsTheLastRuns(t *testing.T) {
	t.Parallel()
	var h []Entry
	for i := range MaxEntries + 5 {
		h = Append(h, Entry{Time: time.Unix(int64(i), 0), Run: Run{ID: int64(i)}})
	}
	require.Len(t, h, MaxEntries)
	assert.Equal(t, int64(5), h[0].ID)
}

func TestHistoryBadLine(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "history.jsonl")
	require.NoError(t, os.WriteFile(path, []byte(`{"time":"2026-11-01T00:00:00Z","checks":[]}`+"\nnot json\n"), 0o644))
	_, err := Read(path)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "history.jsonl line 2: not a history entry")
}
