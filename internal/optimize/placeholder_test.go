package optimize

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConvertPlaceholders(t *testing.T) {
	t.Parallel()
	r := Resolver{Columns: []string{"transcript", "question", "doc"}, Explicit: map[string]string{"CALL": "transcript"}}
	tests := []struct {
		name, in, want string
		fields         []string
	}{
		{"aws upper case single brace", "Summarize {TRANSCRIPT}.", "Summarize {{transcript}}.", []string{"transcript"}},
		{"lower case single brace", "Q: {question}", "Q: {{question}}", []string{"question"}},
		{"dollar", "Read $doc then answer $question", "Read {{doc}} then answer {{question}}", []string{"doc", "question"}},
		{"dollar braces", "${doc}!", "{{doc}}!", []string{"doc"}},
		{"jinja with spaces", "{{ question }}", "{{question}}", []string{"question"}},
		{"explicit mapping", "{CALL}", "{{transcript}}", []string{"transcript"}},
		{"escaped literal kept", "{{{{not a field}} and {doc}", "{{{{not a field}} and {{doc}}", []string{"doc"}},
		{"money and json are not placeholders", `Costs $5; {"a": 1}`, `Costs $5; {"a": 1}`, nil},
		{"each column once", "{doc} {DOC}", "{{doc}} {{doc}}", []string{"doc"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, fields, err := ConvertPlaceholders(tc.in, r)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.fields, fields)
		})
	}
}

func TestConvertPlaceholdersUnknownNamesEveryOne(t *testing.T) {
	t.Parallel()
	_, _, err := ConvertPlaceholders("{TRANSCRIPT} and $customer and {TRANSCRIPT}", Resolver{Columns: []string{"question"}})
	var ue *UnknownPlaceholderError
	require.ErrorAs(t, err, &ue)
	assert.Equal(t, []string{"TRANSCRIPT", "customer"}, ue.Names)
	assert.Contains(t, err.Error(), "{TRANSCRIPT}, $customer have no dataset column (columns: question)")
	assert.Contains(t, err.Error(), "optimize.source.placeholders, e.g. {TRANSCRIPT: question}")
}

func TestResolveAmbiguousCaseIsNotGuessed(t *testing.T) {
	t.Parallel()
	_, ok := Resolver{Columns: []string{"Doc", "doc2", "DOC"}}.Resolve("doc")
	assert.False(t, ok, "two columns equal to doc ignoring case: the user must choose")
}
