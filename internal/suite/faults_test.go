package suite

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The run options of issue 10 (items 3, 5, 11, 15): empty answers, retry
// waits, throttling time and a command's environment.
func TestLoadFaultOptions(t *testing.T) {
	t.Parallel()
	path := writeSuite(t, `version: 1
name: t
dataset: {path: data.jsonl}
targets:
  - {id: a, provider: recorded, model: m}
  - {id: b, provider: recorded, model: m, allow_empty: false}
  - {id: c, provider: command, model: m, command: [./app], env: [APP_KEY, HTTPS_PROXY]}
metrics: [f1]
run: {allow_empty: true, max_retry_wait: 15s, retry_throttled_for: 30m}
`, nil)
	s, err := load(path, testMetrics)
	require.NoError(t, err)
	assert.True(t, s.AllowEmpty(&s.Config.Targets[0]), "run.allow_empty")
	assert.False(t, s.AllowEmpty(&s.Config.Targets[1]), "the target's own setting wins")
	assert.Equal(t, 15*time.Second, s.MaxRetryWait())
	assert.Equal(t, 30*time.Minute, s.RetryThrottledFor())
	assert.Equal(t, []string{"APP_KEY", "HTTPS_PROXY"}, s.Config.Targets[2].Env)

	s, err = load("testdata/examples/minimal.yaml", testMetrics)
	require.NoError(t, err)
	assert.False(t, s.AllowEmpty(&s.Config.Targets[0]))
	assert.Equal(t, DefaultMaxRetryWait, s.MaxRetryWait())
	assert.Equal(t, DefaultRetryThrottledFor, s.RetryThrottledFor())
}

func TestLoadFaultOptionErrors(t *testing.T) {
	t.Parallel()
	errs := loadErrors(t, `version: 1
name: t
dataset: {path: data.jsonl}
targets:
  - {id: c, provider: command, model: m, command: [./app], env: ["A=B"]}
  - {id: r, provider: recorded, model: m, env: [X]}
metrics: [f1]
run: {max_retry_wait: 0s, retry_throttled_for: soon}
`, nil)
	joined := ""
	for _, e := range errs {
		joined += e + "\n"
	}
	assert.Contains(t, joined, `evalgate.yaml:5:`)
	assert.Contains(t, joined, `"A=B" is not an environment variable name`)
	assert.Contains(t, joined, "key 'env' does not apply to a recorded target")
	assert.Contains(t, joined, "run.max_retry_wait: a duration must be positive")
	assert.Contains(t, joined, `run.retry_throttled_for: expected a duration`)
}
