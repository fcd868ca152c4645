package gate

import (
	"math"
	"slices"

	"gonum.org/v1/gonum/stat/distuv"
)

// An estimate is a statistic with the one procedure that bounds it. Every
// interval the gate prints, every p-value and every status is read off that
// one bound function, so that they can never disagree (STATISTICS.md):
//
//   - the two-sided interval at confidence c is bound((1-c)/2);
//   - the one-sided p-value for "θ < m" is the smallest level a at which
//     the upper bound hi(a) is below m, found by bisection (bound is
//     monotone in a), and likewise for "θ > m";
//   - a status is "the interval is past the limit", at the level the check
//     is decided at (Holm's correction changes that level, see criteria.go).
//
// A pass/fail change has an exact test of its own (p): below exactPairsMax
// pairs the test the interval inverts, above it the exact test that checks
// Tango's corrected interval. Its p-value at the limit is the one printed,
// and the interval is kept from claiming more at the limit than it shows
// (criteria.go's testedAtLimit), so the three still agree.
//
// No method resamples: each is deterministic, so no Monte Carlo error can
// flip a verdict near the decision boundary, and each costs O(n) or
// O(n log n), which keeps a comparison of 100,000 pairs in seconds.
type estimate struct {
	est    float64
	method string
	// n is the number of pairs (or records) and units the number of
	// independent units (clusters when clustered).
	n, units int
	// bound returns the lower and upper one-sided confidence bounds at level
	// a in (0, 1): each holds with probability at least 1-a. nil means the
	// data cannot bound the statistic; why says why.
	bound func(a float64) (lo, hi float64)
	why   string
	// p, when set, is the method's own exact one-sided p-value of "θ < m"
	// (below) or "θ > m": the exact test, whose bound is itself found by
	// bisection on its p-value, or the exact test on Tango's statistic that
	// checks Tango's interval (tangoExactP).
	p func(m float64, below bool) float64
}

// Methods of inference, as reported with every interval.
const (
	MethodPairedT      = "paired t"
	MethodT            = "t"
	MethodClusterT     = "cluster-robust t"
	MethodRangeBound   = "range bound"
	MethodExact        = "Clopper-Pearson exact"
	MethodExactCluster = "Clopper-Pearson, design effect"
	MethodTango        = "Tango score"
	MethodTangoCluster = "Tango score, design effect"
	MethodFieller      = "Fieller t"
	MethodOrderStat    = "order statistics"
)

// power is the power at which the minimum detectable effect is reported
// (the conventional 80%).
const power = 0.8

// noBound is an estimate the data cannot bound.
func noBound(est float64, method string, n, units int, why string) estimate {
	return estimate{est: est, method: method, n: n, units: units, why: why}
}

// interval is the two-sided interval at confidence conf.
func (e estimate) interval(conf float64) Interval {
	return e.intervalAt((1 - conf) / 2)
}

// intervalAt is the interval whose each side holds at level a.
func (e estimate) intervalAt(a float64) Interval {
	iv := Interval{Est: e.est, Lo: math.NaN(), Hi: math.NaN(), Method: e.method, N: e.n}
	if e.bound != nil && !math.IsNaN(e.est) {
		iv.Lo, iv.Hi = e.bound(a)
	}
	return iv
}

// bounded reports whether the data bound the estimate at all.
func (e estimate) bounded() bool { return e.bound != nil && !math.IsNaN(e.est) }

// pBelow is the one-sided p-value for H1: θ < m, the smallest level at which
// the upper bound falls below m (NaN when the estimate cannot be bounded).
func (e estimate) pBelow(m float64) float64 {
	if !e.bounded() {
		return math.NaN()
	}
	if e.p != nil {
		return asInverted(e.p(m, true))
	}
	return invert(func(a float64) bool { _, hi := e.bound(a); return hi < m })
}

// pAbove is the one-sided p-value for H1: θ > m.
func (e estimate) pAbove(m float64) float64 {
	if !e.bounded() {
		return math.NaN()
	}
	if e.p != nil {
		return asInverted(e.p(m, false))
	}
	return invert(func(a float64) bool { lo, _ := e.bound(a); return lo > m })
}

