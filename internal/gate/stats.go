package gate

import (
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// The statistical primitives of the gate. Distributions come from gonum;
// what is written here is only the bookkeeping around them (resampling,
// ranks, sums of squares), each checked against scipy/statsmodels in
// scipy_test.go.

// LargeN is the number of independent units (pairs, or clusters) from which
// the paired delta of a mean uses a t-interval instead of the bootstrap: from
// about 30 units the mean of bounded scores is close enough to normal that the
// t-interval is as accurate as the bootstrap and needs no resampling.
const LargeN = 30

// DefaultBootstrap is the number of bootstrap replicates: 2,000 keeps the
// Monte Carlo error of a 95% percentile bound near 0.005 standard errors
// (Efron & Tibshirani 1993, ch. 19) at a cost of milliseconds per statistic.
const DefaultBootstrap = 2000

// power is the power at which the minimum detectable effect is reported
// (the conventional 80%).
const power = 0.8

// Methods of inference, as reported with every interval.
const (
	MethodPairedT     = "paired t"
	MethodT           = "t"
	MethodClusterT    = "cluster-robust t"
	MethodBootstrap   = "paired bootstrap"
	MethodClusterBoot = "cluster bootstrap"
	MethodExact       = "exact binomial"
	MethodMcNemar     = "McNemar exact"
)

// design says how the paired units depend on each other: nil clusters means
// independent pairs; otherwise clusters[i] is the cluster index of pair i,
// in 0..g-1, and inference treats clusters as the independent units.
type design struct {
	clusters []int
	g        int
}

func (d design) clustered() bool { return d.clusters != nil }

// units is the number of independent units.
func (d design) units(n int) int {
	if d.clustered() {
		return d.g
	}
	return n
}

// subset restricts the design to the pairs idx (in order), renumbering
// clusters densely.
func (d design) subset(idx []int) design {
	if !d.clustered() {
		return design{}
	}
	m := map[int]int{}
	cl := make([]int, len(idx))
	for j, i := range idx {
		c, ok := m[d.clusters[i]]
		if !ok {
			c = len(m)
			m[d.clusters[i]] = c
		}
		cl[j] = c
	}
	return design{clusters: cl, g: len(m)}
}

// inference is an estimate with what is needed to test it against a bound:
// a standard error and degrees of freedom (t methods) or the sorted bootstrap
// replicates (bootstrap methods).
type inference struct {
	est, se, df float64
	boot        []float64 // sorted; nil for t methods
	method      string
	n, units    int
}

// interval is the two-sided interval at confidence conf.
func (in inference) interval(conf float64) Interval {
	iv := Interval{Est: in.est, Lo: math.NaN(), Hi: math.NaN(), Method: in.method, N: in.n}
	a := (1 - conf) / 2
	switch {
	case in.boot != nil:
		iv.Lo, iv.Hi = quantile(in.boot, a), quantile(in.boot, 1-a)
	case in.se == 0 && !math.IsNaN(in.est):
		iv.Lo, iv.Hi = in.est, in.est
	case in.df > 0:
		q := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: in.df}.Quantile(1 - a)
		iv.Lo, iv.Hi = in.est-q*in.se, in.est+q*in.se
	}
	return iv
}

// pAbove is the one-sided p-value for H1: θ > m (H0: θ ≤ m).
func (in inference) pAbove(m float64) float64 {
	if in.boot != nil {
		k := 0
		for _, b := range in.boot {
			if b <= m {
				k++
			}
		}
		return float64(1+k) / float64(1+len(in.boot))
	}
	if math.IsNaN(in.est) {
		return math.NaN()
	}
	if in.se == 0 {
		if in.est > m {
			return 0
		}
		return 1
	}
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: in.df}.Survival((in.est - m) / in.se)
}

// pBelow is the one-sided p-value for H1: θ < m (H0: θ ≥ m).
func (in inference) pBelow(m float64) float64 {
	if in.boot != nil {
		k := 0
		for _, b := range in.boot {
			if b >= m {
				k++
			}
		}
		return float64(1+k) / float64(1+len(in.boot))
	}
	if math.IsNaN(in.est) {
		return math.NaN()
	}
	if in.se == 0 {
		if in.est < m {
			return 0
		}
		return 1
	}
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: in.df}.CDF((in.est - m) / in.se)
}

// mde is the minimum detectable effect: the distance beyond a bound at which a
// two-sided test at conf rejects with 80% power.
func (in inference) mde(conf float64) float64 {
	a := (1 - conf) / 2
	if in.boot != nil || in.df <= 0 {
		z := distuv.UnitNormal
		return (z.Quantile(1-a) + z.Quantile(power)) * in.se
	}
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: in.df}
	return (t.Quantile(1-a) + t.Quantile(power)) * in.se
}

