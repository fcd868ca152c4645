package gate

import (
	"math"
	"slices"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// The statistical primitives of the gate. Distributions come from gonum;
// what is written here is only the bookkeeping around them (sums of squares,
// ranks), each checked against scipy/statsmodels in scipy_test.go. The
// intervals the criteria use are in estimate.go.

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
