package suite

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Issue 10 item 2: .nan and .inf are rejected wherever the config takes a
// number, with the file, line and key; before, they passed decoding and
// failed later as "hash suite: json: unsupported value: NaN".
func TestLoadRejectsNonFiniteNumbers(t *testing.T) {
	t.Parallel()
	got := loadErrors(t, `version: 1
name: t
dataset: {path: data.jsonl}
targets:
  - {id: a, provider: bedrock, model: m, params: {temperature: .nan}, pricing: {input_per_mtok: .inf, output_per_mtok: 1}}
metrics:
  - f1
  - {name: tag, type: regex, pattern: x, weights: [1, -.inf]}
criteria:
  - {metric: f1, min: .NaN}
  - {metric: f1, max_drop: .nan}
  - {metric: error_rate, max_error_rate: .nan}
gate:
  confidence: .nan
  agreement: [{judge: f1, human: tag, threshold: -.Inf}]
run:
  budget_usd: .inf
`, nil)
	assert.Equal(t, []string{
		"evalgate.yaml:5:64: targets[0].params.temperature: expected a finite number, got '.nan'",
		"evalgate.yaml:5:97: targets[0].pricing.input_per_mtok: expected a finite number, got '.inf'",
		"evalgate.yaml:8:51: metrics[1].weights: expected a finite number, got a list",
		"evalgate.yaml:10:23: criteria[0].min: expected a finite number, got '.NaN'",
		"evalgate.yaml:11:28: criteria[1].max_drop: expected a finite number, got '.nan'",
		"evalgate.yaml:12:42: criteria[2].max_error_rate: expected a finite number, got '.nan'",
		"evalgate.yaml:14:15: gate.confidence: expected a finite number, got '.nan'",
		"evalgate.yaml:15:50: gate.agreement[0].threshold: expected a finite number, got '-.Inf'",
		"evalgate.yaml:17:15: run.budget_usd: expected a finite number, got '.inf'",
	}, got)
}

// Issue 10 item 8: a named pipe or a device given as the config, the
// dataset or a prompt file is an error naming it, instead of a run that waits
// forever for a writer or reads /dev/zero without end.
func TestLoadRefusesFilesThatAreNotRegular(t *testing.T) {
	t.Parallel()
	const config = `version: 1
name: t
dataset: {path: %s, format: jsonl}
prompts: {p: {user_file: %s}}
targets: [{id: a, provider: bedrock, model: m, prompt: p}]
metrics: [f1]
`
	path := writeSuite(t, fmt.Sprintf(config, "pipe.jsonl", "prompt.txt"), map[string]string{"prompt.txt": "{{question}}"})
	dir := filepath.Dir(path)
	require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "pipe.jsonl"), 0o644))
	require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "prompt-pipe.txt"), 0o644))
	_, err := load(path, testMetrics)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "evalgate.yaml:3:17: dataset.path: "+filepath.Join(dir, "pipe.jsonl")+" is a named pipe (FIFO), not a regular file")

	require.NoError(t, os.WriteFile(path, []byte(fmt.Sprintf(config, "/dev/zero", "prompt-pipe.txt")), 0o644))
	_, err = load(path, testMetrics)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "evalgate.yaml:3:17: dataset.path: /dev/zero is a device, not a regular file")
	assert.Contains(t, err.Error(), "evalgate.yaml:4:26: prompts.p.user_file: "+filepath.Join(dir, "prompt-pipe.txt")+" is a named pipe (FIFO)")

	_, err = load(filepath.Join(dir, "prompt-pipe.txt"), testMetrics)
	require.ErrorContains(t, err, "read config: "+filepath.Join(dir, "prompt-pipe.txt")+" is a named pipe (FIFO)")

	// A dataset replaced by a pipe after loading is refused when opened.
	require.NoError(t, os.WriteFile(path, []byte(fmt.Sprintf(config, "data.jsonl", "prompt.txt")), 0o644))
	s, err := load(path, testMetrics)
	require.NoError(t, err)
	require.NoError(t, os.Remove(s.DatasetPath))
	require.NoError(t, syscall.Mkfifo(s.DatasetPath, 0o644))
	_, err = OpenDataset(s)
	require.ErrorContains(t, err, "is a named pipe (FIFO), not a regular file")
}
