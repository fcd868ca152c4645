package metric

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestInfoJSONRoundTripsAnUnboundedMaximum(t *testing.T) {
	t.Parallel()
	for _, in := range []Info{
		{Name: "latency_ms", Min: 0, Max: math.Inf(1), Direction: LowerIsBetter},
		{Name: "f1", Min: 0, Max: 1, Direction: HigherIsBetter, NeedsReference: true},
		{Name: "exact_match", Min: 0, Max: 1, Direction: HigherIsBetter, PassFail: true},
	} {
		b, err := json.Marshal(in)
		require.NoError(t, err)
		var out Info
		require.NoError(t, json.Unmarshal(b, &out))
		assert.Equal(t, in, out, string(b))
	}
	b, _ := json.Marshal(Info{Name: "x", Max: math.Inf(1)})
	assert.Contains(t, string(b), `"max":null`)
}
