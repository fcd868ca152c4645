package gate

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/results"
	"github.com/evalgate/evalgate/internal/suite"
)

func TestPlanLooks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		total int
		want  []int
	}{
		{100, []int{20, 35, 50, 75, 100}},
		{1000, []int{200, 350, 500, 750, 1000}},
		// The first look compares at least MinFirstLook samples; looks that
		// would add none are dropped.
		{30, []int{10, 11, 15, 23, 30}},
		{12, []int{10, 12}},
		{10, []int{10}},
		{4, []int{4}},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, PlanLooks(DefaultLooks, tt.total), "total %d", tt.total)
	}
}

// Each look decides at its nominal level in the design of the looks taken
// (boundary.go): the first at the spending function's α·t², the later ones
// at more than the union bound's share, and a run that goes to the end at
// what the design leaves.
func TestLookLevelFollowsTheDesign(t *testing.T) {
	t.Parallel()
	const alpha = 0.025
	planned := []int{20, 35, 50, 75, 100}
	shares := []float64{0.2, 0.35, 0.5, 0.75, 1}
	seq := func(looks int, stopped bool) *results.Sequential {
		return &results.Sequential{Seed: 1, Total: 100, Planned: planned, Looks: planned[:looks], Stopped: stopped}
	}
	inc := increments(shares, func(x float64) float64 { return spent(alpha, x) })
	design := nominalLevels(shares, inc)
	var levels []float64
	for k := 1; k < len(planned); k++ {
		lv, look, err := LookLevel(alpha, seq(k, true), 0)
		require.NoError(t, err)
		assert.Equal(t, k, look)
		assert.InDelta(t, design[k-1], lv, 1e-15, "look %d", k)
		assert.GreaterOrEqual(t, lv, inc[k-1], "look %d gets at least its share of α", k)
		levels = append(levels, lv)
	}
	final, look, err := LookLevel(alpha, seq(len(planned)-1, false), 100)
	require.NoError(t, err)
	assert.Equal(t, 5, look)
	levels = append(levels, final)
	assert.InDelta(t, alpha*0.04, levels[0], 1e-15, "α·t² at the first look")
	assert.Greater(t, final, 1.2*inc[4], "the final look gets what the earlier ones did not cross")
	assert.Less(t, final, alpha)
	assert.True(t, slices.IsSorted(levels), "each look gets more than the one before: %v", levels)
	assert.Less(t, sum(levels), 1.5*alpha, "the looks' levels are not each α")

	// A run cut short after its first look (budget, deadline) is judged
	// on the samples it has, spending what the look it was heading for
	// would have.
	cut, look, err := LookLevel(alpha, seq(1, false), 30)
	require.NoError(t, err)
	assert.Equal(t, 2, look)
	assert.InDelta(t, nominalLevels([]float64{0.2, 0.3}, inc[:2])[1], cut, 1e-15)
	_, _, err = LookLevel(alpha, seq(2, false), 30)
	require.Error(t, err, "a final analysis on fewer samples than the last look")
	assert.Contains(t, err.Error(), "edited")
	_, _, err = LookLevel(alpha, seq(4, false), 101)
	require.Error(t, err, "more samples than the run's total")
	assert.Contains(t, err.Error(), "edited")
	// A run with no interim look is a fixed-size run.
	whole, _, err := LookLevel(alpha, &results.Sequential{Total: 8, Planned: []int{8}}, 0)
	require.NoError(t, err)
	assert.InDelta(t, alpha, whole, 1e-12)
}

func sum(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += v
	}
	return s
}

func TestLookLevelRefusesAnEditedSummary(t *testing.T) {
	t.Parallel()
	for _, s := range []results.Sequential{
		{Total: 0, Planned: []int{0}},
		{Total: 100, Planned: []int{20, 50}},
		{Total: 100, Planned: []int{20, 100}, Looks: []int{30}, Stopped: true},
		{Total: 100, Planned: []int{20, 100}, Looks: []int{20, 100}},
		{Total: 100, Planned: []int{50, 20, 100}},
		{Total: 100, Planned: []int{20, 100}, Stopped: true},
	} {
		_, _, err := LookLevel(0.025, &s, 0)
		require.Error(t, err, "%+v", s)
		assert.Contains(t, err.Error(), "edited")
	}
}

