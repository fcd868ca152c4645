package gate

import (
	"context"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/evalgate/evalgate/internal/metric"
	"github.com/evalgate/evalgate/internal/results"
	"github.com/evalgate/evalgate/internal/suite"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/stat/distuv"
)

// The small-suite and degenerate cases of issue 9, each as it was found: on
// small or constant data the gate must not claim what the data cannot show,
// and every status must agree with the interval printed beside it.

var infoF1 = metric.Info{Name: "f1", Min: 0, Max: 1, Direction: metric.HigherIsBetter}

// pairFiles writes one file with targets "base" and "cand" whose records
// carry the given scores (nil: no score) and error flags.
func pairFiles(t *testing.T, metrics []metric.Info, base, cand []map[string]float64, candErr []bool) (Side, Side) {
	t.Helper()
	p := tmp(t, "r.jsonl")
	var recs []results.Record
	for i := range base {
		latency := 500 + float64(i%7)*13
		recs = append(recs, results.Record{SampleID: "s" + strconv.Itoa(i), Target: "base", Scores: base[i], LatencyMS: latency})
		r := results.Record{SampleID: "s" + strconv.Itoa(i), Target: "cand", Scores: cand[i], LatencyMS: latency * 1.1}
		if candErr != nil && candErr[i] {
			r.Scores, r.Error = nil, &results.RecordError{Kind: "invalid_request", Message: "rejected"}
		}
		recs = append(recs, r)
	}
	writeFile(t, p, header("h", metrics, "base", "cand"), recs, true)
	return Side{Path: p, Target: "base"}, Side{Path: p, Target: "cand"}
}

func scores(name string, vals ...float64) []map[string]float64 {
	out := make([]map[string]float64, len(vals))
	for i, v := range vals {
		out[i] = map[string]float64{name: v}
	}
	return out
}

func repeat(v float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// requireAgrees checks that a check's status is what its printed interval
// says about its limit.
func requireAgrees(t *testing.T, c CriterionResult, higher bool) {
	t.Helper()
	iv, lim := c.Estimate, float64(c.Limit)
	bad, good, beyond := iv.Hi < lim, iv.Lo > lim, iv.Est < lim
	if !higher {
		bad, good, beyond = iv.Lo > lim, iv.Hi < lim, iv.Est > lim
	}
	switch c.Mode {
	case suite.ModeRegression:
		switch {
		case bad:
			assert.Equal(t, CheckFail, c.Status, c.Reason)
		case beyond || math.IsNaN(iv.Lo):
			assert.Equal(t, CheckInconclusive, c.Status, c.Reason)
		default:
			assert.Equal(t, CheckPass, c.Status, c.Reason)
		}
	default:
		switch {
		case good:
			assert.Equal(t, CheckPass, c.Status, c.Reason)
		case bad:
			assert.Equal(t, CheckFail, c.Status, c.Reason)
		default:
			assert.Equal(t, CheckInconclusive, c.Status, c.Reason)
		}
	}
}

// Case 1: zero variance proves nothing.
func TestZeroVarianceProvesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("0 errors in 30 calls cannot show a rate under 2%", func(t *testing.T) {
		t.Parallel()
		bs, ts := pairFiles(t, []metric.Info{infoScore}, scores("correctness", repeat(0.8, 30)...), scores("correctness", repeat(0.8, 30)...), nil)
		v, err := Compare(ctx, bs, ts, Config{Mode: suite.ModeNonInferiority, Criteria: []suite.Criterion{{Metric: "error_rate", MaxErrorRate: ptr(0.02)}}})
		require.NoError(t, err)
		c := v.Criteria[0]
		assert.Equal(t, CheckInconclusive, c.Status, c.Reason)
		// The exact one-sided 97.5% upper bound of 0 in 30.
		assert.InDelta(t, 0.1157, c.Estimate.Hi, 1e-4)
		assert.Equal(t, MethodExact, c.Estimate.Method)
		requireAgrees(t, c, false)
	})
	t.Run("identical pass/fail scores do not show a drop within 0.01", func(t *testing.T) {
		t.Parallel()
		pf := []float64{1, 0, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1, 0, 1}
		bs, ts := pairFiles(t, []metric.Info{infoPass}, scores("exact_match", pf...), scores("exact_match", pf...), nil)
		v, err := Compare(ctx, bs, ts, Config{Mode: suite.ModeNonInferiority, Criteria: []suite.Criterion{{Metric: "exact_match", MaxDrop: drop(0.01)}}})
		require.NoError(t, err)
		c := v.Criteria[0]
		assert.Equal(t, CheckInconclusive, c.Status, c.Reason)
		assert.Equal(t, MethodExactPaired, c.Estimate.Method)
		assert.Less(t, c.Estimate.Lo, -0.09, "no discordant pair still leaves ±0.12 at n = 30")
		assert.Greater(t, c.Estimate.Hi, 0.09)
		requireAgrees(t, c, true)
	})
	t.Run("five equal differences show nothing", func(t *testing.T) {
		t.Parallel()
		b := []float64{0.61, 0.72, 0.55, 0.8, 0.67}
		c := make([]float64, len(b))
		for i := range b {
			c[i] = b[i] - 0.01
		}
		bs, ts := pairFiles(t, []metric.Info{infoF1}, scores("f1", b...), scores("f1", c...), nil)
		v, err := Compare(ctx, bs, ts, Config{Mode: suite.ModeNonInferiority, Criteria: []suite.Criterion{{Metric: "f1", MaxDrop: drop(0.05)}}})
		require.NoError(t, err)
		cr := v.Criteria[0]
		assert.Equal(t, CheckInconclusive, cr.Status, cr.Reason)
		assert.Equal(t, MethodRangeBound, cr.Estimate.Method)
		assert.Greater(t, cr.Estimate.Hi-cr.Estimate.Lo, 0.5, "five samples cannot exclude a rare failure")
		requireAgrees(t, cr, true)
	})
}

