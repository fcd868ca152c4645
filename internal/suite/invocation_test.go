package suite

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const invocationData = `{"sample_id": "1", "question": "q1", "answer_source_llm": "a", "temperature_source_llm": 0.7, "top_p_source_llm": "", "prompt_source_llm": "Answer: {q}"}
{"sample_id": "2", "question": "q2", "answer_source_llm": "b", "temperature_source_llm": 0.2, "top_p_source_llm": 0.9, "prompt_source_llm": "Answer: {q}"}
{"sample_id": "3", "question": "q3", "answer_source_llm": "c", "prompt_source_llm": "Answer briefly: {q}"}
`

func invocationSuite(t *testing.T, targets string) *Suite {
	t.Helper()
	s, err := load(writeSuite(t, `version: 1
name: t
dataset: {path: data.jsonl}
prompts: {p: {user: "{{question}}"}}
targets:
`+targets+`metrics: [f1]
`, map[string]string{"data.jsonl": invocationData}), testMetrics)
	require.NoError(t, err)
	return s
}

func TestInheritedParamsPerSampleThenPerDataset(t *testing.T) {
	t.Parallel()
	s := invocationSuite(t, `  - {id: source, provider: recorded, model: gpt-4o-mini, params: {temperature: 0.5, top_k: 40}}
  - {id: new, provider: bedrock, model: m, prompt: p, params_from: source, params: {top_p: 0.8, max_tokens: 300}}
`)
	tgt, _ := s.Target("new")
	rows := []map[string]string{
		{"temperature_source_llm": "0.7", "top_p_source_llm": ""},
		{"temperature_source_llm": "0.2", "top_p_source_llm": "0.9"},
		{},
	}
	wantTemp := []float64{0.7, 0.2, 0.5}
	for i, row := range rows {
		p, err := s.InheritedParams(tgt, row)
		require.NoError(t, err)
		require.NotNil(t, p.Temperature)
		assert.Equal(t, wantTemp[i], *p.Temperature, "row %d: the row's column, else the source's params", i)
		assert.Equal(t, 0.8, *p.TopP, "the target's own setting wins over the source's")
		assert.Equal(t, 40, *p.TopK, "the source's per-dataset config")
		assert.Equal(t, 300, *p.MaxTokens, "max_tokens is never inherited")
	}
	_, err := s.InheritedParams(tgt, map[string]string{"temperature_source_llm": "warm"})
	assert.EqualError(t, err, `params_from source: column temperature_source_llm: "warm" is not a temperature (a number, 0 or more)`)
	_, err = s.InheritedParams(tgt, map[string]string{"top_k_source_llm": "2.5"})
	assert.ErrorContains(t, err, `column top_k_source_llm: "2.5" is not a top_k`)
}

func TestParamsFromErrors(t *testing.T) {
	t.Parallel()
	errs := loadErrors(t, `version: 1
name: t
dataset: {path: data.jsonl}
prompts: {p: {user: "{{question}}"}}
targets:
  - {id: source, provider: recorded, model: m}
  - {id: other, provider: bedrock, model: m, prompt: p}
  - {id: a, provider: bedrock, model: m, prompt: p, params_from: sourse}
  - {id: b, provider: bedrock, model: m, prompt: p, params_from: other}
  - {id: c, provider: recorded, model: m, params_from: source}
metrics: [f1]
`, nil)
	assert.Equal(t, []string{
		"evalgate.yaml:8:66: targets[2].params_from: 'sourse' is not a target id, did you mean 'source'?",
		"evalgate.yaml:9:66: targets[3].params_from: 'other' is a bedrock target; params are inherited from a recorded source (its logged invocation config)",
		"evalgate.yaml:10:56: targets[4].params_from: a recorded target replays logged answers and calls nothing; params_from is for a target that calls a model",
	}, errs)
}

func TestDescribeSource(t *testing.T) {
	t.Parallel()
	s := invocationSuite(t, "  - {id: source, provider: recorded, model: gpt-4o-mini, params: {top_k: 40}}\n")
	src, _ := s.Target("source")
	got, err := DescribeSource(context.Background(), s, src)
	require.NoError(t, err)
	assert.Equal(t, "source source (gpt-4o-mini) was called with temperature 0.7, 0.2 (logged on 2 of 3 samples), "+
		"top_p 0.9 (logged on 1 of 3 samples), top_k 40 (params); prompt (prompt_source_llm) logged on 3 of 3 samples, 2 distinct", got)
}

func TestDescribeSourceSaysNothingWhenNothingIsKnown(t *testing.T) {
	t.Parallel()
	s, err := load(writeSuite(t, "version: 1\nname: t\ndataset: {path: data.jsonl}\ntargets:\n  - {id: source, provider: recorded, model: m}\nmetrics: [f1]\n", nil), testMetrics)
	require.NoError(t, err)
	src, _ := s.Target("source")
	got, err := DescribeSource(context.Background(), s, src)
	require.NoError(t, err)
	assert.Empty(t, got, "no line of 'not logged' in every report of a dataset without invocation columns")
}
