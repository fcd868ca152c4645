package main

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/evalgate/evalgate/internal/gate"
	"github.com/stretchr/testify/assert"
	"gonum.org/v1/gonum/stat/distuv"
)

// A one-look design is the exact binomial test: reject at the smallest count
// whose tail at the limit is within α.
func TestExactDesignOneLookIsTheBinomialTest(t *testing.T) {
	b := distuv.Binomial{N: 50, P: 0.1}
	c := exactDesign([]int{50}, 0.1, []float64{0.025})
	assert.Equal(t, []int{10}, c)
	assert.LessOrEqual(t, b.Survival(float64(c[0])-1), 0.025, "P(X ≥ 10)")
	assert.Greater(t, b.Survival(float64(c[0])-2), 0.025, "P(X ≥ 9)")
}

// A design's crossing probability at the limit stays within what it may
// spend, look by look, and simulated runs cross as often as it computes.
func TestExactDesignSpendsWithinItsFunction(t *testing.T) {
	looks := []int{40, 70, 100, 150, 200}
	spend := []float64{0.001, 0.003, 0.00625, 0.014, 0.025}
	c := exactDesign(looks, 0.03, spend)
	for k := range looks {
		cross, _ := exactCrossing(looks[:k+1], c[:k+1], 0.03)
		assert.LessOrEqual(t, cross, spend[k]*(1+1e-9), "look %d", k+1)
	}
	power, share := exactCrossing(looks, c, 0.09)
	rng := rand.New(rand.NewPCG(3, 4))
	const runs = 200_000
	crossed, used := 0, 0.0
	for range runs {
		errs, prev, stopped := 0, 0, false
		for k, nk := range looks {
			for range nk - prev {
				if rng.Float64() < 0.09 {
					errs++
				}
			}
			prev = nk
			if errs >= c[k] {
				crossed++
				used += float64(nk) / 200
				stopped = true
				break
			}
		}
		if !stopped {
			used++
		}
	}
	assert.InDelta(t, power, float64(crossed)/runs, 0.004)
	assert.InDelta(t, share, used/runs, 0.004)
}

// The 5.6-standard-error row: on a continuous score it is the 3× margin
// row (the variance does not move with the change); on an error rate the
// truth found is 5.6 standard errors, at that truth, past the limit; and a
// pass rate that cannot fall that far says so.
func TestSESTruth(t *testing.T) {
	byKey := map[string]scenario{}
	for _, sc := range scenarios {
		byKey[sc.key] = sc
	}
	cont := byKey["cont"]
	m := cont.margin(200)
	d, ok := sesTruth(cont, 200, m, 5.6, -1)
	assert.True(t, ok)
	assert.InDelta(t, -3*m, d, 1e-9)

	errs := byKey["errors"]
	m = errs.margin(50)
	d, ok = sesTruth(errs, 50, m, 5.6, errs.lowest)
	assert.True(t, ok)
	p := -d
	assert.InDelta(t, 5.6, (p-m)*math.Sqrt(50)/math.Sqrt(p*(1-p)), 1e-6)

	pf := byKey["pf"]
	_, ok = sesTruth(pf, 50, pf.margin(50), 5.6, pf.lowest)
	assert.False(t, ok, "a pass rate of 0.45 cannot fall 5.6 standard errors past the limit in 50 pairs")
}

// The earliest look at which a clear pass on data where every pair agrees is
// possible at all: at 200 samples and a share of 0.04, 0.96^100 = 0.0169 is
// more than the 0.00625 spent by half the samples, and 0.96^150 = 0.0022 is
// less than the 0.0141 spent by three quarters.
func TestEarliestPass(t *testing.T) {
	assert.Equal(t, 150, earliestPass(200, 0.04))
	looks := gate.PlanLooks(gate.DefaultLooks, 50)
	assert.Equal(t, looks[3], earliestPass(50, 0.13))
	// No look allows it: 0.95^20 = 0.36.
	assert.Equal(t, 20, earliestPass(20, 0.05))
	// A clear enough margin is possible at the first look.
	assert.Equal(t, looks[0], earliestPass(50, 0.6))
}