// Case 3: under 30 pairs the interval is the paired t, not a percentile
// bootstrap: 12 pairs that the bootstrap called regressed (p = 0.021) get
// the paired t test's p-value.
func TestSmallSuiteUsesThePairedT(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(12, 12))
	var b, c, d []float64
	for range 12 {
		x := 0.3 + 0.4*rng.Float64()
		y := math.Max(0, math.Min(1, x-0.06+0.08*rng.NormFloat64()))
		b, c, d = append(b, x), append(c, y), append(d, y-x)
	}
	bs, ts := pairFiles(t, []metric.Info{infoF1}, scores("f1", b...), scores("f1", c...), nil)
	v, err := Compare(context.Background(), bs, ts, Config{Criteria: []suite.Criterion{{Metric: "f1", MaxDrop: drop(0)}}})
	require.NoError(t, err)
	cr := v.Criteria[0]
	assert.Equal(t, MethodPairedT, cr.Estimate.Method)
	mean, sd := meanOf(d), stdDev(d)
	want := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: 11}.CDF(mean / (sd / math.Sqrt(12)))
	assert.InDelta(t, want, float64(cr.P), 1e-9)
	requireAgrees(t, cr, true)
}

// Case 4: a pass/fail change at a zero margin shows the interval its status
// comes from: 4 regressed and none improved of 200 is significant for the
// exact test (p = 0.024; McNemar's conditional test would need 6), and the
// interval printed beside it is wholly below zero. Three are not enough: the
// interval reaches zero, and so does the status. Above exactPairsMax pairs
// Tango's interval decides the same way, with one regression more.
func TestPassFailStatusAgreesWithItsInterval(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		n, shown int
		method   string
	}{{200, 4, MethodExactPaired}, {exactPairsMax + 50, 5, MethodTango}} {
		check := func(regressed int) CriterionResult {
			b, c := repeat(1, tc.n), repeat(1, tc.n)
			for i := range regressed {
				c[i] = 0
			}
			for i := 100; i < 160; i++ {
				b[i], c[i] = 0, 0
			}
			bs, ts := pairFiles(t, []metric.Info{infoPass}, scores("exact_match", b...), scores("exact_match", c...), nil)
			v, err := Compare(context.Background(), bs, ts, Config{Criteria: []suite.Criterion{{Metric: "exact_match", MaxDrop: drop(0)}}})
			require.NoError(t, err)
			cr := v.Criteria[0]
			assert.Equal(t, tc.method, cr.Estimate.Method)
			requireAgrees(t, cr, true)
			return cr
		}
		cr := check(tc.shown)
		assert.Equal(t, CheckFail, cr.Status, "n=%d: %s", tc.n, cr.Reason)
		assert.Less(t, cr.Estimate.Hi, 0.0)
		cr = check(tc.shown - 1)
		assert.NotEqual(t, CheckFail, cr.Status, "n=%d: %s", tc.n, cr.Reason)
		assert.GreaterOrEqual(t, cr.Estimate.Hi, 0.0)
	}
}

