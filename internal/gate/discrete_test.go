package gate

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/metric"
	"github.com/evalgate/evalgate/internal/suite"
)

// On paired pass/fail differences (-1, 0, +1 on the range [-1, 1]) the
// multinomial score interval is Tango's corrected score interval: the same
// construction, reached by a numerical constrained MLE instead of Tango's
// closed form.
func TestDiscreteScoreIsTangoOnPassFail(t *testing.T) {
	t.Parallel()
	for _, c := range [][3]int{{3, 9, 60}, {0, 5, 40}, {7, 7, 30}, {0, 0, 24}, {12, 2, 150}, {20, 25, 60}} {
		up, down, n := c[0], c[1], c[2]
		x := make([]float64, n)
		for i := range up {
			x[i] = 1
		}
		for i := range down {
			x[up+i] = -1
		}
		got := discreteEstimate(x, []float64{-1, 0, 1}, span{-1, 1}).interval(0.95)
		want := tangoEstimate(up, down, n, design{}, nil).interval(0.95)
		assert.InDelta(t, want.Lo, got.Lo, 1e-9, "%v lo", c)
		assert.InDelta(t, want.Hi, got.Hi, 1e-9, "%v hi", c)
	}
}

// A judge scoring 1, 0.5 or 0, nearly always 1: six drops in 1,000 pairs
// (four to 0.5, two to 0) give a t interval of -0.004 [-0.0073, -0.0007]
// that "shows" the change within a margin of 0.008; such drops on 0.8% of
// samples are a true change of -0.0053, and in scripts/gatesim the t interval
// false-passed 3.3% [2.6, 4.2] of non-inferiority checks at the margin
// (n = 1,000, margin 0.004). The multinomial score interval weighs how rare
// the drops are, and keeps the range's ends possible.
func TestRareDropsOfAJudgeScoreAreNotProved(t *testing.T) {
	t.Parallel()
	b, c := repeat(1, 1000), repeat(1, 1000)
	for i := range 100 {
		b[i], c[i] = 0.5, 0.5
	}
	for i := 200; i < 204; i++ {
		c[i] = 0.5
	}
	c[300], c[301] = 0, 0
	bs, ts := pairFiles(t, []metric.Info{infoScore}, scores("correctness", b...), scores("correctness", c...), nil)
	v, err := Compare(context.Background(), bs, ts, Config{Mode: suite.ModeNonInferiority, Criteria: []suite.Criterion{{Metric: "correctness", MaxDrop: drop(0.008)}}})
	require.NoError(t, err)
	cr := v.Criteria[0]
	assert.Equal(t, MethodDiscreteScore, cr.Estimate.Method)
	assert.InDelta(t, -0.004, cr.Estimate.Est, 1e-12)
	// The t interval's lower end: mean - t·sd/√n.
	d := diffs(b, c)
	tv := meanTInterval(d)
	assert.Greater(t, tv, -0.008, "the t interval would show the change within the margin")
	assert.Less(t, cr.Estimate.Lo, -0.008, "the score interval is wider on the side of the rare drops")
	assert.Equal(t, CheckInconclusive, cr.Status, cr.Reason)
	requireAgrees(t, cr, true)
}

// meanTInterval is the lower end of the paired t interval at 95% of 1,000
// differences.
func meanTInterval(d []float64) float64 {
	return meanOf(d) - 1.9623*stdDev(d)/31.622776601683793
}

// A few continuous values are not a scale, nor are many values, nor a scale
// without a usual value.
func TestDiscreteValuesNeedRepeats(t *testing.T) {
	t.Parallel()
	assert.Nil(t, discreteValues([]float64{0.61, 0.72, 0.55, 0.8, 0.67}))
	assert.Equal(t, []float64{0, 0.25, 1}, discreteValues([]float64{1, 0, 0.25, 1, 0, 1}))
	assert.Nil(t, discreteValues([]float64{1, 0, 0.25, 1, 0, 0.25}), "no value holds half")
	many := make([]float64, 100)
	for i := range many {
		many[i] = float64(i % 20)
	}
	assert.Nil(t, discreteValues(many), "20 values are more than a scale")
}
