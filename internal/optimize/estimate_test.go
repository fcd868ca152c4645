package optimize

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/evalgate/evalgate/internal/pricing"
	"github.com/evalgate/evalgate/internal/provider"
)

func TestEstimateCost(t *testing.T) {
	t.Parallel()
	mt := 100
	e := Estimate{Candidates: 2, DevSamples: 10, HeldOutSamples: 10, Repeats: 1}
	// The baseline replays logged outputs: only the winner calls on the held-out part.
	e.Cost(4000, 4000, provider.Params{MaxTokens: &mt}, &pricing.Price{InputPerMTok: 1, OutputPerMTok: 2}, false)
	assert.Equal(t, 30, e.DevCalls, "(2 candidates + control) x 10")
	assert.Equal(t, 10, e.HeldOutCalls)
	assert.True(t, e.Known)
	// Input: 3 x 4000/4 + 1 x 4000/4 = 4000 tokens; output: 40 calls x 100.
	assert.InDelta(t, 4000*1e-6+4000*2e-6, e.CostUSD, 1e-12)

	unknown := Estimate{Candidates: 1, DevSamples: 5, HeldOutSamples: 5, Repeats: 2}
	unknown.Cost(100, 100, provider.Params{}, nil, true)
	assert.Equal(t, 20, unknown.DevCalls)
	assert.Equal(t, 20, unknown.HeldOutCalls, "winner and a calling baseline, twice each")
	assert.False(t, unknown.Known, "no price: the cost is unknown, not 0")
}