// Case 5: an estimate past the margin that is not significant is
// inconclusive, in regression mode too.
func TestEstimatePastTheMarginIsNotAPass(t *testing.T) {
	t.Parallel()
	// 12 pairs whose differences average -0.1 with a spread of 0.26: a
	// dip of the size the issue found, not significant.
	var b, c []float64
	for i := range 12 {
		x := 0.5 + 0.02*float64(i)
		b, c = append(b, x), append(c, x-0.1+0.25*float64(1-2*(i%2)))
	}
	bs, ts := pairFiles(t, []metric.Info{infoF1}, scores("f1", b...), scores("f1", c...), nil)
	v, err := Compare(context.Background(), bs, ts, Config{Criteria: []suite.Criterion{
		{Metric: "f1", MaxDrop: drop(0)},
		{Metric: "latency_p95", MaxIncrease: dropPct(0.05)},
	}})
	require.NoError(t, err)
	f1 := v.Criteria[0]
	require.Less(t, f1.Estimate.Est, 0.0)
	require.Greater(t, f1.Estimate.Hi, 0.0, "not significant")
	assert.Equal(t, CheckInconclusive, f1.Status, f1.Reason)
	assert.True(t, f1.Underpowered || f1.Status == CheckInconclusive)
	// The target is 10% slower on every call: past the 5% allowance, but 12
	// latencies cannot bound a 95th percentile.
	lat := v.Criteria[1]
	assert.InDelta(t, 0.10, lat.Estimate.Est, 1e-9)
	assert.Equal(t, CheckInconclusive, lat.Status, lat.Reason)
	assert.True(t, lat.Underpowered)
	assert.Equal(t, StatusInconclusive, v.Status)
	assert.True(t, v.Passes(), "regression mode does not block on inconclusive")
	assert.NotEmpty(t, v.Headline)
}

