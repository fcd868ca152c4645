package suite

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSingleBraces(t *testing.T) {
	t.Parallel()
	got := SingleBraces("Summarize the call.\n<call>{TRANSCRIPT}</call> {{question}} {{{{literal}}\nReply as {\"score\": 1} for {lang}.")
	assert.Equal(t, []SingleBrace{
		{Written: "{TRANSCRIPT}", Name: "TRANSCRIPT", Line: 2, Column: 7},
		{Written: "{lang}", Name: "lang", Line: 3, Column: 27},
	}, got, "{{...}}, an escaped {{{{ and a JSON example are not single-brace placeholders")
}

const callsData = `{"sample_id": "1", "transcript": "Hi, my order is late.", "answer_ground_truth": "late order"}
`

func TestValidateReportsSingleBracePlaceholdersWithTheirLine(t *testing.T) {
	t.Parallel()
	path := writeSuite(t, `version: 1
name: t
dataset: {path: data.jsonl}
prompts:
  summary: {system: "Be brief, in {lang}.", user_file: prompt.txt}
targets:
  - {id: a, provider: bedrock, model: m, prompt: summary}
metrics: [f1]
`, map[string]string{"data.jsonl": callsData, "prompt.txt": "Summarize this call.\n\n<call>{TRANSCRIPT}</call>\n"})
	s, err := Load(path)
	require.NoError(t, err)
	r, err := Validate(context.Background(), s)
	require.NoError(t, err)
	var got []Finding
	for _, f := range r.Findings {
		if f.Code == "single_brace_placeholder" {
			got = append(got, f)
		}
	}
	require.Len(t, got, 2)
	assert.Equal(t, SevError, got[0].Severity, "TRANSCRIPT is the transcript column: surely a placeholder")
	assert.Equal(t, "prompt.txt line 3 column 7 (prompt summary, user part): {TRANSCRIPT} looks like a placeholder for column transcript but is sent to the model as it is; write {{transcript}}, or set prompts.summary.placeholders: convert", got[0].Message)
	assert.Equal(t, SevWarning, got[1].Severity, "no column lang: perhaps literal braces")
	assert.Contains(t, got[1].Message, "prompt summary (system part) line 1 column 14: {lang} is sent to the model as it is")
	assert.NotEmpty(t, r.Errors(), "validate no longer says ok")
}

func TestPlaceholdersConvert(t *testing.T) {
	t.Parallel()
	path := writeSuite(t, `version: 1
name: t
dataset: {path: data.jsonl}
prompts:
  summary: {user_file: prompt.txt, placeholders: convert}
targets:
  - {id: a, provider: bedrock, model: m, prompt: summary}
metrics: [f1]
`, map[string]string{"data.jsonl": callsData, "prompt.txt": "Summarize: {TRANSCRIPT} ({{ sample_id }})"})
	s, err := Load(path)
	require.NoError(t, err)
	_, user := s.Templates["summary"].Text()
	assert.Equal(t, "Summarize: {{transcript}} ({{sample_id}})", user)
	_, u, err := s.Templates["summary"].Render(map[string]string{"transcript": "Hi", "sample_id": "1"})
	require.NoError(t, err)
	assert.Equal(t, "Summarize: Hi (1)", u)
	r, err := Validate(context.Background(), s)
	require.NoError(t, err)
	assert.Empty(t, r.Errors())
}

func TestPlaceholdersConvertErrors(t *testing.T) {
	t.Parallel()
	errs := loadErrors(t, `version: 1
name: t
dataset: {path: data.jsonl}
prompts:
  a: {user: "Summarize {CALL}", placeholders: convert}
  b: {user: "x", placeholders: yes}
targets:
  - {id: a, provider: bedrock, model: m, prompt: a}
metrics: [f1]
`, map[string]string{"data.jsonl": callsData})
	assert.Equal(t, []string{
		"evalgate.yaml:5:47: prompts.a (user part): placeholders {CALL} have no dataset column (columns: answer_ground_truth, sample_id, transcript); rename them to a column's name",
		"evalgate.yaml:6:32: prompts.b.placeholders must be 'convert' (or left out to keep the text as written), got 'yes'",
	}, errs)
}
