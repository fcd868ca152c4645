package suite

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestLoadChecksSequentialKeys(t *testing.T) {
	t.Parallel()
	const head = `version: 1
name: t
dataset: {path: data.jsonl}
targets:
  - {id: a, provider: bedrock, model: m}
metrics: [f1]
run:
`
	files := map[string]string{"data.jsonl": `{"sample_id":"1","question":"q"}` + "\n"}
	assert.Equal(t, []string{
		"evalgate.yaml:10:21: run.sequential_looks must be increasing shares of the samples in (0, 1], such as [0.2, 0.35, 0.5, 0.75, 1]; got [0.5 0.2 1]",
	}, loadErrors(t, head+"  sequential: true\n  sequential_seed: 3\n  sequential_looks: [0.5, 0.2, 1]\n", files))
	assert.Equal(t, []string{
		"evalgate.yaml:9:21: run.sequential_looks must be increasing shares of the samples in (0, 1], such as [0.2, 0.35, 0.5, 0.75, 1]; got [0 1.5]",
	}, loadErrors(t, head+"  sequential: true\n  sequential_looks: [0, 1.5]\n", files))
	assert.Equal(t, []string{
		"evalgate.yaml:8:20: run.sequential_seed applies to sequential runs only: set run.sequential: true, or remove it",
	}, loadErrors(t, head+"  sequential_seed: 3\n", files))
	assert.Equal(t, []string{
		"evalgate.yaml:9:20: run.sequential_seed must be a whole number >= 0, got -1",
	}, loadErrors(t, head+"  sequential: true\n  sequential_seed: -1\n", files))
}
