package gate

import (
	"math"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tableProb is the probability of every table in ts (target-only,
// baseline-only counts of n pairs) when a pair is target-only with
// probability p01 and baseline-only with probability p10: an independent
// enumeration, not the code under test.
func tableProb(ts [][2]int, n int, p01, p10 float64) float64 {
	s := 0.0
	for _, t := range ts {
		i, j := t[0], t[1]
		k := n - i - j
		lg := func(x int) float64 { v, _ := math.Lgamma(float64(x + 1)); return v }
		lp := lg(n) - lg(i) - lg(j) - lg(k)
		for _, c := range []struct {
			k int
			p float64
		}{{i, p01}, {j, p10}, {k, math.Max(0, 1-p01-p10)}} {
			if c.k > 0 {
				lp += float64(c.k) * math.Log(c.p)
			}
		}
		s += math.Exp(lp)
	}
	return s
}

// The exact test keeps its level, shown by enumerating every table of n
// pairs: the tables on which the gate fails a check whose truth sits exactly
// at the margin have probability at most α at every discordance rate the
// truth allows (the nuisance parameter, on a grid of 2,001), and so do the
// tables on which non-inferiority passes.
func TestExactPairedHoldsItsLevel(t *testing.T) {
	t.Parallel()
	const a = 0.025
	for _, tc := range []struct {
		n int
		m float64
	}{{10, 0.2}, {16, 0.1}, {16, 0.25}} {
		var fails, passes [][2]int
		for i := 0; i <= tc.n; i++ {
			for j := 0; i+j <= tc.n; j++ {
				lo, hi := newExactPaired(i, j, tc.n).bound(a)
				if hi < -tc.m {
					fails = append(fails, [2]int{i, j})
				}
				if lo > -tc.m {
					passes = append(passes, [2]int{i, j})
				}
			}
		}
		require.NotEmpty(t, fails, "n=%d: the test must be able to fail", tc.n)
		require.NotEmpty(t, passes)
		worstFail, worstPass := 0.0, 0.0
		for g := 0; g <= 2000; g++ {
			p01 := (1 - tc.m) / 2 * float64(g) / 2000
			worstFail = math.Max(worstFail, tableProb(fails, tc.n, p01, p01+tc.m))
			worstPass = math.Max(worstPass, tableProb(passes, tc.n, p01, p01+tc.m))
		}
		assert.True(t, worstFail <= a+1e-9, "n=%d m=%g: false fails %g", tc.n, tc.m, worstFail)
		assert.True(t, worstPass <= a+1e-9, "n=%d m=%g: false passes %g", tc.n, tc.m, worstPass)
		// And it is not needlessly conservative: some discordance rate
		// brings the false fails within a factor of 3 of α.
		assert.True(t, worstFail > a/3, "n=%d m=%g: worst false fails %g", tc.n, tc.m, worstFail)
	}
}

// The p-value and the interval come from the same test: the p-value of
// "below d0" is at most a exactly when the upper bound at level a is at or
// below d0, up to the bisection's tolerance, across the interval's ends.
func TestExactPairedPValueAgreesWithBound(t *testing.T) {
	t.Parallel()
	for _, c := range [][3]int{{0, 0, 30}, {0, 4, 5}, {1, 5, 20}, {3, 10, 50}, {7, 2, 40}} {
		x := newExactPaired(c[0], c[1], c[2])
		for _, a := range []float64{0.005, 0.025, 0.1} {
			lo, hi := x.bound(a)
			est := float64(c[0]-c[1]) / float64(c[2])
			assert.LessOrEqual(t, lo, est, "%v", c)
			assert.GreaterOrEqual(t, hi, est, "%v", c)
			if hi < 1 {
				assert.LessOrEqual(t, x.p(hi+1e-6, true), a, "%v a=%g: just above the upper bound the change is shown below", c, a)
				assert.Greater(t, x.p(hi-1e-6, true), a, "%v a=%g: just under it, not", c, a)
			}
			if lo > -1 {
				assert.LessOrEqual(t, x.p(lo-1e-6, false), a, "%v a=%g", c, a)
				assert.Greater(t, x.p(lo+1e-6, false), a, "%v a=%g", c, a)
			}
		}
	}
}

// With no discordant pair of 30 the exact interval is ±0.117 (the exact
// bound of 0 events in 30 is 0.116): narrower than the corrected score
// interval's ±0.141, wider than the zero a t interval
// would claim, and it still does not show a drop within 0.1.
func TestExactPairedNoDiscordance(t *testing.T) {
	t.Parallel()
	e := pairedProportionEstimate(0, 0, 30, design{}, nil)
	require.Equal(t, MethodExactPaired, e.method)
	iv := e.interval(0.95)
	assert.InDelta(t, -0.1167, iv.Lo, 5e-4)
	assert.InDelta(t, 0.1167, iv.Hi, 5e-4)
	tg := tangoEstimate(0, 0, 30, design{}, nil).interval(0.95)
	assert.Less(t, tg.Lo, iv.Lo)
	// Clustered data and large suites keep the corrected score interval.
	assert.Equal(t, MethodTangoCluster, pairedProportionEstimate(0, 0, 30, design{clusters: make([]int, 30), g: 10}, make([]float64, 30)).method)
	assert.Equal(t, MethodTango, pairedProportionEstimate(3, 9, exactPairsMax+1, design{}, nil).method)
}

// exactPython is the reference: every table enumerated, Tango's statistic
// and each table's nuisance estimate from a numerical constrained MLE (not
// the closed form the gate uses), Lloyd's E+M ordering with each table's own
// p-value computed exactly, and the supremum over the nuisance parameter on
// a grid of 2,001 refined by a bounded scalar search.
const exactPython = `
import json, sys
import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import xlogy, gammaln

def mle(i, j, n, d0):
    rest = n - i - j
    nll = lambda q: -(xlogy(i, q + d0) + xlogy(j, q) + xlogy(rest, 1 - 2 * q - d0))
    lo, hi = max(0.0, -d0), (1 - d0) / 2
    return minimize_scalar(nll, bounds=(lo, hi), method="bounded", options={"xatol": 1e-13}).x

def z(i, j, n, d0, q):
    num = i - j - n * d0
    v = n * (2 * q + d0 * (1 - d0))
    if num == 0:
        return 0.0
    if v <= 1e-12:
        return np.copysign(np.inf, num)
    return num / np.sqrt(v)

out = []
for c in json.load(sys.stdin):
    n, d0 = c["n"], c["d0"]
    tabs = [(i, j) for i in range(n + 1) for j in range(n + 1 - i)]
    I = np.array([t[0] for t in tabs]); J = np.array([t[1] for t in tabs]); K = n - I - J
    qs = np.array([mle(i, j, n, d0) for i, j in tabs])
    zs = np.array([z(i, j, n, d0, q) for (i, j), q in zip(tabs, qs)])
    coef = gammaln(n + 1) - gammaln(I + 1) - gammaln(J + 1) - gammaln(K + 1)
    def pmf(p10):
        p01 = p10 + d0
        return np.exp(coef + xlogy(I, p01) + xlogy(J, p10) + xlogy(K, max(0.0, 1 - p01 - p10)))
    obs = tabs.index((c["imp"], c["reg"]))
    res = {}
    for side, sgn in (("below", 1), ("above", -1)):
        s = sgn * zs
        ep = np.array([pmf(qs[u])[s <= s[u] + 1e-9 * max(1, abs(s[u]))].sum() for u in range(len(tabs))])
        mask = ep <= ep[obs] * (1 + 1e-9)
        prob = lambda p10: float(pmf(p10)[mask].sum())
        lo, hi = max(0.0, -d0), (1 - d0) / 2
        grid = np.linspace(lo, hi, 2001)
        vals = [prob(g) for g in grid]
        k = int(np.argmax(vals))
        a, b = grid[max(k - 1, 0)], grid[min(k + 1, 2000)]
        best = max(vals[k], -minimize_scalar(lambda p: -prob(p), bounds=(a, b), method="bounded", options={"xatol": 1e-12}).fun)
        res[side] = min(1.0, best)
    out.append(res)
json.dump(out, sys.stdout)
`

// The exact p-values against the SciPy enumeration above.
func TestExactPairedAgainstScipy(t *testing.T) {
	t.Parallel()
	requireScipy(t)
	type pcase struct {
		Imp int     `json:"imp"`
		Reg int     `json:"reg"`
		N   int     `json:"n"`
		D0  float64 `json:"d0"`
	}
	cases := []pcase{{0, 4, 10, -0.2}, {1, 6, 15, -0.05}, {2, 2, 12, 0.1}, {0, 0, 20, -0.1}, {5, 1, 18, 0.05}, {3, 9, 25, -0.35}}
	var ref []map[string]float64
	runReference(t, exactPython, cases, &ref)
	require.Len(t, ref, len(cases))
	for i, c := range cases {
		x := newExactPaired(c.Imp, c.Reg, c.N)
		assert.InDelta(t, ref[i]["below"], x.p(c.D0, true), 1e-6, "case %d below", i)
		assert.InDelta(t, ref[i]["above"], x.p(c.D0, false), 1e-6, "case %d above", i)
	}
}

// The cost of one interval (both bounds at one level) at the sizes where the
// exact test is used.
func BenchmarkExactPairedBound(b *testing.B) {
	for _, n := range []int{30, exactPairsMax} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			for range b.N {
				newExactPaired(n/10, n/5, n).bound(0.025)
			}
		})
	}
}
