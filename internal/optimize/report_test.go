package optimize

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/gate"
	"github.com/evalgate/evalgate/internal/golden"
	"github.com/evalgate/evalgate/internal/provider"
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

func TestReportMarkdown(t *testing.T) {
	t.Parallel()
	mt := 200
	control := Candidate{ID: GenControl, Generator: GenControl, User: "Human: Summarize {{transcript}}\n\nAssistant:", Params: provider.Params{MaxTokens: &mt}}
	rules := Candidate{ID: GenRules, Generator: GenRules, System: "Summarize the call.", User: "{{transcript}}", Params: control.Params,
		Notes: []string{"removed the trailing \"Assistant:\" turn marker"}}
	terse := Candidate{ID: "file-terse", Generator: GenFiles, User: "Few words: {{transcript}}", Params: control.Params, Notes: []string{"from prompts/variants/terse.txt"}}
	iv := func(est, lo, hi float64) gate.Interval { return gate.Interval{Est: est, Lo: lo, Hi: hi, N: 12} }
	rep := &Report{Suite: "call-summaries", Target: "nova-lite", Model: "us.amazon.nova-lite-v1:0",
		Source: &Source{Origin: "prompts/source_prompts.csv line 2"}, Generators: []string{GenRules, GenFiles},
		Objective: Objective{Metric: "f1", Tolerance: 0.01}, Split: 0.5, Seed: 7, DevSamples: 12, HeldOutSamples: 12, Tried: 3,
		Control: control, Candidates: []Candidate{rules, terse},
		Dropped: []Dropped{{ID: "file-empty", Generator: GenFiles, Reason: "candidate file-empty (files): the prompt is empty"}},
		Ranking: &Ranking{
			Control: Score{ID: GenControl, Generator: GenControl, Primary: iv(0.534, 0.488, 0.579), CostPer1K: 0.0174, LatencyP95: 640, InputTokens: 102, OutputTokens: 47},
			Scores: []Score{
				{ID: GenRules, Generator: GenRules, Primary: iv(0.971, 0.962, 0.98), Delta: iv(0.437, 0.399, 0.476), CostPer1K: 0.0106, LatencyP95: 610, InputTokens: 97, OutputTokens: 20},
				{ID: "file-terse", Generator: GenFiles, Primary: iv(0.595, 0.525, 0.666), Delta: iv(0.062, -0.017, 0.141), CostPer1K: gate.Num(math.NaN()), LatencyP95: 560, InputTokens: 61, OutputTokens: 7},
			},
			Winner: GenRules, Why: "best mean f1 (0.971)",
		},
		PromptNote: "the winner did not pass the held-out gate",
		SpentUSD:   0.0014,
	}
	golden.Assert(t, rep.Markdown())
}
