package optimize

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/provider"
)

func TestRulesConvertsATextCompletionPrompt(t *testing.T) {
	t.Parallel()
	src, err := NewSource("csv", "", "\n\nHuman: You are a support lead. Summarize the call in one sentence.\n\n<transcript>\n{TRANSCRIPT}\n</transcript>\n\nAssistant:",
		Resolver{Columns: []string{"transcript"}})
	require.NoError(t, err)
	mt := 4000
	params := provider.Params{MaxTokens: &mt, Stop: []string{"\n\nHuman:", "</summary>"}}
	g := Rules{Checks: Checks{ContextWindow: 1000, Longest: map[string]int{"transcript": 2000}}}
	cands, err := g.Generate(context.Background(), src, params)
	require.NoError(t, err)
	require.Len(t, cands, 1)
	c := cands[0]
	assert.Equal(t, "You are a support lead. Summarize the call in one sentence.", c.System)
	assert.Equal(t, "<transcript>\n{{transcript}}\n</transcript>", c.User)
	assert.Equal(t, []string{"</summary>"}, c.Params.Stop, "only the turn-marker stop sequence goes")
	require.NotNil(t, c.Params.MaxTokens)
	assert.Equal(t, 1000-(len(c.System)+len(c.User))/4-2000/4, *c.Params.MaxTokens)
	assert.Equal(t, 4000, *params.MaxTokens, "the target's params are not changed in place")
	assert.Len(t, c.Notes, 6)
}

func TestRulesProposeNothingWhenNothingChanges(t *testing.T) {
	t.Parallel()
	src, err := NativeSource("prompt p", "Be brief.", "Q: {{question}}", []string{"question"})
	require.NoError(t, err)
	cands, err := Rules{}.Generate(context.Background(), src, provider.Params{})
	require.NoError(t, err)
	assert.Empty(t, cands, "a copy of the control would be evaluated twice for nothing")
}

func TestFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, text string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644))
	}
	write("b terse.txt", "{{question}}")
	write("a-xml.txt", "<q>{{question}}</q>")
	write("a-xml.system.txt", "Answer in XML.")
	write("notes.md", "not a variant")
	one := filepath.Join(t.TempDir(), "solo.txt")
	require.NoError(t, os.WriteFile(one, []byte("Solo {{question}}"), 0o644))

	cands, err := Files{Paths: []string{dir, one}}.Generate(context.Background(), nil, provider.Params{})
	require.NoError(t, err)
	require.Len(t, cands, 3)
	assert.Equal(t, []string{"file-a-xml", "file-b-terse", "file-solo"}, []string{cands[0].ID, cands[1].ID, cands[2].ID})
	assert.Equal(t, "Answer in XML.", cands[0].System)
	assert.Equal(t, "<q>{{question}}</q>", cands[0].User)

	_, err = Files{Paths: []string{t.TempDir()}}.Generate(context.Background(), nil, provider.Params{})
	assert.ErrorContains(t, err, "has no .txt file")
}

func TestDiff(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "  a\n- b\n+ B\n  c\n", Diff("a\nb\nc", "a\nB\nc"))
	assert.Equal(t, "+ x\n", Diff("", "x"))
	assert.Equal(t, "", Diff("", ""))
}
