package suite

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	data := `{"sample_id": "1", "question": "q", "context": "c", "answer_ground_truth": "a", "answer_source_llm": "o", "latency_source_llm": 1.2, "input_token_source_llm": 10, "human_score_source_llm": 4}
{"sample_id": "2", "question": "q", "context": "c", "answer_ground_truth": "", "answer_source_llm": "o", "latency_source_llm": "1.2s"}
{"sample_id": "1", "question": "q", "answer_ground_truth": "  ", "answer_source_llm": "o", "human_score_source_llm": "good"}
{"sample_id": "4", "context": "c", "answer_ground_truth": "a", "latency_source_llm": ""}
{"sample_id": "2", "question": "q", "context": "c", "answer_ground_truth": "a", "answer_source_llm": "o", "input_token_source_llm": "many"}
`
	path := writeSuite(t, `version: 1
name: t
dataset: {path: data.jsonl}
prompts:
  answer: {system: "Context: {{context}}", user: "{{question}}"}
targets:
  - {id: source, provider: recorded, model: m}
  - {id: new, provider: bedrock, model: m, prompt: answer}
metrics: [f1, {name: has_x, type: contains, value: x}]
`, map[string]string{"data.jsonl": data})
	s, err := Load(path)
	require.NoError(t, err)

	r, err := Validate(context.Background(), s)
	require.NoError(t, err)
	assert.Equal(t, 5, r.Samples)

	type got struct {
		Severity FindingSeverity
		Code     string
		Column   string
		Count    int
		Lines    []int
	}
	var findings []got
	for _, f := range r.Findings {
		findings = append(findings, got{f.Severity, f.Code, f.Column, f.Count, f.Lines})
	}
	assert.Equal(t, []got{
		{SevError, "duplicate_id", "sample_id", 2, []int{3, 5}},
		{SevError, "missing_field", "answer_source_llm", 1, []int{4}},
		{SevError, "missing_field", "context", 1, []int{3}},
		{SevError, "missing_field", "question", 1, []int{4}},
		{SevError, "not_numeric", "latency_source_llm", 1, []int{2}},
		{SevError, "not_numeric", "input_token_source_llm", 1, []int{5}},
		{SevWarning, "empty_reference", "answer_ground_truth", 2, []int{2, 3}},
		{SevWarning, "not_numeric", "human_score_source_llm", 1, []int{3}},
	}, findings)
	assert.Len(t, r.Errors(), 6)
	assert.Len(t, r.Warnings(), 2)

	text := r.String()
	assert.Contains(t, text, "5 samples, 6 errors, 2 warnings")
	assert.Contains(t, text, "error: sample id repeated (column sample_id); ids must be unique so that runs pair up sample by sample (2 rows, lines 3, 5)")
	assert.Contains(t, text, "error: rows without column context, which prompt answer uses;")
	assert.Contains(t, text, "warning: empty ground truth (column answer_ground_truth), which metrics f1 need;")
}

func TestValidateCleanAndManyLines(t *testing.T) {
	t.Parallel()
	data := ""
	for range 8 {
		data += `{"sample_id": "same", "question": "q", "answer_ground_truth": "a"}` + "\n"
	}
	path := writeSuite(t, `version: 1
name: t
dataset: {path: data.jsonl}
targets: [{id: a, provider: openai, model: m}]
metrics: [exact_match]
`, map[string]string{"data.jsonl": data})
	s, err := Load(path)
	require.NoError(t, err)
	r, err := Validate(context.Background(), s)
	require.NoError(t, err)
	require.Len(t, r.Findings, 1)
	f := r.Findings[0]
	assert.Equal(t, 7, f.Count)
	assert.Equal(t, []int{2, 3, 4, 5, 6}, f.Lines, "only the first few lines are kept")
	assert.Contains(t, r.String(), "(7 rows, lines 2, 3, 4, 5, 6, ...)")
}

func TestValidateUnreadable(t *testing.T) {
	t.Parallel()
	path := writeSuite(t, `version: 1
name: t
dataset: {path: data.jsonl}
targets: [{id: a, provider: openai, model: m}]
metrics: [exact_match]
`, map[string]string{"data.jsonl": `{"sample_id": "1", "question": "q"}` + "\nnot json\n"})
	s, err := Load(path)
	require.NoError(t, err)
	r, err := Validate(context.Background(), s)
	require.NoError(t, err)
	require.Len(t, r.Errors(), 1)
	assert.Equal(t, "unreadable", r.Errors()[0].Code)
	assert.Contains(t, r.Errors()[0].Message, "line 2: not a JSON object")
}

func TestValidateCancelled(t *testing.T) {
	t.Parallel()
	s, err := Load("testdata/examples/evalgate.yaml")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = Validate(ctx, s)
	assert.ErrorIs(t, err, context.Canceled)
}