// asInverted reports a p-value on invert's scale: above 0.5 as 1, and
// never below invert's smallest level.
func asInverted(p float64) float64 {
	if p > 0.5 {
		return 1
	}
	return math.Max(p, 1e-15)
}

// invert finds the smallest level a in (0, 0.5] at which past(a) holds,
// given that past is monotone (false for small a, true from some a on): the
// p-value of the test that the bound inverts, exact to 1e-12. A one-sided
// bound at a level above 0.5 lies past the estimate, where not every method
// is defined; no gate decides there (confidence ≥ 0.5), so a p-value above
// 0.5 is reported as 1 and printed as "≥ 0.5". Holm's procedure is
// unaffected: such a check rejects at no level, and neither does any check
// after it.
func invert(past func(a float64) bool) float64 {
	const tiny = 1e-15
	if past(tiny) {
		return tiny
	}
	if !past(0.5) {
		return 1
	}
	lo, hi := tiny, 0.5
	for hi-lo > 1e-12 {
		mid := (lo + hi) / 2
		if past(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}

// mde is the minimum detectable effect at level a: how far beyond a limit
// the truth must be for the interval to exclude the limit with 80% power,
// read off the interval's half-width (half-width = z·se for every method
// here, asymptotically). NaN when the estimate cannot be bounded.
func (e estimate) mde(a float64) float64 {
	iv := e.intervalAt(a)
	if !iv.Bounded() {
		return math.NaN()
	}
	z := distuv.UnitNormal.Quantile(1 - a)
	return (iv.Hi - iv.Lo) / 2 * (z + distuv.UnitNormal.Quantile(power)) / z
}

// shifted moves an estimate by c (a ratio to a relative change).
func (e estimate) shifted(c float64) estimate {
	out := e
	out.est += c
	if b := e.bound; b != nil {
		out.bound = func(a float64) (float64, float64) { lo, hi := b(a); return lo + c, hi + c }
	}
	if p := e.p; p != nil {
		out.p = func(m float64, below bool) float64 { return p(m-c, below) }
	}
	return out
}

// scaled multiplies an estimate by k > 0 (a mean to a sum, or per 1,000).
func (e estimate) scaled(k float64) estimate {
	out := e
	out.est *= k
	if b := e.bound; b != nil {
		out.bound = func(a float64) (float64, float64) { lo, hi := b(a); return lo * k, hi * k }
	}
	if p := e.p; p != nil {
		out.p = func(m float64, below bool) float64 { return p(m/k, below) }
	}
	return out
}

// span is the range a per-unit value can take: a metric's declared range, or
// the range of a difference of two such scores. Unbounded metrics (latency,
// cost) have hi = +Inf.
type span struct{ lo, hi float64 }

func (s span) finite() bool { return !math.IsInf(s.lo, 0) && !math.IsInf(s.hi, 0) && s.hi > s.lo }

// diff is the range of a - b for a, b in s.
func (s span) diff() span { return span{s.lo - s.hi, s.hi - s.lo} }

// unseen is the largest share of a population that n independent draws all
// miss with probability at least a: 1 - a^(1/n), the exact one-sided
// Clopper-Pearson bound for 0 events in n (the "rule of three" is its
// approximation 3/n at a = 0.05).
func unseen(n int, a float64) float64 { return 1 - math.Pow(a, 1/float64(n)) }

// meanEstimate infers the mean of x: a t interval (paired t for differences,
// cluster-robust t with G-1 degrees of freedom when clustered). When every
// unit has the same value the t interval would have zero width, which proves
// nothing: the data cannot exclude a share unseen(units, a) of the population
// sitting at the end of the metric's range, so the interval is the range of
// means that share could produce (the exact bound of a rate at 0 events,
// applied to the metric's range). A metric without a finite range then has no
// interval at all.
func meanEstimate(x []float64, d design, r span, paired bool) estimate {
	n := len(x)
	units := d.units(n)
	method := MethodT
	switch {
	case d.clustered():
		method = MethodClusterT
	case paired:
		method = MethodPairedT
	}
	if n == 0 {
		return noBound(math.NaN(), method, 0, 0, "no values")
	}
	mean := meanOf(x)
	if units < 2 {
		what := "pair"
		if d.clustered() {
			what = "cluster"
		}
		return noBound(mean, method, n, units, "one "+what+" cannot show how much the value varies")
	}
	var se float64
	if d.clustered() {
		se = clusterSE(x, mean, d)
	} else {
		se = stdDev(x) / math.Sqrt(float64(n))
	}
	if !(se > 1e-12*math.Max(1, math.Abs(mean))) {
		if !r.finite() {
			return noBound(mean, method, n, units, "every value is the same, so the data cannot show how much it varies, and the metric has no range to bound it")
		}
		return estimate{est: mean, method: MethodRangeBound, n: n, units: units,
			bound: func(a float64) (float64, float64) {
				u := unseen(units, a)
				return mean - u*(mean-r.lo), mean + u*(r.hi-mean)
			}}
	}
	if r.finite() {
		// One side's scores of two values (0.5 or 1) are counts in
		// disguise: the methods for pass/fail data, scaled, are exact where
		// the t interval is not (metrics.go does the same for a change,
		// from both sides' scores: twoLevelChange).
		if !paired {
			if e, ok := twoLevelEstimate(x, d); ok {
				return e
			}
		}
		// A few values, one of them usual (a judge's scale): the
		// multinomial score interval, where the t interval's normal
		// approximation fails because the other values are rare. With
		// clusters the cluster-robust t stays: its G-1 degrees of freedom
		// are what a few clusters can show.
		if vals := discreteValues(x); vals != nil && !d.clustered() {
			return discreteEstimate(x, vals, r)
		}
	}
	df := float64(units - 1)
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}
	return estimate{est: mean, method: method, n: n, units: units,
		bound: func(a float64) (float64, float64) {
			// The mean cannot leave the metric's range, so neither does its
			// interval (an F1 mean of 0.985 ± 0.031 is bounded by 1).
			q := t.Quantile(1 - a)
			return math.Max(r.lo, mean-q*se), math.Min(r.hi, mean+q*se)
		}}
}

// proportionEstimate is the rate of k events in n records: the exact
// Clopper-Pearson interval. With clusters the records are not independent,
// so the count is shrunk by the design effect (CR1 variance over the binomial
// variance, at least 1, at most n/G): an effective sample of n/deff. With no
// event (or only events) the correlation cannot be estimated and the worst
// case is taken: each cluster counts once.
func proportionEstimate(k, n int, d design, x []float64) estimate {
	if n == 0 {
		return noBound(math.NaN(), MethodExact, 0, 0, "no records")
	}
	p := float64(k) / float64(n)
	units := d.units(n)
	nEff, kEff := float64(n), float64(k)
	method := MethodExact
	if d.clustered() {
		method = MethodExactCluster
		deff := float64(n) / float64(d.g)
		if k > 0 && k < n {
			v := clusterSE(x, p, d)
			deff = math.Min(deff, math.Max(1, v*v/(p*(1-p)/float64(n))))
		}
		nEff = float64(n) / deff
		kEff = p * nEff
	}
	return estimate{est: p, method: method, n: n, units: units,
		bound: func(a float64) (float64, float64) { return clopperPearson(kEff, nEff, a) }}
}

// clopperPearson returns the exact one-sided bounds at level a each of a rate
// of x events in n trials (real x and n: an effective sample).
func clopperPearson(x, n, a float64) (lo, hi float64) {
	lo, hi = 0, 1
	if x > 0 {
		lo = distuv.Beta{Alpha: x, Beta: n - x + 1}.Quantile(a)
	}
	if x < n {
		hi = distuv.Beta{Alpha: x + 1, Beta: n - x}.Quantile(1 - a)
	}
	return lo, hi
}

// pairedProportionEstimate is the change in the rate of 1s on paired 0/1
// records, target - baseline = (targetOnly - baselineOnly)/n, where
// targetOnly counts the pairs where only the target has a 1 (for a pass
// rate: improved; for an error rate: a new error).
//
// Up to exactPairsMax independent pairs it is the exact unconditional score
// test (exactPaired), which holds its level at every n without a continuity
// correction. Above, and with clusters, it is Tango's score interval (Tango
// 1998) with a continuity correction of half a count: unlike a t or Wald
// interval it does not collapse when no pair is discordant (0 of 30 would
// give ±0.141), and without the correction it is liberal when discordant
// pairs are rare and one-sided (8 regressions in 200 pairs "show" a drop past
// 2%, which a 2% rate gives 5% of the time; the exact test needs 9). With
// clusters the score statistic is divided by the square root of the design
// effect, estimated as for proportionEstimate.
func pairedProportionEstimate(targetOnly, baselineOnly, n int, d design, diffs []float64) estimate {
	if n == 0 {
		return noBound(math.NaN(), MethodTango, 0, 0, "no pairs")
	}
	if !d.clustered() && n <= exactPairsMax {
		x := exactPairedTest(targetOnly, baselineOnly, n)
		return estimate{est: float64(targetOnly-baselineOnly) / float64(n), method: MethodExactPaired, n: n, units: n, bound: x.bound, p: x.p}
	}
	return tangoEstimate(targetOnly, baselineOnly, n, d, diffs)
}

// tangoEstimate is Tango's score interval with a continuity correction of
// half a count, divided by the square root of the design effect when
// clustered (see pairedProportionEstimate).
func tangoEstimate(targetOnly, baselineOnly, n int, d design, diffs []float64) estimate {
	delta := float64(targetOnly-baselineOnly) / float64(n)
	method := MethodTango
	deff := 1.0
	if d.clustered() {
		method = MethodTangoCluster
		deff = float64(n) / float64(d.g)
		if v := variance(diffs); v > 0 {
			se := clusterSE(diffs, delta, d)
			deff = math.Min(deff, math.Max(1, se*se/(v/float64(n))))
		}
	}
	x01, x10, nn := float64(targetOnly), float64(baselineOnly), float64(n)
	score := func(d0 float64) float64 { return tangoZ(x01, x10, nn, d0, 0.5, deff) }
	var p func(m float64, below bool) float64
	if !d.clustered() {
		// The exact test on Tango's statistic decides where the corrected
		// interval alone would claim too much (tangoExactP).
		p = func(m float64, below bool) float64 {
			return changeP(m, below, func(m float64, below bool) float64 {
				return tangoExactP(targetOnly, baselineOnly, n, m, below)
			})
		}
	}
	return estimate{est: delta, method: method, n: n, units: d.units(n), p: p,
		bound: func(a float64) (float64, float64) {
			z := distuv.UnitNormal.Quantile(1 - a)
			// The score falls as the hypothesised change d0 rises: the
			// bounds are where it crosses ±z.
			return solveDecreasing(score, z, -1, 1), solveDecreasing(score, -z, -1, 1)
		}}
}

// solveDecreasing finds x in [lo, hi] where the decreasing f crosses y.
func solveDecreasing(f func(float64) float64, y, lo, hi float64) float64 {
	if f(lo) <= y {
		return lo
	}
	if f(hi) >= y {
		return hi
	}
	for range 100 {
		mid := (lo + hi) / 2
		if f(mid) > y {
			lo = mid
		} else {
			hi = mid
		}
		if hi-lo < 1e-13 {
			break
		}
	}
	return (lo + hi) / 2
}

// ratioEstimate infers mean(t)/mean(b) on paired values with Fieller's
// method: the ratio r is in the interval exactly when the paired t test of
// mean(t - r·b) = 0 does not reject (cluster-robust when clustered). It
// needs no resampling and is exact for normal means; the interval is
// unbounded when the baseline's mean is not clearly away from zero. Values
// that are an exact multiple of each other leave no spread to bound the ratio:
// bounded metrics then use the range bound of each mean (each side at half
// the level), unbounded ones have no interval.
func ratioEstimate(bv, tv []float64, d design, r span) estimate {
	n := len(bv)
	units := d.units(n)
	method := MethodFieller
	if n == 0 {
		return noBound(math.NaN(), method, 0, 0, "no pairs")
	}
	mb, mt := meanOf(bv), meanOf(tv)
	if mb == 0 {
		return noBound(math.NaN(), method, n, units, "the baseline's mean is 0, so a ratio to it is undefined")
	}
	est := mt / mb
	if units < 2 {
		return noBound(est, method, n, units, "one unit cannot show how much the values vary")
	}
	vbb, vtt, vtb := meanCov(bv, bv, mb, mb, d), meanCov(tv, tv, mt, mt, d), meanCov(tv, bv, mt, mb, d)
	resid := vtt - 2*est*vtb + est*est*vbb
	if !(resid > 1e-12*est*est*math.Max(vbb, 1e-300)) || vbb == 0 && vtt == 0 {
		if !r.finite() || mb <= 0 {
			return noBound(est, method, n, units, "the target's values are an exact multiple of the baseline's, so the data cannot show how much the ratio varies")
		}
		bb, tb := meanEstimate(bv, d, r, false), meanEstimate(tv, d, r, false)
		return estimate{est: est, method: MethodRangeBound, n: n, units: units,
			bound: func(a float64) (float64, float64) {
				bl, bh := bb.bound(a / 2)
				tl, th := tb.bound(a / 2)
				if bl <= 0 {
					return tl / bh, math.Inf(1)
				}
				return tl / bh, th / bl
			}}
	}
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(units - 1)}
	return estimate{est: est, method: method, n: n, units: units,
		bound: func(a float64) (float64, float64) {
			q := t.Quantile(1 - a)
			q2 := q * q
			// (mt - r·mb)² = q²·(vtt - 2r·vtb + r²·vbb), a quadratic in r.
			A := mb*mb - q2*vbb
			B := mt*mb - q2*vtb
			C := mt*mt - q2*vtt
			disc := B*B - A*C
			if A <= 0 || disc < 0 {
				return math.Inf(-1), math.Inf(1)
			}
			s := math.Sqrt(disc)
			return (B - s) / A, (B + s) / A
		}}
}

