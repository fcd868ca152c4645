package action

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The sharded workflow's matrix, its --shard i/N and the files its merge
// names stay in step: a shard left out of the merge would make it refuse.
func TestDocShardedWorkflowMergesEveryShard(t *testing.T) {
	t.Parallel()
	w, ok := readWorkflows(t)["sharded-gate.yml"]
	require.True(t, ok)
	shards, ok := w.Jobs["shard"].Strategy.Matrix["shard"].([]any)
	require.True(t, ok, "the shard job's matrix lists the shards")
	n := len(shards)
	require.Greater(t, n, 1)
	for i, v := range shards {
		assert.Equal(t, i+1, v, "the shards are 1 to N")
	}
	var run, merge, compare string
	for _, job := range []string{"shard", "gate"} {
		for _, s := range w.Jobs[job].Steps {
			if !s.isEvalgate() {
				continue
			}
			switch args := s.With["args"]; {
			case strings.HasPrefix(args, "run "):
				run = args
			case strings.HasPrefix(args, "merge "):
				merge = args
			case strings.HasPrefix(args, "compare "):
				compare = args
			}
		}
	}
	assert.Contains(t, run, fmt.Sprintf("--shard ${{ matrix.shard }}/%d ", n))
	assert.Contains(t, run, "--out shards/shard-${{ matrix.shard }}.jsonl")
	for i := 1; i <= n; i++ {
		assert.Contains(t, merge, fmt.Sprintf(" shards/shard-%d.jsonl", i))
	}
	assert.Equal(t, "shard", w.Jobs["gate"].Needs, "the gate waits for every shard")
	out := strings.Fields(merge)[1]
	assert.Contains(t, compare, "--baseline "+out+"#")
	assert.Contains(t, compare, "--target "+out+"#")
}