// Case 6: the p-value and the interval come from one procedure: for every
// check, p < the level exactly when the interval excludes the limit.
func TestPValueAndIntervalNeverDisagree(t *testing.T) {
	t.Parallel()
	for seed := range uint64(12) {
		rng := rand.New(rand.NewPCG(seed, 6))
		n := 5 + int(seed)*7
		var b, c, pb, pc []float64
		shift := -0.1 + 0.02*float64(seed)
		for range n {
			x := 0.3 + 0.4*rng.Float64()
			b, c = append(b, x), append(c, math.Max(0, math.Min(1, x+shift+0.1*rng.NormFloat64())))
			pb, pc = append(pb, float64(rng.IntN(2))), append(pc, float64(rng.IntN(2)))
		}
		base, cand := make([]map[string]float64, n), make([]map[string]float64, n)
		for i := range base {
			base[i] = map[string]float64{"f1": b[i], "exact_match": pb[i]}
			cand[i] = map[string]float64{"f1": c[i], "exact_match": pc[i]}
		}
		bs, ts := pairFiles(t, []metric.Info{infoF1, infoPass}, base, cand, nil)
		for _, mode := range []suite.Mode{suite.ModeRegression, suite.ModeNonInferiority} {
			v, err := Compare(context.Background(), bs, ts, Config{Mode: mode, Criteria: []suite.Criterion{
				{Metric: "f1", MaxDrop: drop(0.03)},
				{Metric: "exact_match", MaxDrop: drop(0.1)},
				{Metric: "f1", MaxDrop: dropPct(0.05)},
				{Metric: "f1", Min: ptr(0.45)},
			}})
			require.NoError(t, err)
			for _, cr := range v.Criteria {
				requireAgrees(t, cr, true)
				level := (1 - cr.Confidence) / 2
				p := float64(cr.P)
				if mode == suite.ModeRegression && cr.Status == CheckFail {
					assert.Less(t, p, level+1e-9, "%s %s: failed with p = %v at level %v", cr.Metric, cr.Check, p, level)
				}
				if mode == suite.ModeNonInferiority && cr.Status == CheckPass {
					assert.Less(t, p, level+1e-9, "%s %s: passed with p = %v", cr.Metric, cr.Check, p)
				}
				if cr.Status == CheckInconclusive && !math.IsNaN(p) {
					assert.GreaterOrEqual(t, p, level-1e-9, "%s %s: inconclusive with p = %v", cr.Metric, cr.Check, p)
				}
			}
		}
	}
}

// Case 7: degenerate inputs never crash and never pass.
func TestDegenerateInputs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	crit := []suite.Criterion{{Metric: "f1", MaxDrop: drop(0.05)}, {Metric: "latency_p95", MaxIncrease: dropPct(0.5)}}
	t.Run("one pair", func(t *testing.T) {
		t.Parallel()
		bs, ts := pairFiles(t, []metric.Info{infoF1}, scores("f1", 0.7), scores("f1", 0.6), nil)
		v, err := Compare(ctx, bs, ts, Config{Criteria: crit})
		require.NoError(t, err)
		for _, c := range v.Criteria {
			assert.Equal(t, CheckInconclusive, c.Status, c.Reason)
			assert.Contains(t, c.Reason, "no interval")
		}
		assert.NotEqual(t, StatusPass, v.Status)
		assert.NotEmpty(t, v.Headline)
	})
	t.Run("all pairs in one cluster", func(t *testing.T) {
		t.Parallel()
		p := tmp(t, "r.jsonl")
		var recs []results.Record
		for i := range 4 {
			for _, tg := range []string{"base", "cand"} {
				recs = append(recs, results.Record{SampleID: "s" + strconv.Itoa(i), Target: tg, Cluster: "doc1", LatencyMS: 400 + float64(i),
					Scores: map[string]float64{"f1": 0.5 + 0.1*float64(i)}})
			}
		}
		h := header("h", []metric.Info{infoF1}, "base", "cand")
		h.Cluster = "doc"
		writeFile(t, p, h, recs, true)
		v, err := Compare(ctx, Side{Path: p, Target: "base"}, Side{Path: p, Target: "cand"}, Config{Criteria: crit[:1]})
		require.NoError(t, err)
		assert.Equal(t, 1, v.Clusters)
		assert.Equal(t, CheckInconclusive, v.Criteria[0].Status)
		assert.Contains(t, v.Criteria[0].Reason, "one cluster")
	})
	t.Run("non-finite scores are missing, not numbers", func(t *testing.T) {
		t.Parallel()
		b := scores("f1", 0.5, 0.6, 0.7, 0.8, 0.9, 0.4)
		c := scores("f1", 0.5, 0.6, 0.7, 0.8, 0.9, 0.4)
		// JSON cannot hold NaN: a file carries none, and a pair-scored
		// metric injects its own; what matters is that none reaches the
		// statistics as a number.
		bs, ts := pairFiles(t, []metric.Info{infoF1}, b, c, nil)
		v, err := Compare(ctx, bs, ts, Config{Criteria: []suite.Criterion{{Metric: "f1", MaxDrop: drop(0.1)}}})
		require.NoError(t, err)
		require.Len(t, v.Metrics, 1)
		assert.False(t, math.IsNaN(v.Metrics[0].Delta.Est))
	})
	t.Run("every target call failed", func(t *testing.T) {
		t.Parallel()
		errs := []bool{true, true, true, true, true}
		bs, ts := pairFiles(t, []metric.Info{infoF1}, scores("f1", 0.5, 0.6, 0.7, 0.8, 0.9), scores("f1", 0.5, 0.6, 0.7, 0.8, 0.9), errs)
		v, err := Compare(ctx, bs, ts, Config{Criteria: []suite.Criterion{{Metric: "f1", Min: ptr(0.5)}, {Metric: "f1", MaxDrop: drop(0.1)}}})
		require.NoError(t, err)
		assert.Equal(t, StatusIncomplete, v.Status)
		for _, c := range v.Criteria {
			assert.Equal(t, CheckInconclusive, c.Status)
			assert.Contains(t, c.Reason, "the target produced no scored record for f1: all 5 of its paired calls failed")
		}
	})
	t.Run("a metric scored on one side only", func(t *testing.T) {
		t.Parallel()
		base := scores("f1", 0.5, 0.6, 0.7, 0.8, 0.9)
		cand := make([]map[string]float64, 5)
		bs, ts := pairFiles(t, []metric.Info{infoF1}, base, cand, nil)
		v, err := Compare(ctx, bs, ts, Config{Criteria: []suite.Criterion{{Metric: "f1", MaxDrop: drop(0.1)}}})
		require.NoError(t, err)
		assert.Equal(t, CheckInconclusive, v.Criteria[0].Status)
		assert.Contains(t, v.Criteria[0].Reason, "the target produced no scored record for f1")
		assert.NotEqual(t, StatusPass, v.Status)
	})
}

