package suite

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFiles(t *testing.T) {
	t.Parallel()
	const config = "examples/support/evalgate.yaml"
	raw, err := os.ReadFile(filepath.Join("..", "..", config))
	require.NoError(t, err)
	name, files, err := Files(config, raw)
	require.NoError(t, err)
	assert.Equal(t, "support-answers", name)
	assert.Equal(t, []string{config, "examples/support/cassettes/nova-lite.jsonl", "examples/support/data/support.jsonl", "examples/support/prompts/answer.txt"}, files)

	_, files, err = Files("evals/e.yaml", []byte(`
name: x
dataset: {path: ../shared/data.csv}
prompts: {a: a.txt, b: {system_file: sys.txt, user: "{{q}}"}}
targets: [{id: c, command: [./bin/model.sh, --fast]}, {id: d, command: [python3, m.py]}, {id: e, provider: recorded, cassette: /abs/c.jsonl}]
metrics:
  - f1
  - {name: j, type: json_schema, schema_file: schema.json}
  - {name: r, type: rubric, rubric_file: rubric.md, judge: {provider: bedrock, model: m, cassette: judge.jsonl}}
  - {name: far, type: json_schema, schema_file: ../../outside.json}
`))
	require.NoError(t, err)
	assert.Equal(t, []string{"evals/e.yaml", "evals/a.txt", "evals/bin/model.sh", "evals/judge.jsonl", "evals/rubric.md", "evals/schema.json", "evals/sys.txt", "shared/data.csv"}, files)
}

func TestFilesReportsConfigMistakes(t *testing.T) {
	t.Parallel()
	_, _, err := Files("evals/e.yaml", []byte("name: x\ndataset: [not, a, mapping]\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "evals/e.yaml:2")
	_, _, err = Files("evals/e.yaml", []byte(""))
	assert.ErrorContains(t, err, "the file is empty")
}
