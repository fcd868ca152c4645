package gate

import (
	"math"
	"slices"

	"gonum.org/v1/gonum/stat/distuv"
)

// MethodDiscreteScore is the score interval of the mean of a bounded value
// that takes a few values.
const MethodDiscreteScore = "multinomial score"

// discreteMax is the most distinct values a bounded value may take for
// discreteEstimate: a judge's 1-5 scale has 9 possible differences.
const discreteMax = 12

// discreteValues returns the distinct values of x, sorted, when they are a
// few values of which one holds at least half of x (a judge's score that is
// nearly always 1, or differences that are mostly 0, with rare others: where
// the t interval's normal approximation fails), and nil otherwise. At most
// discreteMax values, and at most half as many as the values, so that a
// handful of continuous values is not taken for a scale.
func discreteValues(x []float64) []float64 {
	var vals []float64
	var counts []int
	top := 0
	for _, v := range x {
		i := slices.Index(vals, v)
		if i < 0 {
			if vals = append(vals, v); len(vals) > discreteMax || 2*len(vals) > len(x) {
				return nil
			}
			counts = append(counts, 0)
			i = len(vals) - 1
		}
		counts[i]++
		top = max(top, counts[i])
	}
	if 2*top < len(x) {
		return nil
	}
	slices.Sort(vals)
	return vals
}

// discreteEstimate bounds the mean of units that take a few values in the
// range r (a judge's scale, or the differences of two such scores) with the
// score interval of a multinomial mean: Tango's construction for paired
// pass/fail data, generalised. The data's values, and the range's two ends
// (which the data may not have shown), are the possible values; for each
// hypothesised mean d0 the most likely distribution on them with mean d0 (the
// constrained maximum-likelihood estimate) gives the variance of the mean
// under the hypothesis, and the interval is the set of d0 whose score
// statistic is within ±z, with a continuity correction of half the smallest
// step between values. Unlike the t interval it does not read a narrow
// spread off a few rare values (six drops in 1,000 pairs of a judge's
// score): the hypothesis that those values are common is weighed with its
// own variance, and the range's ends stay possible. The units are
// independent (meanEstimate keeps the cluster-robust t for clusters).
func discreteEstimate(x []float64, vals []float64, r span) estimate {
	n := len(x)
	support := slices.Clone(vals)
	for _, e := range []float64{r.lo, r.hi} {
		if !slices.Contains(support, e) {
			support = append(support, e)
		}
	}
	slices.Sort(support)
	counts := make([]float64, len(support))
	sum := 0.0
	for _, v := range x {
		counts[slices.Index(support, v)]++
		sum += v
	}
	mean := sum / float64(n)
	step := math.Inf(1)
	for i := 1; i < len(support); i++ {
		step = math.Min(step, support[i]-support[i-1])
	}
	nn := float64(n)
	score := func(d0 float64) float64 {
		v := constrainedVariance(support, counts, nn, d0)
		num := sum - nn*d0
		num -= math.Copysign(math.Min(math.Abs(num), step/2), num)
		switch {
		case num == 0:
			return 0
		case v <= 0:
			return math.Copysign(math.Inf(1), num)
		}
		return num / math.Sqrt(nn*v)
	}
	return estimate{est: mean, method: MethodDiscreteScore, n: n, units: n,
		bound: func(a float64) (float64, float64) {
			z := distuv.UnitNormal.Quantile(1 - a)
			return solveDecreasing(score, z, r.lo, r.hi), solveDecreasing(score, -z, r.lo, r.hi)
		}}
}

// constrainedVariance is the variance of one value, sum_j p_j (v_j - d0)²,
// under the most likely distribution p on the support v with mean d0, given
// the counts: p_j = n_j / (n (1 + λ (v_j - d0))) with λ the root of
// sum_j n_j (v_j - d0) / (1 + λ (v_j - d0)) = 0 (empirical likelihood), or,
// when d0 lies beyond what the seen values allow, with λ at the end of its
// range and the rest of the mass on the support's end that is not seen
// (Tango's solution when no pair is discordant one way).
func constrainedVariance(v, counts []float64, n, d0 float64) float64 {
	lo, hi := v[0], v[len(v)-1]
	if d0 <= lo || d0 >= hi {
		return 0
	}
	// λ keeps every 1 + λ (v_j - d0) ≥ 0: λ in [-1/(hi-d0), 1/(d0-lo)].
	lamLo, lamHi := -1/(hi-d0), 1/(d0-lo)
	g := func(lam float64) float64 {
		s := 0.0
		for j, c := range counts {
			if c > 0 {
				s += c * (v[j] - d0) / (1 + lam*(v[j]-d0))
			}
		}
		return s
	}
	var lam float64
	switch {
	case counts[len(v)-1] == 0 && g(lamLo) <= 0:
		lam = lamLo // mass on the unseen top of the range
	case counts[0] == 0 && g(lamHi) >= 0:
		lam = lamHi // mass on the unseen bottom
	default:
		// g falls from +∞ (or a positive value) to -∞ (or a negative
		// one) across the open range: bisection.
		l, h := lamLo, lamHi
		for range 200 {
			m := (l + h) / 2
			if g(m) > 0 {
				l = m
			} else {
				h = m
			}
			if h-l <= 1e-15*math.Max(1, math.Abs(m)) {
				break
			}
		}
		lam = (l + h) / 2
	}
	varSum, mass := 0.0, 0.0
	for j, c := range counts {
		if c == 0 {
			continue
		}
		p := c / (n * (1 + lam*(v[j]-d0)))
		mass += p
		varSum += p * (v[j] - d0) * (v[j] - d0)
	}
	// The rest of the mass sits on the unseen end λ points at.
	if rest := 1 - mass; rest > 0 {
		end := hi
		if lam > 0 {
			end = lo
		}
		varSum += rest * (end - d0) * (end - d0)
	}
	return varSum
}
