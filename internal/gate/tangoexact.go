package gate

import (
	"math"
	"sort"

	"gonum.org/v1/gonum/mathext"
)

// tangoExactP is the exact unconditional p-value of Tango's statistic for
// the change in a pass rate on n independent pairs, x01 of them target-only
// and x10 baseline-only: of "the change is below d0" (below) or "above d0",
// the largest probability, over every baseline-only rate the hypothesis
// allows, of the tables whose statistic at d0 is as or more extreme than the
// observed one's.
//
// Above exactPairsMax pairs the gate's interval is Tango's score interval
// with a continuity correction, a normal approximation. At every discordance
// rate it is close to its level, but not at all of them: where discordant
// pairs are few and nearly all one way, or nearly every pair is discordant,
// its worst-case false fails reach 3.4% at one-sided 2.5% (250 to 2,000
// pairs; go run ./scripts/gatesim -only pflevel). This p-value is the check
// on it: a check is decided only when the test at its limit rejects too
// (testedAtLimit), so the tables on which it fails or passes are within
// this exact test's rejection region, which holds its level at every rate.
//
// Tango's statistic falls as the baseline-only count j rises, in every row
// of tables with i target-only pairs (checked on every table of 50, 250 and
// 1,000 pairs at six changes), so the tables as extreme as the observed one
// are, row by row, those past a threshold in j, and their probability is a
// sum over the rows of binomial tails: O(rows) per rate, with the rows of
// negligible probability skipped, where the enumeration of the exact test
// below exactPairsMax is O(n²).
func tangoExactP(x01, x10, n int, d0 float64, below bool) float64 {
	if n <= 0 {
		return 1
	}
	nn := float64(n)
	z := func(i, j int) float64 { return tangoZ(float64(i), float64(j), nn, d0, 0, 1) }
	obs := z(x01, x10)
	tol := 1e-9 * math.Max(1, math.Abs(obs))
	// thr[i]: below, the fewest baseline-only pairs at which row i is as
	// extreme (the region is j ≥ thr[i]); above, the most (j ≤ thr[i]).
	thr := make([]int, n+1)
	for i := range thr {
		if below {
			thr[i] = sort.Search(n-i+1, func(j int) bool { return z(i, j) <= obs+tol })
		} else {
			thr[i] = sort.Search(n-i+1, func(j int) bool { return z(i, j) < obs-tol }) - 1
		}
	}
	lo, hi := math.Max(0, -d0), (1-d0)/2
	if hi < lo {
		return 1
	}
	// Berger and Boos: the largest probability is taken only over the
	// baseline-only rates whose discordance rate (2·p10 + d0) lies in the
	// 1 - γ confidence interval of the observed discordance, and γ is added:
	// the p-value stays exact, and the search stays where the data are
	// (about 10 standard errors wide, against the whole range; at 100,000
	// pairs that is what keeps a check within the gate's time budget).
	dlo, dhi := clopperPearson(float64(x01+x10), nn, bergerBoosGamma/2)
	lo, hi = math.Max(lo, (dlo-d0)/2), math.Min(hi, (dhi-d0)/2)
	if hi < lo {
		// No rate the hypothesis allows is compatible with the observed
		// discordance.
		return bergerBoosGamma
	}
	lf := func(k int) float64 { v, _ := math.Lgamma(float64(k) + 1); return v }
	lfn := lf(n)
	prob := func(p10 float64) float64 {
		p01 := math.Max(0, p10+d0)
		if p01+p10 > 1 {
			p01 = 1 - p10
		}
		// Given i target-only pairs, the baseline-only ones are binomial on
		// the other n-i pairs with this rate.
		q := 1.0
		if p01 < 1 {
			q = math.Min(1, p10/(1-p01))
		}
		tail := func(i int) float64 {
			m, t := n-i, thr[i]
			if below {
				return binomialAtLeast(m, t, q)
			}
			return 1 - binomialAtLeast(m, t+1, q)
		}
		if p01 <= 0 {
			return math.Min(1, tail(0))
		}
		if p01 >= 1 {
			return math.Min(1, tail(n))
		}
		// The rows from the most likely outward, until they are negligible.
		mode := min(n, int((nn+1)*p01))
		l1, l0 := math.Log(p01), math.Log1p(-p01)
		w0 := math.Exp(lfn - lf(mode) - lf(n-mode) + float64(mode)*l1 + float64(n-mode)*l0)
		s := 0.0
		for i, w := mode, w0; i <= n && w > pmfTiny; i++ {
			s += w * tail(i)
			w *= float64(n-i) / float64(i+1) * p01 / (1 - p01)
		}
		for i, w := mode-1, w0; i >= 0; i-- {
			w *= float64(i+1) / float64(n-i) * (1 - p01) / p01
			if w <= pmfTiny {
				break
			}
			s += w * tail(i)
		}
		return math.Min(1, s)
	}
	return math.Min(1, supOverRate(lo, hi, n, prob)+bergerBoosGamma)
}

// bergerBoosGamma is the share of the level spent on restricting the
// nuisance rate to its confidence interval (tangoExactP).
const bergerBoosGamma = 1e-6

// binomialAtLeast is P(X ≥ t) for X binomial on m trials at rate q.
func binomialAtLeast(m, t int, q float64) float64 {
	switch {
	case t <= 0:
		return 1
	case t > m || q <= 0:
		return 0
	case q >= 1:
		return 1
	}
	return mathext.RegIncBeta(float64(t), float64(m-t+1), q)
}