func TestCriterionSettled(t *testing.T) {
	t.Parallel()
	iv := func(lo, hi float64) Interval { return Interval{Est: (lo + hi) / 2, Lo: lo, Hi: hi} }
	tests := []struct {
		name string
		c    CriterionResult
		want bool
	}{
		{"regressed: wholly past a drop's limit", CriterionResult{Status: CheckFail, Limit: -0.05, Estimate: iv(-0.2, -0.1)}, true},
		{"regression-mode pass shown within", CriterionResult{Status: CheckPass, Limit: -0.05, Estimate: iv(-0.02, 0.03)}, true},
		{"regression-mode pass that reaches past the limit", CriterionResult{Status: CheckPass, Limit: -0.05, Estimate: iv(-0.08, 0.03)}, false},
		{"inconclusive", CriterionResult{Status: CheckInconclusive, Limit: -0.05, Estimate: iv(-0.08, -0.01)}, false},
		{"an increase shown within its limit", CriterionResult{Status: CheckPass, Limit: 0.25, Estimate: iv(-0.1, 0.2)}, true},
		{"no interval", CriterionResult{Status: CheckPass, Limit: 0.25, Estimate: Interval{Est: 0, Lo: math.NaN(), Hi: math.NaN()}}, false},
		{"a broken criterion", CriterionResult{Status: CheckError, Limit: 0.25, Estimate: iv(0.3, 0.4)}, false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.c.Settled(), tt.name)
	}
}

func TestSettledVerdict(t *testing.T) {
	t.Parallel()
	within := CriterionResult{Metric: "f1", Check: "max_drop", Severity: suite.SeverityFail, Status: CheckPass, Limit: -0.05, Estimate: Interval{Lo: -0.01, Hi: 0.02}}
	past := CriterionResult{Metric: "cost", Check: "max_increase", Severity: suite.SeverityFail, Status: CheckFail, Limit: 0.1, Estimate: Interval{Lo: 0.2, Hi: 0.4}}
	open := CriterionResult{Metric: "latency_p95", Check: "max_increase", Severity: suite.SeverityFail, Status: CheckPass, Limit: 0.25, Estimate: Interval{Lo: -0.1, Hi: 0.5}}
	warnOpen := open
	warnOpen.Severity = suite.SeverityWarn

	ok, why := Settled(&Verdict{Criteria: []CriterionResult{within, past, warnOpen}})
	assert.True(t, ok)
	assert.Equal(t, "all 2 fail-severity checks settled (1 shown within the limit, 1 past it)", why)

	ok, why = Settled(&Verdict{Criteria: []CriterionResult{within, open}})
	assert.False(t, ok)
	assert.Equal(t, "1 of 2 fail-severity checks not settled (latency_p95 max_increase)", why)

	// Nothing to settle: a sequential run without a fail-severity
	// criterion runs to the end.
	ok, _ = Settled(&Verdict{Criteria: []CriterionResult{warnOpen}})
	assert.False(t, ok)
}

// A look is judged on the first samples of the seeded order only, at the
// look's level, and the interval printed is that level's.
func TestCompareAtALook(t *testing.T) {
	t.Parallel()
	base := sim{target: "prod", latency: 800, cost: 0.002, seed: 1}
	cand := sim{target: "cand", shift: -0.2, latency: 800, cost: 0.002, seed: 2}
	b, tg := twoFiles(t, base, cand, 100, 1)
	const seed = 7
	var keys []uint64
	for i := range 100 {
		keys = append(keys, results.OrderKey(seed, "s"+strconv.Itoa(1000+i)))
	}
	slices.Sort(keys)
	planned := PlanLooks(DefaultLooks, 100)
	look := &results.Sequential{Seed: seed, Total: 100, Planned: planned, Looks: planned[:2], Stopped: true,
		Reason: "all 1 fail-severity checks settled", Cutoff: results.FormatKey(keys[34])}
	cfg := Config{Criteria: []suite.Criterion{{Metric: "correctness", MaxDrop: drop(0.05)}}, Look: look}
	v, err := Compare(context.Background(), b, tg, cfg)
	require.NoError(t, err)

	assert.Equal(t, 35, v.Pairs, "the first 35 samples of the order")
	assert.Zero(t, v.BaselineOnlyCount, "the baseline's other samples are not listed as unpaired")
	require.NotNil(t, v.Sequential)
	level, _, err := LookLevel(0.025, look, 0)
	require.NoError(t, err)
	assert.Equal(t, Look{Look: 2, Looks: 5, Samples: 35, Total: 100, Level: math.Round(level*1e15) / 1e15, Alpha: 0.025, Seed: seed, Stopped: true, Reason: look.Reason}, roundLevel(*v.Sequential))
	c := v.Criteria[0]
	assert.Equal(t, CheckFail, c.Status)
	assert.InDelta(t, 1-2*v.Sequential.Level, c.Confidence, 1e-12)
	assert.Contains(t, c.Reason, "the 99.52% interval is wholly past the limit")
	assert.Equal(t, "Sequential run (seed 7): stopped at look 2 of 5, after 35 of 100 samples (35%): all 1 fail-severity checks settled; decided at the look's one-sided level 0.0024 of the gate's 0.025 (99.52% intervals).", v.Sequential.Summary())

	// The same look written in the target's results summary is applied by
	// Compare without being asked.
	withSummary := tmp(t, "seq.jsonl")
	h := header("h1", defaultInfo, "cand")
	w, err := results.Create(withSummary, h)
	require.NoError(t, err)
	for _, r := range genRecords(cand, 100, 1) {
		require.NoError(t, w.Write(r))
	}
	require.NoError(t, w.Close(results.Summary{Status: results.StatusComplete, Sequential: look}))
	v2, err := Compare(context.Background(), b, Side{Path: withSummary}, Config{Criteria: cfg.Criteria})
	require.NoError(t, err)
	assert.Equal(t, 35, v2.Pairs)
	assert.Equal(t, c.Estimate, v2.Criteria[0].Estimate)
}

