package gate

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/stat/distuv"
)

// tangoExactP against its definition computed the slow way: every table of
// n pairs whose statistic is as extreme as the observed one's, its
// multinomial probability summed, the largest over 2,001 rates in the
// Berger-Boos range, plus γ.
func TestTangoExactPIsItsDefinition(t *testing.T) {
	t.Parallel()
	const n = 40
	lg := func(x int) float64 { v, _ := math.Lgamma(float64(x + 1)); return v }
	for _, c := range []struct {
		i, j  int
		d0    float64
		below bool
	}{{0, 6, -0.05, true}, {3, 12, -0.1, true}, {8, 2, -0.1, false}, {5, 5, 0, true}, {10, 3, 0.05, false}} {
		obs := tangoZ(float64(c.i), float64(c.j), n, c.d0, 0, 1)
		tol := 1e-9 * math.Max(1, math.Abs(obs))
		lo, hi := math.Max(0, -c.d0), (1-c.d0)/2
		dlo, dhi := clopperPearson(float64(c.i+c.j), n, bergerBoosGamma/2)
		lo, hi = math.Max(lo, (dlo-c.d0)/2), math.Min(hi, (dhi-c.d0)/2)
		require.Less(t, lo, hi)
		worst := 0.0
		for g := 0; g <= 2000; g++ {
			p10 := lo + (hi-lo)*float64(g)/2000
			p01 := p10 + c.d0
			s := 0.0
			for i := 0; i <= n; i++ {
				for j := 0; i+j <= n; j++ {
					z := tangoZ(float64(i), float64(j), n, c.d0, 0, 1)
					if c.below && z > obs+tol || !c.below && z < obs-tol {
						continue
					}
					k := n - i - j
					lp := lg(n) - lg(i) - lg(j) - lg(k)
					for _, x := range []struct {
						k int
						p float64
					}{{i, p01}, {j, p10}, {k, 1 - p01 - p10}} {
						if x.k > 0 {
							lp += float64(x.k) * math.Log(x.p)
						}
					}
					s += math.Exp(lp)
				}
			}
			worst = math.Max(worst, s)
		}
		want := math.Min(1, worst+bergerBoosGamma)
		assert.InDelta(t, want, tangoExactP(c.i, c.j, n, c.d0, c.below), 1e-4*want+1e-9, "%+v", c)
	}
}

// Above exactPairsMax pairs Tango's corrected interval alone would fail a
// check on 10 baseline-only pairs of 250 and none the other way, at a
// margin of 0.02; but a target that fails 2% of the samples its baseline
// passes (and never the reverse) gives 10 or more such pairs 3.1% of the
// time, more than α. The exact test on Tango's statistic does not reject
// there (p = 0.032), and so the gate does not fail the check: its interval
// is drawn to the limit.
func TestTangoIsCheckedByTheExactTest(t *testing.T) {
	t.Parallel()
	const n, m = 250, 0.02
	e := pairedProportionEstimate(0, 10, n, design{}, nil)
	require.Equal(t, MethodTango, e.method)
	_, hi := tangoEstimate(0, 10, n, design{}, nil).bound(0.025)
	require.Less(t, hi, -m, "Tango's interval alone excludes the limit")
	tail := distuv.Binomial{N: n, P: m}.Survival(9.5)
	require.Greater(t, tail, 0.025, "and would false-fail that often at that truth")
	p := e.p(-m, true)
	assert.InDelta(t, tail, p, 0.002, "the exact p-value is about that tail")
	fails, _, _ := PassRateChange(0, 10, n, 0.025, -m)
	assert.False(t, fails)
	// One more such pair is shown by both.
	fails, _, _ = PassRateChange(0, 11, n, 0.025, -m)
	assert.True(t, fails)
}
