package suite

import (
	"testing"

	"github.com/stretchr/testify/assert"
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