// Case 8: a suite too small for its criteria says so first.
func TestHeadlineWhenTheSuiteIsTooSmall(t *testing.T) {
	t.Parallel()
	b := []float64{0.61, 0.72, 0.55, 0.8, 0.67}
	c := []float64{0.6, 0.75, 0.5, 0.82, 0.6}
	bs, ts := pairFiles(t, []metric.Info{infoF1}, scores("f1", b...), scores("f1", c...), nil)
	v, err := Compare(context.Background(), bs, ts, Config{Criteria: []suite.Criterion{{Metric: "f1", MaxDrop: drop(0.05)}}})
	require.NoError(t, err)
	assert.Equal(t, []string{"f1 max_drop"}, v.TooSmall)
	assert.Contains(t, v.Headline, "too small for 1 of its 1 checks")
	// A large suite has no headline.
	bs, ts = twoFiles(t, sim{target: "prod", latency: 800, cost: 0.002, seed: 1}, sim{target: "cand", latency: 800, cost: 0.002, seed: 2}, 400, 1)
	v, err = Compare(context.Background(), bs, ts, Config{Criteria: []suite.Criterion{{Metric: "correctness", MaxDrop: drop(0.05)}}})
	require.NoError(t, err)
	assert.Empty(t, v.Headline)
}

// Case 8 too: a run without a baseline shows each mean with its interval.
func TestLevelsGiveEachMeanItsInterval(t *testing.T) {
	t.Parallel()
	bs, _ := pairFiles(t, []metric.Info{infoF1, infoPass},
		[]map[string]float64{{"f1": 0.5, "exact_match": 1}, {"f1": 0.7, "exact_match": 0}, {"f1": 0.6, "exact_match": 1}, {"f1": 0.9, "exact_match": 1}},
		[]map[string]float64{{"f1": 0.5}, {"f1": 0.5}, {"f1": 0.5}, {"f1": 0.5}}, nil)
	lv, err := Levels(context.Background(), bs.Path, 0.95)
	require.NoError(t, err)
	require.Len(t, lv, 2)
	assert.Equal(t, "base", lv[0].Target)
	require.Len(t, lv[0].Metrics, 2)
	f1 := lv[0].Metrics[0].Interval
	assert.InDelta(t, 0.675, f1.Est, 1e-12)
	assert.Equal(t, MethodT, f1.Method)
	assert.Less(t, f1.Lo, f1.Est)
	em := lv[0].Metrics[1].Interval
	assert.Equal(t, MethodExact, em.Method)
	assert.InDelta(t, 0.75, em.Est, 1e-12)
	// The candidate's constant f1 still has an interval: the range bound.
	c := lv[1].Metrics[0].Interval
	assert.Equal(t, MethodRangeBound, c.Method)
	assert.Greater(t, c.Hi-c.Lo, 0.3)
}