// meanCov is the estimated covariance of the means of x and y: the sample
// covariance over n, or its cluster-robust (CR1) form.
func meanCov(x, y []float64, mx, my float64, d design) float64 {
	n := float64(len(x))
	if d.clustered() {
		sx, sy := make([]float64, d.g), make([]float64, d.g)
		for i := range x {
			sx[d.clusters[i]] += x[i] - mx
			sy[d.clusters[i]] += y[i] - my
		}
		s := 0.0
		for g := range sx {
			s += sx[g] * sy[g]
		}
		g := float64(d.g)
		return g / (g - 1) * s / (n * n)
	}
	s := 0.0
	for i := range x {
		s += (x[i] - mx) * (y[i] - my)
	}
	return s / (n - 1) / n
}

// quantileCI holds one side's sorted values and the binomial CDF that gives
// the distribution-free interval of its q-quantile from order statistics:
// [X(l), X(u)] covers the quantile with probability at least 1-2a when
// P(Bin(n, q) < l) ≤ a and P(Bin(n, q) ≥ u) ≤ a, for any distribution.
type quantileCI struct {
	sorted []float64
	q      float64
	cdf    []float64 // cdf[k] = P(Bin(n, q) <= k)
}

func newQuantileCI(sorted []float64, q float64) *quantileCI {
	n := len(sorted)
	cdf := make([]float64, n+1)
	b := distuv.Binomial{N: float64(n), P: q}
	acc := 0.0
	// Summing the pmf in log space stays accurate for n in the hundreds of
	// thousands, where the pmf of the tails underflows individually.
	for k := 0; k <= n; k++ {
		acc += math.Exp(b.LogProb(float64(k)))
		cdf[k] = math.Min(1, acc)
	}
	return &quantileCI{sorted: sorted, q: q, cdf: cdf}
}

