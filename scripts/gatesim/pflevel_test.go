package main

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/gate"
)

// rowsProb sums the regions row by row on binomial tails; the direct sum of
// every table's multinomial probability gives the same.
func TestRowsProbIsTheMultinomialSum(t *testing.T) {
	const n = 30
	fail, pass := make([]int, n+1), make([]int, n+1)
	for i := range fail {
		fail[i] = min(n-i+1, 5+i)   // fail from j = 5+i
		pass[i] = min(n-i, i/2) - 1 // pass up to j = i/2-1
	}
	lg := func(x int) float64 { v, _ := math.Lgamma(float64(x + 1)); return v }
	for _, r := range [][2]float64{{0, 0.1}, {0.05, 0.15}, {0.3, 0.4}} {
		p01, p10 := r[0], r[1]
		var wantF, wantP float64
		for i := 0; i <= n; i++ {
			for j := 0; i+j <= n; j++ {
				k := n - i - j
				lp := lg(n) - lg(i) - lg(j) - lg(k) + float64(k)*math.Log(1-p01-p10)
				if i > 0 {
					lp += float64(i) * math.Log(p01)
				}
				if j > 0 {
					lp += float64(j) * math.Log(p10)
				}
				if j >= fail[i] {
					wantF += math.Exp(lp)
				}
				if j <= pass[i] {
					wantP += math.Exp(lp)
				}
			}
		}
		gotF, gotP := rowsProb(n, fail, pass, p01, p10)
		assert.InDelta(t, wantF, gotF, 1e-12, "%v", r)
		assert.InDelta(t, wantP, gotP, 1e-12, "%v", r)
	}
}

// The thresholds are the gate's decisions: at 12 pairs, every table at and
// past a row's fail threshold fails, the ones before do not, and likewise
// for passes.
func TestRowThresholdsAreTheGatesDecisions(t *testing.T) {
	const n, m = 12, 0.2
	fail, pass, method, err := rowThresholds(n, m)
	require.NoError(t, err)
	assert.Equal(t, gate.MethodExactPaired, method)
	decided := 0
	for i := 0; i <= n; i++ {
		for j := 0; i+j <= n; j++ {
			f, p, _ := gate.PassRateChange(i, j, n, alpha, -m)
			assert.Equal(t, f, j >= fail[i], "fail at (%d, %d)", i, j)
			assert.Equal(t, p, j <= pass[i], "pass at (%d, %d)", i, j)
			if f || p {
				decided++
			}
		}
	}
	assert.Positive(t, decided)
}
