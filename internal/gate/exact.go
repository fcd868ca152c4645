package gate

import (
	"cmp"
	"math"
	"slices"
	"sync"
)

// exactPairsMax is the largest number of independent pairs for which the
// change in a pass rate is bounded by the exact unconditional test; above it
// Tango's score interval with its continuity correction is used. The exact
// test costs O(n²) per evaluation (every table of n pairs): about 13 ms for
// an interval at 30 pairs, 120 ms at 100 and 0.42 s at 200 on 2 cores
// (BenchmarkExactPairedBound), and its gain in power over the corrected
// score interval shrinks as n grows (scripts/gatesim/RESULTS.md). It reaches
// 200 pairs for the sequential looks of suites of a few hundred samples:
// where no pair disagrees, Tango's corrected interval at 150 pairs is
// ±0.040 at the fourth look's level, the exact one ±0.030, which is what
// lets a clear pass of 200 agreeing samples stop at the fourth look.
const exactPairsMax = 200

// MethodExactPaired is the exact unconditional score test of a change in a
// pass rate on paired records.
const MethodExactPaired = "exact unconditional score"

// exactPaired is the exact unconditional test of the change in the rate of
// 1s on n independent pairs of 0/1 records (Hsueh, Liu and Chen 2001, after
// Berger and Boos): the tables of n pairs are ordered from most to least
// extreme (Lloyd's E+M ordering of Tango's statistic, see tail), and the
// p-value of "the change is below d0" is the largest probability, over every
// value of the nuisance parameter (the baseline-only rate) the hypothesis
// allows, of the tables as or more extreme than the observed one. It holds
// its level at every n and every rate, with no continuity correction to pay
// for, which is where the corrected score interval loses most of its power:
// small suites.
type exactPaired struct {
	n, x01, x10 int
	lf          []float64 // lf[k] = log k!

	mu    sync.Mutex
	cache map[float64][2]float64 // level → bounds
}

// exactMemo keeps the exact tests computed in this process, by table: the
// same counts recur across a run's targets and criteria (and, in
// scripts/gatesim, across thousands of simulated suites), and each costs up
// to a tenth of a second. It is cleared when it reaches exactMemoMax tables.
var exactMemo struct {
	sync.Mutex
	m map[[3]int]*exactPaired
}

const exactMemoMax = 16384

// exactPairedTest returns the exact test of the table, from the memo when
// it was computed before.
func exactPairedTest(targetOnly, baselineOnly, n int) *exactPaired {
	k := [3]int{targetOnly, baselineOnly, n}
	exactMemo.Lock()
	defer exactMemo.Unlock()
	if x, ok := exactMemo.m[k]; ok {
		return x
	}
	if exactMemo.m == nil || len(exactMemo.m) >= exactMemoMax {
		exactMemo.m = map[[3]int]*exactPaired{}
	}
	x := newExactPaired(targetOnly, baselineOnly, n)
	exactMemo.m[k] = x
	return x
}

func newExactPaired(targetOnly, baselineOnly, n int) *exactPaired {
	lf := make([]float64, n+1)
	for k := 2; k <= n; k++ {
		lf[k] = lf[k-1] + math.Log(float64(k))
	}
	return &exactPaired{n: n, x01: targetOnly, x10: baselineOnly, lf: lf, cache: map[float64][2]float64{}}
}

// tangoQ is the constrained maximum-likelihood estimate of the
// baseline-only rate when the change is d0 (Tango 1998), given x01
// target-only and x10 baseline-only pairs of n.
func tangoQ(x01, x10, nn, d0 float64) float64 {
	s := x01 + x10
	b := -s + d0*(2*nn-x01+x10)
	c := -x10 * d0 * (1 - d0)
	return (-b + math.Sqrt(math.Max(0, b*b-8*nn*c))) / (4 * nn)
}