// meanInference infers the mean of x: cluster-robust t when clustered,
// t for LargeN or more pairs, the bootstrap below that.
func meanInference(x []float64, d design, bootN int, seed uint64, paired bool) inference {
	n := len(x)
	in := inference{est: math.NaN(), se: math.NaN(), n: n, units: d.units(n)}
	if n == 0 {
		return in
	}
	in.est = stat.Mean(x, nil)
	switch {
	case d.clustered():
		in.method = MethodClusterT
		if d.g < 2 {
			return in
		}
		in.se = clusterSE(x, in.est, d)
		in.df = float64(d.g - 1)
	case n >= LargeN:
		in.method = MethodT
		if paired {
			in.method = MethodPairedT
		}
		in.se = stat.StdErr(stat.StdDev(x, nil), float64(n))
		in.df = float64(n - 1)
	default:
		in.method = MethodBootstrap
		if n < 2 {
			return in
		}
		reps := bootstrap(n, d, bootN, seed, 1, func(idx []int, out []float64) {
			s := 0.0
			for _, i := range idx {
				s += x[i]
			}
			out[0] = s / float64(len(idx))
		})
		in.boot = reps[0]
		in.se = stat.StdDev(in.boot, nil)
	}
	return in
}

// clusterSE is the CR1 cluster-robust standard error of a mean (the
// regression of x on a constant with statsmodels' cov_type="cluster"):
// sqrt(G/(G-1) · Σ_g (Σ_{i∈g} (x_i - mean))² / n²).
func clusterSE(x []float64, mean float64, d design) float64 {
	sums := make([]float64, d.g)
	for i, v := range x {
		sums[d.clusters[i]] += v - mean
	}
	ss := 0.0
	for _, s := range sums {
		ss += s * s
	}
	n := float64(len(x))
	g := float64(d.g)
	return math.Sqrt(g / (g - 1) * ss / (n * n))
}

// bootstrap draws reps resamples of the n pairs (whole clusters when
// clustered) and calls stat with the resampled indices; stat writes k
// statistics into out. It returns the k sorted replicate vectors, dropping
// NaN replicates (a resample where a statistic is undefined). The generator
// is seeded so that a verdict is reproducible run to run.
func bootstrap(n int, d design, reps int, seed uint64, k int, statFn func(idx []int, out []float64)) [][]float64 {
	if reps <= 0 {
		reps = DefaultBootstrap
	}
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	var members [][]int
	if d.clustered() {
		members = make([][]int, d.g)
		for i, c := range d.clusters {
			members[c] = append(members[c], i)
		}
	}
	out := make([][]float64, k)
	for j := range out {
		out[j] = make([]float64, 0, reps)
	}
	idx := make([]int, 0, n)
	vals := make([]float64, k)
	for range reps {
		idx = idx[:0]
		if members != nil {
			for range d.g {
				idx = append(idx, members[rng.IntN(d.g)]...)
			}
		} else {
			for range n {
				idx = append(idx, rng.IntN(n))
			}
		}
		statFn(idx, vals)
		for j, v := range vals {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				out[j] = append(out[j], v)
			}
		}
	}
	for _, o := range out {
		slices.Sort(o)
	}
	return out
}

// quantile is the sample quantile of sorted x by linear interpolation between
// order statistics (Hyndman & Fan type 7, the default of numpy and R).
func quantile(sorted []float64, p float64) float64 {
	n := len(sorted)
	if n == 0 {
		return math.NaN()
	}
	h := float64(n-1) * p
	lo := int(math.Floor(h))
	if lo >= n-1 {
		return sorted[n-1]
	}
	return sorted[lo] + (h-float64(lo))*(sorted[lo+1]-sorted[lo])
}

// mcnemarExact is McNemar's exact two-sided test on the discordant pairs:
// improved (baseline failed, target passed) and regressed (the reverse).
// Under H0 the regressed count is Binomial(improved+regressed, 1/2).
func mcnemarExact(improved, regressed int) float64 {
	n := improved + regressed
	if n == 0 {
		return 1
	}
	k := min(improved, regressed)
	p := 2 * distuv.Binomial{N: float64(n), P: 0.5}.CDF(float64(k))
	return math.Min(1, p)
}

// mcnemarRegressed is the one-sided exact p-value for H1: the target
// regresses more samples than it improves.
func mcnemarRegressed(improved, regressed int) float64 {
	n := improved + regressed
	if n == 0 || regressed == 0 {
		return 1
	}
	return distuv.Binomial{N: float64(n), P: 0.5}.Survival(float64(regressed - 1))
}

