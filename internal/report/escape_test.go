package report

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/gate"
)

// bidi holds every bidirectional control: embeddings, overrides, isolates
// and marks.
const bidi = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"

// Issue 10 item 12: bidirectional controls in model output ("Trojan
// Source": text that displays in another order than it reads) never reach a
// rendered report; the JSON verdict keeps them as \u escapes.
func TestBidiControlsAreNeutralized(t *testing.T) {
	t.Parallel()
	for _, r := range bidi {
		assert.True(t, IsBidiControl(r), "%U", r)
	}
	for _, r := range "aé\u200b\u05d0\u0627\t" { // letters of any script and the zero-width space stay
		assert.False(t, IsBidiControl(r), "%U", r)
	}
	in := "PASS\u202e LIAF\u202c " + bidi + " שלום"
	for name, got := range map[string]string{"inline": Inline(in), "block": Block(in), "drop": DropBidi(in)} {
		assert.False(t, strings.ContainsFunc(got, IsBidiControl), "%s: %q", name, got)
		assert.Contains(t, got, "שלום", name)
	}

	v := compareRuns(t, gate.Config{Criteria: testCriteria(), Samples: 3}, 1, func(i int) string { return "answer\u202e " + strconv.Itoa(i) + "\u2066x\u2069" })
	v.Reason += " \u202eevil"
	md := Markdown(v, Options{Title: "suite\u202e"})
	require.Contains(t, md, "answer 0x", "the regressed samples' outputs are shown")
	assert.False(t, strings.ContainsFunc(md, IsBidiControl))

	b, err := JSON(v, 1)
	require.NoError(t, err)
	assert.False(t, strings.ContainsFunc(string(b), IsBidiControl))
	assert.Contains(t, string(b), `\u202eevil`)
	var doc struct{ Reason string }
	require.NoError(t, json.Unmarshal(b, &doc))
	assert.Equal(t, v.Reason, doc.Reason, "the data is unchanged")
}