// tangoZ is Tango's score statistic for the change d0 in a table with x01
// target-only and x10 baseline-only pairs of n: (x01 - x10 - n·d0) over its
// standard error at the constrained maximum-likelihood estimate of the
// baseline-only rate. cc subtracts a continuity correction of half a count
// from the numerator's size; deff divides by the square root of a design
// effect.
func tangoZ(x01, x10, nn, d0, cc, deff float64) float64 {
	q := tangoQ(x01, x10, nn, d0)
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

// scratch is the working memory of one bound or p-value: every table's
// statistic, nuisance estimate, E+M p-value and probabilities on the
// nuisance grid. It is made once per call and reused by each tail (a bound
// takes about 20 a side), not kept: at 100 pairs it is 4 MB, at 200 pairs
// 17 MB, one per side of an interval.
type scratch struct {
	row       []int
	total     int
	z, q, ep  []float64
	buf       []float64
	perm, end []int
	in        []bool
	pm, cum   [][]float64
	members   []int32 // the M step's region, as a list of tables
}

// nuisanceGrid is the number of steps of the nuisance grid.
const nuisanceGrid = 48

func (e *exactPaired) scratch() *scratch {
	row, total := e.tables()
	f := func() []float64 { return make([]float64, total) }
	sc := &scratch{row: row, total: total, z: f(), q: f(), ep: f(), buf: f(),
		perm: make([]int, total), end: make([]int, total), in: make([]bool, total),
		pm: make([][]float64, nuisanceGrid+1), cum: make([][]float64, nuisanceGrid+1)}
	for g := range sc.pm {
		sc.pm[g], sc.cum[g] = f(), f()
	}
	return sc
}

// tables indexes the tables of n pairs row by row: row i (i target-only
// pairs) holds j = 0..n-i baseline-only pairs, from offset row[i].
func (e *exactPaired) tables() (row []int, total int) {
	row = make([]int, e.n+2)
	for i := 0; i <= e.n; i++ {
		row[i+1] = row[i] + e.n - i + 1
	}
	return row, row[e.n+1]
}

// pmf fills out (indexed as tables) with every table's probability when a
// pair is baseline-only with probability p10 and target-only with
// probability p10 + d0. Each row's probabilities follow from its most likely
// table by the ratio of neighbouring multinomial terms: one exp per row,
// which neither underflows near the mode nor costs an exp per table.
func (e *exactPaired) pmf(p10, d0 float64, row []int, out []float64) {
	n := e.n
	p01 := p10 + d0
	p00 := 1 - p01 - p10
	l01, l10, l00 := safeLog(p01), safeLog(p10), safeLog(p00)
	term := func(i, j int) float64 {
		m := n - i
		return math.Exp(e.lf[n] - e.lf[i] - e.lf[j] - e.lf[m-j] + times(i, l01) + times(j, l10) + times(m-j, l00))
	}
	for i := 0; i <= n; i++ {
		m := n - i
		cells := out[row[i]:row[i+1]]
		if p10 <= 0 || p00 <= 0 {
			// A rate at the end of its range: direct terms.
			for j := range cells {
				cells[j] = term(i, j)
			}
			continue
		}
		j0 := min(m, int(float64(m+1)*p10/(p10+p00)))
		ratio := p10 / p00
		v := term(i, j0)
		if v < pmfTiny {
			clear(cells)
			continue
		}
		for j := j0; j <= m; j++ {
			if v < pmfTiny {
				clear(cells[j:])
				break
			}
			cells[j] = v
			v *= float64(m-j) / float64(j+1) * ratio
		}
		v = cells[j0]
		for j := j0 - 1; j >= 0; j-- {
			v *= float64(j+1) / float64(m-j) / ratio
			if v < pmfTiny {
				clear(cells[:j+1])
				break
			}
			cells[j] = v
		}
	}
}

// pmfTiny is the probability under which pmf counts a table as 0: a row's
// probabilities fall away from its mode, so the walk from the mode stops
// there. What is dropped is below pmfTiny times the number of tables
// (2e-16 at 200 pairs), far under any level a test is held to; at a few
// hundred pairs most tables are that unlikely at any one rate, and the
// walk is most of the exact test's cost.
const pmfTiny = 1e-20

// tail is the exact p-value of the observed table against the change d0:
// for below, of "the change is below d0"; otherwise of "above d0".
//
// Which tables are as or more extreme than the observed one is decided by
// Lloyd's E+M ordering (Lloyd 2008): each table's own p-value with the
// nuisance parameter set to that table's constrained maximum-likelihood
// estimate (Tango's), from the tail of Tango's statistic. The p-value is then
// the largest probability of those tables over every nuisance value the
// hypothesis allows. Any ordering fixed before the data gives an exact test;
// this one is more powerful than ordering by the score statistic itself or
// by the paired t (by 2 to 8 points in scripts/gatesim's designs at
// n = 20 to 50), because it accounts for how discrete each table's tail is.
func (e *exactPaired) tail(d0 float64, below bool, sc *scratch) float64 {
	ep := e.order(d0, below, sc)
	obs := sc.row[e.x01] + e.x10
	in := sc.in
	count := 0
	for u := range sc.total {
		in[u] = ep[u] <= ep[obs]*(1+1e-9)
		if in[u] {
			count++
		}
	}
	if count == sc.total {
		return 1
	}
	return e.regionMax(d0, in, sc)
}

// order is the E step of tail: every table's own p-value against d0 (the
// tail of Tango's statistic at the table's nuisance estimate), in sc.ep,
// indexed as tables. It leaves every table's probability on the nuisance
// grid in sc.pm for regionMax. The tables of the rejection region at any
// level are those whose ep is at most some threshold: the regions are
// nested, which is what lets a test enumerate every region of a large n
// from one ordering.
func (e *exactPaired) order(d0 float64, below bool, sc *scratch) []float64 {
	n := e.n
	nn := float64(n)
	row, total := sc.row, sc.total
	z, q := sc.z, sc.q
	lo, hi := math.Max(0, -d0), (1-d0)/2
	for i := 0; i <= n; i++ {
		for j := 0; i+j <= n; j++ {
			k := row[i] + j
			z[k] = tangoZ(float64(i), float64(j), nn, d0, 0, 1)
			q[k] = math.Min(hi, math.Max(lo, tangoQ(float64(i), float64(j), nn, d0)))
		}
	}
	// The nuisance grid, shared by both steps: every table's probability at
	// each grid value.
	const grid = nuisanceGrid
	pm := sc.pm
	step := (hi - lo) / grid
	for g := range pm {
		e.pmf(lo+float64(g)*step, d0, row, pm[g])
	}
	// The tables from most to least extreme on the score, and where each
	// one's ties end: a table's tail is the prefix up to there.
	perm := sc.perm
	for u := range perm {
		perm[u] = u
	}
	sign := 1.0
	if !below {
		sign = -1
	}
	slices.SortFunc(perm, func(x, y int) int { return cmp.Compare(sign*z[x], sign*z[y]) })
	end := sc.end // by position in perm
	for k := total - 1; k >= 0; k-- {
		end[k] = k
		if k+1 < total && sign*z[perm[k+1]] <= sign*z[perm[k]]+1e-9*math.Max(1, math.Abs(z[perm[k]])) {
			end[k] = end[k+1]
		}
	}
	// Each table's own p-value, the tail of the score at the table's
	// nuisance estimate, interpolated between the two grid values around it
	// (an ordering need not be computed exactly to give an exact test: any
	// ordering fixed before the data does).
	cum := sc.cum
	for g := range cum {
		c := cum[g]
		acc := 0.0
		for k, u := range perm {
			acc += pm[g][u]
			c[k] = acc
		}
	}
	ep := sc.ep
	for k, u := range perm {
		if hi <= lo {
			ep[u] = cum[0][end[k]]
			continue
		}
		x := (q[u] - lo) / step
		g := min(grid-1, max(0, int(x)))
		f := math.Min(1, math.Max(0, x-float64(g)))
		ep[u] = (1-f)*cum[g][end[k]] + f*cum[g+1][end[k]]
	}
	return ep
}

// regionMax is the M step of tail: the largest probability of the tables in
// (indexed as tables) over the nuisance parameter's range when the change
// is d0 (both rates in [0, 1], their sum at most 1), by supOverRate.
func (e *exactPaired) regionMax(d0 float64, in []bool, sc *scratch) float64 {
	row, buf := sc.row, sc.buf
	lo, hi := math.Max(0, -d0), (1-d0)/2
	members := sc.members[:0]
	for u, ok := range in {
		if ok {
			members = append(members, int32(u))
		}
	}
	sc.members = members
	regionProb := func(p []float64) float64 {
		s := 0.0
		for _, u := range members {
			s += p[u]
		}
		return math.Min(1, s)
	}
	if hi <= lo {
		return regionProb(sc.pm[0])
	}
	return supOverRate(lo, hi, e.n, func(p10 float64) float64 {
		e.pmf(p10, d0, row, buf)
		return regionProb(buf)
	})
}

// supOverRate is the largest value of f, the probability of a region of
// tables of n pairs as a function of the baseline-only rate, over [lo, hi].
// Such a probability is a polynomial of degree n in the rate, with features
// as narrow as the rate's standard error, and at a few hundred pairs it can
// peak sharply near either end of the range besides broadly in the middle
// (TestExactPairedHoldsItsLevelAtLargeN: a uniform grid of 48 rates missed
// such peaks by up to 22%). So it is taken on a grid uniform in the arcsine
// of the rate's square root (the scale on which a rate's standard error is
// the same everywhere, 1/(2√n)) with mGridPerSE points per standard error
// (at most maxRateGrid), and refined by golden-section search around each
// of the grid's local maxima that comes within a tenth of the best.
func supOverRate(lo, hi float64, n int, f func(rate float64) float64) float64 {
	alo, ahi := math.Asin(math.Sqrt(lo)), math.Asin(math.Sqrt(hi))
	steps := min(maxRateGrid, max(nuisanceGrid, int(math.Ceil((ahi-alo)*2*math.Sqrt(float64(n))*mGridPerSE))))
	at := make([]float64, steps+1)
	prob := func(x float64) float64 {
		s := math.Sin(alo + (ahi-alo)*x/float64(steps))
		return f(math.Min(hi, math.Max(lo, s*s)))
	}
	best := -1.0
	for g := range at {
		at[g] = prob(float64(g))
		best = math.Max(best, at[g])
	}
	out := best
	for g := range at {
		if at[g] < 0.9*best || g > 0 && at[g-1] > at[g] || g < steps && at[g+1] > at[g] {
			continue
		}
		// Golden-section search on the grid's index between the neighbours.
		const phi = 0.6180339887498949
		a, b := float64(max(g-1, 0)), float64(min(g+1, steps))
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
		out = math.Max(out, math.Max(f1, f2))
	}
	return out
}

// mGridPerSE is the number of points of supOverRate's grid per standard
// error of the rate, and maxRateGrid the most points it takes (reached
// past about 5,000 pairs, where the region's probability is smooth on the
// scale of the steps).
const (
	mGridPerSE  = 4.0
	maxRateGrid = 400
)

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
	// The corrected score interval is close to the exact one: the search
	// for each end starts there, which saves most of a bisection. The two
	// ends are independent searches, run side by side with a scratch each.
	glo, ghi := tangoEstimate(e.x01, e.x10, e.n, design{}, nil).bound(a)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		// hi: the smallest d0 in [est, 1] at which "below d0" is shown at a.
		sc := e.scratch()
		hi = firstTrue(func(d0 float64) bool { return e.tail(d0, true, sc) <= a }, est, 1-eps, ghi)
	}()
	// lo: the largest d0 in [-1, est] at which "above d0" is shown, found
	// as the first true of the mirrored search.
	sc := e.scratch()
	lo = -firstTrue(func(d0 float64) bool { return e.tail(-d0, false, sc) <= a }, -est, 1-eps, -glo)
	wg.Wait()
	if hi >= 1-eps {
		hi = 1
	}
	if lo <= -1+eps {
		lo = -1
	}
	e.mu.Lock()
	e.cache[a] = [2]float64{lo, hi}
	e.mu.Unlock()
	return lo, hi
}