// binomGreater is P(X >= k) for X ~ Binomial(n, p): the one-sided p-value
// for "the rate is above p".
func binomGreater(k, n int, p float64) float64 {
	return distuv.Binomial{N: float64(n), P: p}.Survival(float64(k) - 1)
}

// binomLess is P(X <= k) for X ~ Binomial(n, p): the one-sided p-value for
// "the rate is below p".
func binomLess(k, n int, p float64) float64 {
	return distuv.Binomial{N: float64(n), P: p}.CDF(float64(k))
}

// clopperPearson is the exact binomial interval of x successes in n.
func clopperPearson(x, n int, conf float64) (lo, hi float64) {
	if n == 0 {
		return math.NaN(), math.NaN()
	}
	a := (1 - conf) / 2
	lo, hi = 0, 1
	if x > 0 {
		lo = distuv.Beta{Alpha: float64(x), Beta: float64(n - x + 1)}.Quantile(a)
	}
	if x < n {
		hi = distuv.Beta{Alpha: float64(x + 1), Beta: float64(n - x)}.Quantile(1 - a)
	}
	return lo, hi
}

// ranks returns the ranks of x (1-based), ties given their average rank.
func ranks(x []float64) []float64 {
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmpFloat(x[a], x[b]) })
	r := make([]float64, len(x))
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && x[idx[j+1]] == x[idx[i]] {
			j++
		}
		avg := float64(i+j)/2 + 1
		for k := i; k <= j; k++ {
			r[idx[k]] = avg
		}
		i = j + 1
	}
	return r
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// spearman is Spearman's rank correlation and its two-sided p-value from the
// t distribution with n-2 degrees of freedom (as scipy.stats.spearmanr).
func spearman(x, y []float64) (rho, p float64) {
	n := len(x)
	if n < 3 {
		return math.NaN(), math.NaN()
	}
	rho = stat.Correlation(ranks(x), ranks(y), nil)
	if math.IsNaN(rho) {
		return rho, math.NaN()
	}
	if math.Abs(rho) >= 1 {
		return rho, 0
	}
	df := float64(n - 2)
	t := rho * math.Sqrt(df/((1-rho)*(1+rho)))
	return rho, 2 * distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Survival(math.Abs(t))
}

// kendallTauB is Kendall's tau-b (ties in either variable accounted for,
// unlike gonum's stat.Kendall, which is tau-a) and its two-sided asymptotic
// p-value with the tie-corrected variance (scipy.stats.kendalltau,
// method="asymptotic"). It is O(n²), fine for suites of thousands of samples.
func kendallTauB(x, y []float64) (tau, p float64) {
	n := len(x)
	if n < 3 {
		return math.NaN(), math.NaN()
	}
	var s float64 // concordant minus discordant
	for i := range n {
		for j := i + 1; j < n; j++ {
			s += float64(sign(x[i]-x[j]) * sign(y[i]-y[j]))
		}
	}
	xt, x0, x1 := tieSums(x)
	yt, y0, y1 := tieSums(y)
	n0 := float64(n) * float64(n-1) / 2
	den := math.Sqrt((n0 - xt) * (n0 - yt))
	if den == 0 {
		return math.NaN(), math.NaN()
	}
	tau = s / den
	m := float64(n) * float64(n-1)
	v := (m*(2*float64(n)+5)-x1-y1)/18 + 2*xt*yt/m + x0*y0/(9*m*float64(n-2))
	z := s / math.Sqrt(v)
	return tau, 2 * distuv.UnitNormal.Survival(math.Abs(z))
}

func sign(v float64) int {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

// tieSums returns Σt(t-1)/2, Σt(t-1)(t-2) and Σt(t-1)(2t+5) over the sizes t
// of groups of equal values.
func tieSums(x []float64) (pairs, t2, t5 float64) {
	s := slices.Clone(x)
	slices.Sort(s)
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && s[j] == s[i] {
			j++
		}
		if t := float64(j - i); t > 1 {
			pairs += t * (t - 1) / 2
			t2 += t * (t - 1) * (t - 2)
			t5 += t * (t - 1) * (2*t + 5)
		}
		i = j
	}
	return pairs, t2, t5
}

// holm returns Holm's step-down adjusted p-values (the family-wise error rate
// is controlled at α when a hypothesis is rejected at adjusted p < α). NaN
// p-values are left NaN and do not count in the family.
func holm(p []float64) []float64 {
	adj := make([]float64, len(p))
	var idx []int
	for i, v := range p {
		adj[i] = math.NaN()
		if !math.IsNaN(v) {
			idx = append(idx, i)
		}
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmpFloat(p[a], p[b]) })
	m := len(idx)
	running := 0.0
	for k, i := range idx {
		v := math.Min(1, float64(m-k)*p[i])
		running = math.Max(running, v)
		adj[i] = running
	}
	return adj
}