// bound returns the one-sided bounds at level a: -Inf or +Inf where the
// sample is too small to bound that side (p95 of 20 values has no upper
// bound at 97.5%).
func (c *quantileCI) bound(a float64) (lo, hi float64) {
	n := len(c.sorted)
	// l is the largest rank with P(Bin < l) = cdf[l-1] ≤ a.
	l := sortSearch(n+1, func(k int) bool { return c.cdf[k] > a }) // first k with cdf[k] > a
	// ranks are 1-based: X(l) with l = k (cdf[k-1] ≤ a).
	lo = math.Inf(-1)
	if l >= 1 {
		lo = c.sorted[l-1]
	}
	// u is the smallest rank with P(Bin ≥ u) = 1 - cdf[u-1] ≤ a.
	u := sortSearch(n+1, func(k int) bool { return c.cdf[k] >= 1-a }) + 1
	hi = math.Inf(1)
	if u <= n {
		hi = c.sorted[u-1]
	}
	return lo, hi
}

func sortSearch(n int, f func(int) bool) int {
	lo, hi := 0, n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if !f(m) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// quantileEstimates returns the q-quantile of each side and their paired
// difference and ratio. The change is bounded by the two sides' intervals at
// half the level each (Bonferroni): P(both cover) ≥ 1-a whatever the
// dependence between the sides, so no resampling is needed and the bound is
// distribution-free. A side whose values are all equal has no spread to show,
// and its estimates no interval.
func quantileEstimates(sb, st []float64, q float64) (base, targ, delta, ratio estimate) {
	n := len(sb)
	xb, xt := quantile(sb, q), quantile(st, q)
	// The sides have the same n, so the same binomial: one CDF serves both.
	cb := newQuantileCI(sb, q)
	ct := &quantileCI{sorted: st, q: q, cdf: cb.cdf}
	mk := func(est float64, f func(a float64) (float64, float64)) estimate {
		return estimate{est: est, method: MethodOrderStat, n: n, units: n, bound: f}
	}
	base, targ = mk(xb, cb.bound), mk(xt, ct.bound)
	delta = mk(xt-xb, func(a float64) (float64, float64) {
		bl, bh := cb.bound(a / 2)
		tl, th := ct.bound(a / 2)
		return tl - bh, th - bl
	})
	ratio = mk(xt/xb, func(a float64) (float64, float64) {
		bl, bh := cb.bound(a / 2)
		tl, th := ct.bound(a / 2)
		lo, hi := tl/bh, math.Inf(1)
		if bl > 0 {
			hi = th / bl
		}
		if math.IsNaN(lo) || lo < 0 {
			lo = 0
		}
		return lo, hi
	})
	if xb == 0 {
		ratio = noBound(math.NaN(), MethodOrderStat, n, n, "the baseline's value is 0, so a ratio to it is undefined")
	}
	flat := func(s []float64) bool { return len(s) > 0 && s[0] == s[len(s)-1] }
	const why = "every value is the same, so the data cannot show how much it varies"
	if flat(sb) {
		base = noBound(xb, MethodOrderStat, n, n, why)
	}
	if flat(st) {
		targ = noBound(xt, MethodOrderStat, n, n, why)
	}
	if flat(sb) || flat(st) {
		delta = noBound(xt-xb, MethodOrderStat, n, n, why)
		ratio = noBound(ratio.est, MethodOrderStat, n, n, why)
	}
	if n < 2 {
		for _, e := range []*estimate{&base, &targ, &delta, &ratio} {
			*e = noBound(e.est, MethodOrderStat, n, n, "one pair cannot bound a percentile")
		}
	}
	return base, targ, delta, ratio
}

// variance is the sample variance (n-1 denominator).
func variance(x []float64) float64 {
	if len(x) < 2 {
		return 0
	}
	m := meanOf(x)
	s := 0.0
	for _, v := range x {
		s += (v - m) * (v - m)
	}
	return s / float64(len(x)-1)
}

func stdDev(x []float64) float64 { return math.Sqrt(variance(x)) }

// sortedCopy returns x sorted ascending, leaving x as it is.
func sortedCopy(x []float64) []float64 {
	s := slices.Clone(x)
	slices.Sort(s)
	return s
}
