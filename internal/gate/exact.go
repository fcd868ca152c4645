package gate

import (
	"math"
	"sync"
)

// exactPairsMax is the largest number of independent pairs for which the
// change in a pass rate is bounded by the exact unconditional test; above it
// Tango's score interval with its continuity correction is used. The exact
// test costs O(n²) per evaluation (every table of n pairs), about 0.1 s for a
// bound at 200 pairs, and its gain in power over the corrected score interval
// shrinks as n grows (scripts/gatesim/RESULTS.md).
const exactPairsMax = 100

// MethodExactPaired is the exact unconditional score test of a change in a
// pass rate on paired records.
const MethodExactPaired = "exact unconditional score"

// exactPaired is the exact unconditional test of the change in the rate of
// 1s on n independent pairs of 0/1 records (Hsueh, Liu and Chen 2001, after
// Berger and Boos): the tables of n pairs are ordered by Tango's score
// statistic Z (uncorrected), and the p-value of "the change is below d0" is
// the largest probability, over every value of the nuisance parameter (the
// baseline-only rate) the hypothesis allows, of a table whose Z is at most
// the observed one. It holds its level at every n and every rate, with no
// continuity correction to pay for, which is where the corrected score
// interval loses most of its power: small suites.
type exactPaired struct {
	n, x01, x10 int
	lf          []float64 // lf[k] = log k!

	mu    sync.Mutex
	cache map[float64][2]float64 // level → bounds
}

func newExactPaired(targetOnly, baselineOnly, n int) *exactPaired {
	lf := make([]float64, n+1)
	for k := 2; k <= n; k++ {
		lf[k] = lf[k-1] + math.Log(float64(k))
	}
	return &exactPaired{n: n, x01: targetOnly, x10: baselineOnly, lf: lf, cache: map[float64][2]float64{}}
}

// tangoZ is Tango's score statistic for the change d0 in a table with x01
// target-only and x10 baseline-only pairs of n: (x01 - x10 - n·d0) over its
// standard error at the constrained maximum-likelihood estimate of the
// baseline-only rate. cc subtracts a continuity correction of half a count
// from the numerator's size; deff divides by the square root of a design
// effect.
func tangoZ(x01, x10, nn, d0, cc, deff float64) float64 {
	s := x01 + x10
	b := -s + d0*(2*nn-x01+x10)
	c := -x10 * d0 * (1 - d0)
	q := (-b + math.Sqrt(math.Max(0, b*b-8*nn*c))) / (4 * nn)
	num := x01 - x10 - nn*d0
	num -= math.Copysign(math.Min(math.Abs(num), cc), num)
	v := nn * (2*q + d0*(1-d0))
	switch {
	case num == 0:
		return 0
	case v <= 0:
		return math.Copysign(math.Inf(1), num)
	}
	return num / math.Sqrt(v*deff)
}