// The gate reads records into numbers: each of its fields must be a field of
// results.Record with the same JSON name and type, or the gate would
// silently read zeros.
func TestNumbersAreFieldsOfARecord(t *testing.T) {
	t.Parallel()
	rec := reflect.TypeOf(results.Record{})
	byName := map[string]reflect.StructField{}
	for i := range rec.NumField() {
		f := rec.Field(i)
		byName[strings.Split(f.Tag.Get("json"), ",")[0]] = f
	}
	num := reflect.TypeOf(numbers{})
	for i := range num.NumField() {
		f := num.Field(i)
		name := strings.Split(f.Tag.Get("json"), ",")[0]
		rf, ok := byName[name]
		require.True(t, ok, "numbers.%s: results.Record has no field %q", f.Name, name)
		assert.Equal(t, rf.Type, f.Type, "numbers.%s", f.Name)
	}
}

// Issue 13, item 2: records paired on one id whose inputs differ are not the
// same sample; the comparison stops and names them, unless told otherwise.
func TestPairsWithDifferentInputsAreRefused(t *testing.T) {
	t.Parallel()
	write := func(t *testing.T, reversed bool, ids func(i int) string) (Side, Side) {
		p := tmp(t, "r.jsonl")
		var recs []results.Record
		for i := range 6 {
			q := "question " + strconv.Itoa(i)
			qc := q
			if reversed {
				qc = "question " + strconv.Itoa(5-i)
			}
			recs = append(recs,
				results.Record{SampleID: ids(i), Target: "base", InputHash: results.InputHash(q, "ref"), LatencyMS: 500, Scores: map[string]float64{"f1": 0.5}},
				results.Record{SampleID: ids(i), Target: "cand", InputHash: results.InputHash(qc, "ref"), LatencyMS: 510, Scores: map[string]float64{"f1": 0.6}})
		}
		writeFile(t, p, header("h", []metric.Info{infoF1}, "base", "cand"), recs, true)
		return Side{Path: p, Target: "base"}, Side{Path: p, Target: "cand"}
	}
	rows := func(i int) string { return "row-" + strconv.Itoa(i+1) }
	bs, ts := write(t, true, rows)
	_, err := Compare(context.Background(), bs, ts, Config{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "6 paired samples have a different input or reference")
	assert.Contains(t, err.Error(), "row-1, row-2, row-3, row-4, row-5, ...")
	assert.Contains(t, err.Error(), "--allow-input-mismatch")

	v, err := Compare(context.Background(), bs, ts, Config{AllowInputMismatch: true})
	require.NoError(t, err)
	assert.Contains(t, strings.Join(v.Warnings, "\n"), "compared anyway as asked")

	// The same rows in the same order pair, and the report says they were
	// paired on row numbers.
	bs, ts = write(t, false, rows)
	v, err = Compare(context.Background(), bs, ts, Config{})
	require.NoError(t, err)
	assert.Contains(t, strings.Join(v.Warnings, "\n"), "paired on their row numbers")
	// With ids, no such warning.
	bs, ts = write(t, false, func(i int) string { return "q" + strconv.Itoa(i) })
	v, err = Compare(context.Background(), bs, ts, Config{})
	require.NoError(t, err)
	assert.NotContains(t, strings.Join(v.Warnings, "\n"), "row numbers")
}
