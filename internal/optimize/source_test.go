package optimize

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// promptsCSV is shaped like AWS's migration prompts: a UTF-8 BOM, a row per
// use case and model family, multi-line quoted prompts, {UPPER} placeholders.
const promptsCSV = "\xef\xbb\xbfuse_case,model_family,prompt\n" +
	"summary,claude,\"\n\nHuman: Summarize:\n{TRANSCRIPT}\n\nAssistant:\"\n" +
	"summary,gpt,\"Summarize {transcript}\"\n" +
	"faq,claude,\"Answer {QUESTION}\"\n"

func writeCSV(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "prompts.csv")
	require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	return p
}

func TestReadPromptsCSV(t *testing.T) {
	t.Parallel()
	p := writeCSV(t, promptsCSV)
	cols := CSVColumns{Family: "model_family"}
	sys, user, origin, err := ReadPromptsCSV(p, cols, "summary", "CLAUDE")
	require.NoError(t, err)
	assert.Empty(t, sys)
	assert.Equal(t, "\n\nHuman: Summarize:\n{TRANSCRIPT}\n\nAssistant:", user)
	assert.Equal(t, p+" line 2", origin, "the BOM does not hide the header, and the line is the row's first")

	_, user, _, err = ReadPromptsCSV(p, cols, "summary", "gpt")
	require.NoError(t, err)
	assert.Equal(t, "Summarize {transcript}", user)
}

func TestReadPromptsCSVErrors(t *testing.T) {
	t.Parallel()
	p := writeCSV(t, promptsCSV)
	tests := []struct {
		name            string
		cols            CSVColumns
		useCase, family string
		want            string
	}{
		{"no match lists the rows", CSVColumns{Family: "model_family"}, "summary", "llama", `no row with use_case "summary" and family "llama" (rows: summary/claude, summary/gpt, faq/claude)`},
		{"ambiguous", CSVColumns{Family: "model_family"}, "summary", "", `2 rows match use_case "summary"`},
		{"unmapped column", CSVColumns{}, "summary", "gpt", `no column "family" (the family role; columns: use_case, model_family, prompt); map it with optimize.source.fields.family`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, _, _, err := ReadPromptsCSV(p, tc.cols, tc.useCase, tc.family)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestNewSource(t *testing.T) {
	t.Parallel()
	r := Resolver{Columns: []string{"transcript"}}
	src, err := NewSource("csv line 2", "", "Summarize {TRANSCRIPT}", r)
	require.NoError(t, err)
	assert.Equal(t, "Summarize {{transcript}}", src.User)
	assert.Equal(t, []string{"transcript"}, src.Fields)
	assert.True(t, src.Foreign)

	_, err = NewSource("csv line 3", "", "Summarize the call.", r)
	require.ErrorIs(t, err, ErrNoPlaceholders)
	assert.Contains(t, err.Error(), "source prompt csv line 3: the source prompt has no placeholders")

	_, err = NativeSource("prompt p", "", "Summarize the call.", nil)
	require.ErrorIs(t, err, ErrNoPlaceholders)
}
