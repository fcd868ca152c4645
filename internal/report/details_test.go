package report

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/evalgate/evalgate/internal/gate"
)

// A judge's reasoning is shown for the regressed samples, escaped like the
// answers it explains.
func TestRegressedSamplesShowTheJudgesReasoning(t *testing.T) {
	t.Parallel()
	v := &gate.Verdict{
		Status: gate.StatusRegressed, SampleBy: "correctness",
		Baseline: gate.SideInfo{Target: "prod"}, Target: gate.SideInfo{Target: "cand"},
		Regressed: []gate.SampleDiff{{
			SampleID: "kb-002", BaselineScore: 1, TargetScore: 0.25, Delta: -0.75,
			BaselineOutput: "Only within 30 days.", TargetOutput: "Yes, a prorated refund.",
			TargetDetails: map[string]string{"correctness": "Contradicts the reference: <b>no</b> prorated refunds @support"},
		}},
	}
	md := Markdown(v, Options{})
	assert.Contains(t, md, "Target correctness: Contradicts the reference: &lt;b&gt;no&lt;/b&gt; prorated refunds @\u200bsupport")
	assert.NotContains(t, md, "<b>no</b>")
}
