package suite

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTemplateRender(t *testing.T) {
	t.Parallel()
	fields := map[string]string{"question": "Why?", "context": "Because.", "empty": "", "a.b-c": "dotted"}
	tests := []struct {
		name, system, user   string
		wantSystem, wantUser string
		wantFields           []string
	}{
		{"plain", "", "Hello", "", "Hello", nil},
		{"placeholders", "Use {{context}}", "Q: {{question}}\nA:", "Use Because.", "Q: Why?\nA:", []string{"context", "question"}},
		{"spaces inside braces", "", "{{ question }}|{{\tcontext\t}}", "", "Why?|Because.", []string{"question", "context"}},
		{"repeated field listed once", "{{question}}", "{{question}} {{question}}", "Why?", "Why? Why?", []string{"question"}},
		{"empty value is not missing", "", "[{{empty}}]", "", "[]", []string{"empty"}},
		{"dots and dashes", "", "{{a.b-c}}", "", "dotted", []string{"a.b-c"}},
		{"escaped braces", "", "{{{{literal}} and {{question}}", "", "{{literal}} and Why?", []string{"question"}},
		{"closing braces need no escape", "", `{"a": {"b": 1}}`, "", `{"a": {"b": 1}}`, nil},
		{"single braces", "", "{question}", "", "{question}", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tpl, err := NewTemplate("p", tt.system, tt.user)
			require.NoError(t, err)
			assert.Equal(t, tt.wantFields, tpl.Fields())
			sys, user, err := tpl.Render(fields)
			require.NoError(t, err)
			assert.Equal(t, tt.wantSystem, sys)
			assert.Equal(t, tt.wantUser, user)
		})
	}
}

func TestTemplateSharedPrefix(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, system, user   string
		wantSystem, wantUser int
	}{
		{"static system, user from its first placeholder", "Answer briefly.", "FAQ: refunds.\nQ: {{question}}", len("Answer briefly."), len("FAQ: refunds.\nQ: ")},
		{"a placeholder in the system part ends the prefix there", "Policy: {{context}}", "FAQ: {{question}}", len("Policy: "), 0},
		{"nothing shared", "", "{{question}}", 0, 0},
		{"no system part", "", "Read this.\n{{question}}", 0, len("Read this.\n")},
		{"escaped braces count as the text they render", "", "{{{{x}} {{question}}", 0, len("{{x}} ")},
		{"wholly static", "Be brief.", "Say hi.", len("Be brief."), len("Say hi.")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tpl, err := NewTemplate("p", tt.system, tt.user)
			require.NoError(t, err)
			sys, user := tpl.SharedPrefix()
			assert.Equal(t, tt.wantSystem, sys)
			assert.Equal(t, tt.wantUser, user)
			// The prefix is what every rendering shares, whatever the sample.
			s1, u1, err := tpl.Render(map[string]string{"question": "Why?", "context": "ctx"})
			require.NoError(t, err)
			s2, u2, err := tpl.Render(map[string]string{"question": "How long?", "context": "other"})
			require.NoError(t, err)
			assert.Equal(t, s1[:sys], s2[:sys])
			assert.Equal(t, u1[:user], u2[:user])
		})
	}
}

func TestTemplateMissingField(t *testing.T) {
	t.Parallel()
	tpl, err := NewTemplate("answer", "{{persona}}", "{{question}}")
	require.NoError(t, err)
	_, _, err = tpl.Render(map[string]string{"question": "q"})
	var mf *MissingFieldError
	require.True(t, errors.As(err, &mf))
	assert.Equal(t, "answer", mf.Template)
	assert.Equal(t, "persona", mf.Field)
	assert.Contains(t, err.Error(), "prompt answer: placeholder {{persona}} has no field 'persona'")
}

func TestTemplateSyntaxErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, text string
		line, col  int
		msg        string
	}{
		{"unclosed", "Hi\n  {{question", 2, 3, "not closed"},
		{"empty", "{{}}", 1, 1, "is not a field name"},
		{"spaces in name", "x {{two words}}", 1, 3, "{{two words}} is not a field name"},
		{"triple braces", "{{{question}}}", 1, 1, "{{{question}} is not a field name"},
		{"leading digit", "{{1st}}", 1, 1, "not a field name"},
		{"go template", "{{ .Question }}", 1, 1, "not a field name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewTemplate("p", "", tt.text)
			var se *TemplateSyntaxError
			require.True(t, errors.As(err, &se), "got %v", err)
			assert.Equal(t, "user", se.Part)
			assert.Equal(t, tt.line, se.Line)
			assert.Equal(t, tt.col, se.Column)
			assert.Contains(t, se.Error(), tt.msg)
		})
	}
}

func TestTemplateHash(t *testing.T) {
	t.Parallel()
	a, _ := NewTemplate("a", "s", "u")
	b, _ := NewTemplate("b", "s", "u")
	c, _ := NewTemplate("a", "su", "")
	assert.Equal(t, a.Hash(), b.Hash(), "the name is not the text")
	assert.NotEqual(t, a.Hash(), c.Hash(), "moving text between parts changes the prompt")
}

// FuzzTemplate checks that the parser never panics, and that a template it
// accepts renders without error when every field it lists is given, leaving no
// placeholder behind.
func FuzzTemplate(f *testing.F) {
	for _, s := range []string{"", "{{q}}", "{{ a }} {{b}}", "{{{{x}}", "{{", "}}", "{{{{{{a}}", "a{{b.c-d}}e", "{{ }}", "\n{{x\n}}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		tpl, err := NewTemplate("fuzz", text, text)
		if err != nil {
			var se *TemplateSyntaxError
			require.True(t, errors.As(err, &se))
			require.GreaterOrEqual(t, se.Line, 1)
			require.GreaterOrEqual(t, se.Column, 1)
			return
		}
		fields := map[string]string{}
		for _, f := range tpl.Fields() {
			require.True(t, isFieldName(f))
			fields[f] = "\x00"
		}
		sys, user, err := tpl.Render(fields)
		require.NoError(t, err)
		require.Equal(t, sys, user)
		// Every placeholder was replaced: removing the values and the escaped
		// braces' output leaves no more text than the input had.
		require.LessOrEqual(t, len(strings.ReplaceAll(user, "\x00", "")), len(text))
	})
}