// tail is the exact p-value of the observed table against the change d0:
// for below, of "the change is below d0" (tables with Z at most the observed
// Z are as or more extreme); otherwise of "above d0".
func (e *exactPaired) tail(d0 float64, below bool) float64 {
	n := e.n
	nn := float64(n)
	zObs := tangoZ(float64(e.x01), float64(e.x10), nn, d0, 0, 1)
	// The tables as or more extreme than the observed one, with a relative
	// tolerance so that a table whose Z ties the observed one in exact
	// arithmetic counts as a tie.
	tol := 1e-9 * math.Max(1, math.Abs(zObs))
	// in marks the region, row by row: row i (i target-only pairs) holds
	// j = 0..n-i baseline-only pairs, from offset row[i].
	in := make([]bool, (n+1)*(n+2)/2)
	row := make([]int, n+2)
	count := 0
	for i := 0; i <= n; i++ {
		row[i+1] = row[i] + n - i + 1
		for j := 0; i+j <= n; j++ {
			z := tangoZ(float64(i), float64(j), nn, d0, 0, 1)
			if below && z <= zObs+tol || !below && z >= zObs-tol {
				in[row[i]+j] = true
				count++
			}
		}
	}
	switch count {
	case 0:
		return 0
	case len(in):
		return 1
	}
	// The probability of the region when the baseline-only rate is p10 and
	// the target-only rate p10 + d0. Each row's probabilities follow from
	// its most likely cell by the ratio of neighbouring multinomial terms,
	// one exp per row, which neither underflows near the mode nor costs an
	// exp per table.
	prob := func(p10 float64) float64 {
		p01 := p10 + d0
		p00 := 1 - p01 - p10
		l01, l10, l00 := safeLog(p01), safeLog(p10), safeLog(p00)
		s := 0.0
		for i := 0; i <= n; i++ {
			m := n - i
			cells := in[row[i]:row[i+1]]
			if p10 <= 0 || p00 <= 0 {
				// A rate at the end of its range: direct terms.
				for j, ok := range cells {
					if ok {
						s += math.Exp(e.lf[n] - e.lf[i] - e.lf[j] - e.lf[m-j] + times(i, l01) + times(j, l10) + times(m-j, l00))
					}
				}
				continue
			}
			j0 := min(m, int(float64(m+1)*p10/(p10+p00)))
			v0 := math.Exp(e.lf[n] - e.lf[i] - e.lf[j0] - e.lf[m-j0] + times(i, l01) + times(j0, l10) + times(m-j0, l00))
			ratio := p10 / p00
			v := v0
			for j := j0; j <= m; j++ {
				if cells[j] {
					s += v
				}
				v *= float64(m-j) / float64(j+1) * ratio
			}
			v = v0
			for j := j0 - 1; j >= 0; j-- {
				v *= float64(j+1) / float64(m-j) / ratio
				if cells[j] {
					s += v
				}
			}
		}
		return math.Min(1, s)
	}
	// The nuisance parameter's range under the hypothesis: both rates in
	// [0, 1] and their sum at most 1. The supremum is found on a grid and
	// refined around the grid's best point by golden-section search.
	lo, hi := math.Max(0, -d0), (1-d0)/2
	if hi <= lo {
		return prob(lo)
	}
	const grid = 40
	best, bestK := -1.0, 0
	step := (hi - lo) / grid
	for k := 0; k <= grid; k++ {
		if p := prob(lo + float64(k)*step); p > best {
			best, bestK = p, k
		}
	}
	a := lo + float64(max(bestK-1, 0))*step
	b := lo + float64(min(bestK+1, grid))*step
	const phi = 0.6180339887498949
	x1, x2 := b-phi*(b-a), a+phi*(b-a)
	f1, f2 := prob(x1), prob(x2)
	for range 20 {
		if f1 > f2 {
			b, x2, f2 = x2, x1, f1
			x1 = b - phi*(b-a)
			f1 = prob(x1)
		} else {
			a, x1, f1 = x1, x2, f2
			x2 = a + phi*(b-a)
			f2 = prob(x2)
		}
	}
	return math.Max(best, math.Max(f1, f2))
}

// safeLog is log p, with log 0 = -Inf.
func safeLog(p float64) float64 {
	if p <= 0 {
		return math.Inf(-1)
	}
	return math.Log(p)
}

// times is k·l where 0·(-Inf) is 0: a count of zero of an impossible kind of
// pair has probability 1.
func times(k int, l float64) float64 {
	if k == 0 {
		return 0
	}
	return float64(k) * l
}

// bound returns the one-sided bounds at level a: the changes d0 at which
// the exact p-values cross a, found by bisection (the p-value of "below d0"
// falls as d0 rises). The result is cached per level: a check asks for the
// same level's interval, its minimum detectable effect and the report's
// interval.
func (e *exactPaired) bound(a float64) (lo, hi float64) {
	e.mu.Lock()
	if b, ok := e.cache[a]; ok {
		e.mu.Unlock()
		return b[0], b[1]
	}
	e.mu.Unlock()
	est := float64(e.x01-e.x10) / float64(e.n)
	const eps = 1e-9
	// hi: the smallest d0 with p(below d0) ≤ a, in [est, 1].
	hi = 1
	if e.tail(1-eps, true) <= a {
		l, h := est, 1-eps
		for h-l > 1e-7 {
			m := (l + h) / 2
			if e.tail(m, true) <= a {
				h = m
			} else {
				l = m
			}
		}
		hi = h
	}
	lo = -1
	if e.tail(-1+eps, false) <= a {
		l, h := -1+eps, est
		for h-l > 1e-7 {
			m := (l + h) / 2
			if e.tail(m, false) <= a {
				l = m
			} else {
				h = m
			}
		}
		lo = l
	}
	e.mu.Lock()
	e.cache[a] = [2]float64{lo, hi}
	e.mu.Unlock()
	return lo, hi
}

// p is the one-sided p-value of "the change is below m" (below) or "above
// m", computed directly rather than by inverting the bound.
func (e *exactPaired) p(m float64, below bool) float64 {
	if m <= -1 && below || m >= 1 && !below {
		return 1
	}
	m = math.Max(-1+1e-9, math.Min(1-1e-9, m))
	return e.tail(m, below)
}
