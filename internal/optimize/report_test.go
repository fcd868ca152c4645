package optimize

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/gate"
)

func TestReportEscapesModelTextAndStatesTheHeldOutIsUnbiased(t *testing.T) {
	t.Parallel()
	evil := Candidate{ID: "metaprompt", Generator: GenMetaprompt, System: "<script>alert(1)</script>", User: "@maintainers see [x](http://evil) {{q}}",
		Notes: []string{"analysis: <img src=x> | cell"}}
	rep := &Report{Suite: "s", Target: "t", Model: "m", Source: &Source{Origin: "prompt p"}, Objective: Objective{Metric: "f1", Tolerance: 0.01},
		Tried: 2, Control: Candidate{ID: GenControl, User: "{{q}}"}, Candidates: []Candidate{evil}, Winner: &evil,
		Dropped: []Dropped{{ID: "x", Generator: GenFiles, Reason: "drops {{q}} <b>"}},
		Verdict: &gate.Verdict{Status: gate.StatusPass, Reason: "all criteria passed"}, BaselineID: "source", HeldOutSamples: 12}
	md := rep.Markdown()
	assert.NotContains(t, md, "<script>")
	assert.NotContains(t, md, "<img")
	assert.NotContains(t, md, "<b>")
	assert.NotContains(t, md, "@maintainers")
	assert.Contains(t, md, "&lt;script&gt;")
	assert.Contains(t, md, "**2 candidates tried**, 1 evaluated, 1 dropped before evaluation")
	assert.Contains(t, md, "## Held-out verdict: PASS")
	assert.Contains(t, md, SelectionBiasNote)

	js, err := rep.JSON()
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(js, &doc))
	assert.Equal(t, SelectionBiasNote, doc["selection_bias"])
	assert.EqualValues(t, 2, doc["candidates_tried"])
}
