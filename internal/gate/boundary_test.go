package gate

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ldobf is Lan and DeMets' O'Brien-Fleming-like spending function at
// one-sided level alpha.
func ldobf(alpha, t float64) float64 {
	return 2 * stdNormal.Survival(stdNormal.Quantile(1-alpha/2)/math.Sqrt(t))
}

// The boundaries of a textbook design: Lan-DeMets O'Brien-Fleming spending,
// five equally spaced looks, one-sided 0.025, as R's gsDesign prints them
// (gsDesign(k = 5, test.type = 1, sfu = sfLDOF)).
func TestNominalLevelsMatchPublishedBoundaries(t *testing.T) {
	t.Parallel()
	ts := []float64{0.2, 0.4, 0.6, 0.8, 1}
	levels := nominalLevels(ts, increments(ts, func(x float64) float64 { return ldobf(0.025, x) }))
	want := []float64{4.8769, 3.3569, 2.6803, 2.2898, 2.0310}
	for k, a := range levels {
		assert.InDelta(t, want[k], stdNormal.Quantile(1-a), 0.0005, "look %d", k+1)
	}
}

// Brownian paths that meet the boundaries cross them, look by look, as
// often as the spending function allows: the levels are right for uneven
// looks too, and the last look gets more than the union bound's share.
func TestNominalLevelsSpendTheFunction(t *testing.T) {
	t.Parallel()
	const alpha = 0.025
	ts := []float64{0.2, 0.35, 0.5, 0.75, 1}
	spend := func(x float64) float64 { return spent(alpha, x) }
	inc := increments(ts, spend)
	levels := nominalLevels(ts, inc)
	z := make([]float64, len(levels))
	for k, a := range levels {
		z[k] = stdNormal.Quantile(1 - a)
		assert.GreaterOrEqual(t, a, inc[k]*(1-1e-9), "look %d gets at least its union-bound share", k+1)
	}
	assert.InDelta(t, inc[0], levels[0], 1e-15, "the first look is the union bound's")
	assert.Greater(t, levels[4], 1.3*inc[4], "the last look gets what earlier crossings leave")

	const paths = 1_000_000
	rng := rand.New(rand.NewPCG(1, 2))
	crossed := make([]int, len(ts))
	for range paths {
		s, prev := 0.0, 0.0
		for k, x := range ts {
			s += rng.NormFloat64() * math.Sqrt(x-prev)
			prev = x
			if s/math.Sqrt(x) > z[k] {
				crossed[k]++
				break
			}
		}
	}
	cum := 0
	for k := range ts {
		cum += crossed[k]
		p := spend(ts[k])
		se := math.Sqrt(p * (1 - p) / paths)
		assert.InDelta(t, p, float64(cum)/paths, 4.5*se, "crossed by look %d", k+1)
	}
}

// A single look is a fixed-size test; a final analysis on the samples of the
// last look (a run cut short just after it) crosses only where the look did
// not, so it gets a lower boundary.
func TestNominalLevelsEdgeCases(t *testing.T) {
	t.Parallel()
	assert.InDelta(t, 0.025, nominalLevels([]float64{1}, []float64{0.025})[0], 1e-12)
	same := nominalLevels([]float64{0.5, 0.5}, []float64{0.003, 0.004})
	require.Len(t, same, 2)
	assert.InDelta(t, 0.003, same[0], 1e-12)
	assert.InDelta(t, 0.007, same[1], 2e-5, "the same data: crossing either boundary is crossing the lower one")
	// Nothing to spend: a look that cannot decide.
	assert.Equal(t, 0.0, nominalLevels([]float64{0.2, 1}, []float64{0, 0.025})[0])
	assert.InDelta(t, 0.025, nominalLevels([]float64{0.2, 1}, []float64{0, 0.025})[1], 1e-6)
}

func BenchmarkNominalLevels(b *testing.B) {
	ts := []float64{0.2, 0.35, 0.5, 0.75, 1}
	inc := increments(ts, func(x float64) float64 { return spent(0.025, x) })
	for b.Loop() {
		nominalLevels(ts, inc)
	}
}