// firstTrue finds the smallest x in [lo, hi] at which the monotone f (false
// then true) turns true, to 1e-7, searching outward from guess for a bracket
// first. hi when f is false even at hi (the data cannot bound that side).
func firstTrue(f func(float64) bool, lo, hi, guess float64) float64 {
	guess = math.Min(hi, math.Max(lo, guess))
	l, h := lo, hi
	if f(guess) {
		h = guess
		for w := 0.01; h-w > lo; w *= 2 {
			if !f(h - w) {
				l = h - w
				break
			}
			h -= w
		}
	} else {
		l = guess
		found := false
		for w := 0.01; l+w < hi; w *= 2 {
			if f(l + w) {
				h, found = l+w, true
				break
			}
			l += w
		}
		if !found && !f(hi) {
			return hi
		}
	}
	for h-l > 1e-7 {
		m := (l + h) / 2
		if f(m) {
			h = m
		} else {
			l = m
		}
	}
	return h
}

// p is the one-sided p-value of "the change is below m" (below) or "above
// m", computed directly rather than by inverting the bound.
func (e *exactPaired) p(m float64, below bool) float64 {
	return changeP(m, below, func(m float64, below bool) float64 { return e.tail(m, below, e.scratch()) })
}

// changeP is the p-value test(m, below) of a change in a rate, which lies in
// [-1, 1]: 1 where the hypothesis holds for every change ("below -1"),
// and the limit kept just inside the range, where the tests are defined.
func changeP(m float64, below bool, test func(m float64, below bool) float64) float64 {
	if m <= -1 && below || m >= 1 && !below {
		return 1
	}
	return test(math.Max(-1+1e-9, math.Min(1-1e-9, m)), below)
}
