package gate

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/metric"
	"github.com/evalgate/evalgate/internal/suite"
)

// A judge that scores 0.5 or 1, nearly always 1: one drop to 0.5 in 50
// pairs gives a t interval of -0.01 [-0.030, +0.010], which "shows" the
// change within a margin of 0.0325; a drop on 6.5% of samples (a true
// change of -0.0325) gives one or no drop one time in six, so the t interval
// false-passed 10.9% [9.6, 12.3] of non-inferiority checks at the margin in
// scripts/gatesim. Such scores are two-valued: the change is the change in
// the share at 1, by the exact test, times 0.5, and it is not shown within.
func TestTwoValuedScoresAreNotProvedByOneDrop(t *testing.T) {
	t.Parallel()
	b, c := repeat(1, 50), repeat(1, 50)
	for i := range 5 {
		b[i], c[i] = 0.5, 0.5
	}
	c[10] = 0.5
	bs, ts := pairFiles(t, []metric.Info{infoScore}, scores("correctness", b...), scores("correctness", c...), nil)
	v, err := Compare(context.Background(), bs, ts, Config{Mode: suite.ModeNonInferiority, Criteria: []suite.Criterion{{Metric: "correctness", MaxDrop: drop(0.0325)}}})
	require.NoError(t, err)
	cr := v.Criteria[0]
	assert.Equal(t, CheckInconclusive, cr.Status, cr.Reason)
	assert.Equal(t, MethodExactPaired, cr.Estimate.Method)
	assert.InDelta(t, -0.01, cr.Estimate.Est, 1e-12)
	assert.Less(t, cr.Estimate.Lo, -0.0325)
	requireAgrees(t, cr, true)
}

// The scaled interval is the 0/1 interval times the gap between the two
// values, and a floor on such scores uses Clopper-Pearson mapped onto them.
func TestTwoValuedIntervalsAreScaledCounts(t *testing.T) {
	t.Parallel()
	bv := []float64{1, 1, 1, 0.5, 0.5, 1, 1, 0.5, 1, 0.5, 1, 1}
	tv := []float64{1, 1, 0.5, 0.5, 1, 0.5, 1, 0.5, 0.5, 0.5, 1, 1}
	e, ok := twoLevelChange(bv, tv, design{})
	require.True(t, ok)
	d := diffs(bv, tv)
	pf := make([]float64, len(d))
	for i, v := range d {
		pf[i] = 2 * v
	}
	e01 := pairedProportionEstimate(1, 3, len(d), design{}, pf)
	iv, iv01 := e.interval(0.95), e01.interval(0.95)
	assert.InDelta(t, iv01.Lo/2, iv.Lo, 1e-12)
	assert.InDelta(t, iv01.Hi/2, iv.Hi, 1e-12)
	assert.InDelta(t, e01.pBelow(-0.2), e.pBelow(-0.1), 1e-12, "the p-value of a scaled limit is the 0/1 p-value")

	x := []float64{1, 1, 0.5, 1, 1, 1, 0.5, 1, 1, 1}
	lv, ok := twoLevelEstimate(x, design{})
	require.True(t, ok)
	lo, hi := clopperPearson(8, 10, 0.025)
	got := lv.interval(0.95)
	assert.InDelta(t, 0.5+0.5*lo, got.Lo, 1e-12)
	assert.InDelta(t, 0.5+0.5*hi, got.Hi, 1e-12)
	assert.InDelta(t, 0.9, got.Est, 1e-12)

	// Three values, or one, are not two-valued; nor are scores of three
	// values whose differences happen to have one size.
	_, ok = twoLevelEstimate([]float64{1, 0.5, 0}, design{})
	assert.False(t, ok)
	_, ok = twoLevelEstimate([]float64{0.7, 0.7, 0.7}, design{})
	assert.False(t, ok)
	_, ok = twoLevelChange([]float64{1, 0.5, 0.8}, []float64{1, 0.3, 0.8}, design{})
	assert.False(t, ok)
}
