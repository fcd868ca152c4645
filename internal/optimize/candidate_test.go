package optimize

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/provider"
)

func TestCheck(t *testing.T) {
	t.Parallel()
	k := Checks{Required: []string{"question", "context"}, Columns: []string{"context", "question"},
		Longest: map[string]int{"question": 400, "context": 4000}, ContextWindow: 2000}
	maxTokens := func(n int) provider.Params { return provider.Params{MaxTokens: &n} }
	tests := []struct {
		name string
		c    Candidate
		want string // "" means the candidate passes
	}{
		{"passes", Candidate{User: "{{context}}\n\nQ: {{question}}", Params: maxTokens(500)}, ""},
		{"empty", Candidate{User: " \n "}, "the prompt is empty"},
		{"lost placeholder", Candidate{User: "Q: {{question}}"}, "it drops the source prompt's placeholders {{context}}"},
		{"unfillable placeholder", Candidate{User: "{{context}} {{question}} {{customer}}"}, "placeholders {{customer}} name no dataset column (columns: context, question)"},
		{"malformed", Candidate{User: "{{context}} {{question"}, "is not closed"},
		{"over the context window", Candidate{User: "{{context}} {{question}}", Params: maxTokens(1000)}, "about 2106 tokens, over the model's context window of 2000"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.c.ID, tc.c.Generator = "x", GenFiles
			tpl, err := k.Check(tc.c)
			if tc.want == "" {
				require.NoError(t, err)
				assert.Equal(t, []string{"context", "question"}, tpl.Fields())
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.True(t, strings.HasPrefix(err.Error(), "candidate x (files): "), "the message names the candidate and its generator: %v", err)
		})
	}
}
