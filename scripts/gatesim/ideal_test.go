package main

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The exact analysis agrees with simulating the ideal test itself: its power
// on the correlated pass/fail design at n = 20 (5% target-only, 45%
// baseline-only: twice the margin of 0.2) within Monte Carlo error.
func TestAnalyseIdealMatchesSimulation(t *testing.T) {
	sc := scenarios[3]
	if !assert.Equal(t, "pf", sc.key) {
		return
	}
	const n, m, runs = 20, 0.2, 20000
	p01, p10 := sc.rates(-2 * m)
	ex := analyseIdeal(n, m, p01, p10)
	rng := rand.New(rand.NewPCG(1, 2))
	hits := 0
	for range runs {
		bv, tv := sc.draw(rng, n, 1, -2*m)
		if idealRejects(sc, bv, tv, m) {
			hits++
		}
	}
	lo, hi := wilson(hits, runs)
	assert.True(t, lo <= ex.power && ex.power <= hi, "exact power %.4f outside the simulated [%.4f, %.4f]", ex.power, lo, hi)
	// Holding the test to α can only cost power, and its worst case is
	// above its size at this design's own null.
	assert.LessOrEqual(t, ex.heldPower, ex.power)
	assert.Greater(t, ex.worstSize, 0.0)
}

// At n = 10 with margin 0.2 the ideal t test rejects 1 target-only and 9
// baseline-only pairs; when every pair is discordant (40% / 60%) that table
// and (0, 10) alone have probability 10·0.4·0.6⁹ + 0.6¹⁰ = 0.0464, so its
// worst case is at least that: it is not a level-2.5% test.
func TestIdealIsNotALevelTest(t *testing.T) {
	ex := analyseIdeal(10, 0.2, 0.05, 0.45)
	assert.GreaterOrEqual(t, ex.worstSize, 0.0464)
	assert.Less(t, ex.heldPower, ex.power)
}
