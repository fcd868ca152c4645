package main

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/evalgate/evalgate/internal/gate"
)

// The exact table (-only seqexact) asks what any design of the same looks
// could do on the error-rate scenario and on the rare events whose
// regressions are one binomial count, with no interval's conservatism in
// the way: for each spending function α·t^ρ it builds the exact one-sided
// binomial group-sequential test of "the error rate is at most the limit"
// (reject at look k when the errors so far reach c_k, the smallest count
// whose exact crossing probability at the limit, with the earlier looks',
// stays within the spending function), then computes exactly, by
// convolution, the share of the samples a clear regression uses and the
// power at twice the margin. A regression that crosses no boundary runs to
// the end, as it does in the gate (it cannot settle the other way).

// exactDesign returns the boundaries c_k (in errors) of looks at the sample
// counts looks, for the limit p0 and the cumulative spending at each look.
func exactDesign(looks []int, p0 float64, spend []float64) []int {
	c := make([]int, len(looks))
	dist := []float64{1} // errors so far on paths that crossed nothing
	prev, used := 0, 0.0
	for k, nk := range looks {
		dist = addSamples(dist, nk-prev, p0)
		prev = nk
		tail, ck := 0.0, len(dist)
		for s := len(dist) - 1; s >= 0 && used+tail+dist[s] <= spend[k]*(1+1e-12); s-- {
			tail += dist[s]
			ck = s
		}
		c[k] = ck
		used += tail
		clear(dist[min(ck, len(dist)):])
	}
	return c
}

// exactCrossing returns the chance that a design with boundaries c crosses
// one at the true error rate p, and the mean share of the samples it uses.
func exactCrossing(looks, c []int, p float64) (cross, share float64) {
	dist := []float64{1}
	prev, n := 0, float64(looks[len(looks)-1])
	for k, nk := range looks {
		dist = addSamples(dist, nk-prev, p)
		prev = nk
		x := 0.0
		for s := c[k]; s < len(dist); s++ {
			x += dist[s]
			dist[s] = 0
		}
		cross += x
		share += x * float64(nk) / n
	}
	return cross, share + (1 - cross)
}

// addSamples convolves the distribution of the errors so far with m more
// samples, each an error with probability p.
func addSamples(dist []float64, m int, p float64) []float64 {
	b := distuv.Binomial{N: float64(m), P: p}
	pm := make([]float64, m+1)
	for j := range pm {
		pm[j] = b.Prob(float64(j))
	}
	out := make([]float64, len(dist)+m)
	for s, w := range dist {
		if w == 0 {
			continue
		}
		for j, q := range pm {
			out[s+j] += w * q
		}
	}
	return out
}

// seqExactKinds are the scenarios whose regressions are one binomial count:
// the target's errors, and the target's failures where the baseline never
// fails (rare). The judge score of 1 or 0.5 (skew) is rare's count in units
// of its gap, with the same margins in those units, so the same designs. A
// design that knows the baseline cannot move has more to go on than the
// gate, which does not: these designs show what no procedure of these looks
// can beat.
var seqExactKinds = []string{"errors", "rare"}

func runSeqExact(sizes []int) {
	fmt.Printf("Exact binomial group-sequential designs: looks at %v of the samples (the first at least %d), one-sided α = %.3g; the limit and truths are rates of errors, failures or falls (the margin over the score's gap).\n\n", gate.DefaultLooks, gate.MinFirstLook, alpha)
	fmt.Println("| Data | n | Limit m | Spending | Boundaries (events) | Clear regression (3× margin): detected | Mean share of samples used | Power at 2× margin | Fixed-size exact test's power at 2× margin |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|")
	for _, key := range seqExactKinds {
		sc := scenarios[slices.IndexFunc(scenarios, func(sc scenario) bool { return sc.key == key })]
		gap := sc.gap
		if gap == 0 {
			gap = 1
		}
		for _, n := range sizes {
			m := sc.margin(n) / gap
			looks := gate.PlanLooks(gate.DefaultLooks, n)
			fixed := exactDesign([]int{n}, m, []float64{alpha})
			fixedPower, _ := exactCrossing([]int{n}, fixed, 2*m)
			for _, rho := range []float64{3, 2, 1.5, 1, 0.5} {
				spend := make([]float64, len(looks))
				for k, nk := range looks {
					spend[k] = alpha * math.Pow(float64(nk)/float64(n), rho)
				}
				c := exactDesign(looks, m, spend)
				det, share := exactCrossing(looks, c, 3*m)
				power, _ := exactCrossing(looks, c, 2*m)
				fmt.Printf("| %s | %d | %.3g | α·t^%g | %v | %.1f%% | %.0f%% | %.1f%% | %.1f%% |\n", sc.name, n, m, rho, c, 100*det, 100*share, 100*power, 100*fixedPower)
			}
		}
	}
}
