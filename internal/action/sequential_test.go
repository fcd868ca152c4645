package action

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The sequential input reaches the run of the gated suite (not the base
// revision's baseline run, which has no verdict to settle).
func TestSequentialInputReachesTheRun(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"true", "false", ""} {
		h := newHarness(t, "push", "push.json")
		h.vars["INPUT_SEQUENTIAL"] = v
		out, err := h.run()
		require.NoError(t, err, out)
		require.NotEmpty(t, h.runner.reqs)
		assert.Equal(t, v, h.runner.reqs[len(h.runner.reqs)-1].Sequential)
	}
}