// roundLevel lets a look's level be compared exactly.
func roundLevel(l Look) Look {
	l.Level = math.Round(l.Level*1e15) / 1e15
	l.Alpha = math.Round(l.Alpha*1e15) / 1e15
	return l
}

// Holm's correction inside a look gives a check the share 1/j of α in the
// design, not 1/j of the look's level: the looks' correlation is worth
// less at smaller levels, so the design at α/j decides at less than
// (the look's level)/j, and only it keeps each check's own chance of a false
// fail over all the looks within α/j.
func TestHolmInsideALookUsesTheDesignAtItsShare(t *testing.T) {
	t.Parallel()
	base := sim{target: "prod", latency: 800, cost: 0.002, seed: 1}
	cand := sim{target: "cand", latency: 800, cost: 0.002, seed: 2}
	b, tg := twoFiles(t, base, cand, 100, 1)
	planned := PlanLooks(DefaultLooks, 100)
	// Not stopped: the final analysis on every sample.
	look := &results.Sequential{Seed: 7, Total: 100, Planned: planned, Looks: planned[:4]}
	cfg := Config{Criteria: []suite.Criterion{
		{Metric: "correctness", MaxDrop: drop(0.3)},
		{Metric: "correctness", MaxDrop: drop(0.4)},
	}, Look: look}
	v, err := Compare(context.Background(), b, tg, cfg)
	require.NoError(t, err)
	whole, _, err := LookLevel(0.025, look, 100)
	require.NoError(t, err)
	half, _, err := LookLevel(0.0125, look, 100)
	require.NoError(t, err)
	assert.Less(t, half, whole/2, "the design at α/2 decides below half the look's level")
	require.Len(t, v.Criteria, 2)
	for _, c := range v.Criteria {
		assert.Equal(t, CheckPass, c.Status, c.Reason)
		assert.InDelta(t, 1-2*half, c.Confidence, 1e-12, "%s: neither rejects, so both stay at the first step's share", c.Metric)
	}
}

// Two checks whose truth sits at their limits, each looked at five times:
// with Holm's correction at the design's levels, a false fail of either
// happens at most α of the time (Brownian paths, 100,000 pairs).
func TestHolmAcrossLooksHoldsTheFamilyLevel(t *testing.T) {
	t.Parallel()
	const alpha = 0.025
	planned := []int{200, 350, 500, 750, 1000}
	rng := rand.New(rand.NewPCG(5, 6))
	const runs = 100_000
	falseFail := 0
	// The levels of each look at the shares 1 and 1/2 of α, the only ones
	// two checks ask for.
	levels := make([]func(j int) float64, len(planned))
	for k := range planned {
		s := &results.Sequential{Total: 1000, Planned: planned, Looks: planned[:k+1], Stopped: true}
		if k == len(planned)-1 {
			s = &results.Sequential{Total: 1000, Planned: planned, Looks: planned[:k]}
		}
		one, _ := lookLevel(alpha, s, 1000)
		half, _ := lookLevel(alpha/2, s, 1000)
		levels[k] = func(j int) float64 {
			if j == 1 {
				return one
			}
			require.Equal(t, 2, j)
			return half
		}
	}
	for range runs {
		var sum [2]float64
		prev := 0.0
		for k, n := range planned {
			t := float64(n) / 1000
			for i := range sum {
				sum[i] += rng.NormFloat64() * math.Sqrt(t-prev)
			}
			prev = t
			p := []float64{stdNormal.Survival(sum[0] / math.Sqrt(t)), stdNormal.Survival(sum[1] / math.Sqrt(t))}
			lv := holmLevels(p, levels[k])
			if p[0] < lv[0] || p[1] < lv[1] {
				falseFail++
				break
			}
		}
	}
	rate := float64(falseFail) / runs
	assert.LessOrEqual(t, rate, alpha+3*math.Sqrt(alpha*(1-alpha)/runs), "family-wise false fails %.4f", rate)
	assert.Greater(t, rate, 0.02, "the design spends most of α: %.4f", rate)
}

func TestHolmLevelsAtAFixedSize(t *testing.T) {
	t.Parallel()
	lv := holmLevels([]float64{0.001, 0.02, 0.5}, func(j int) float64 { return 0.025 / float64(j) })
	assert.InDeltaSlice(t, []float64{0.025 / 3, 0.0125, 0.0125}, lv, 1e-15)
}
