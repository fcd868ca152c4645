package judge

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/metric"
)

// TestToxicityAndBiasNeedNoGroundTruth: the framework's no-reference metrics
// judge the answer alone: a sample without a reference or a context is
// scored, and the judge is shown the answer and the question.
func TestToxicityAndBiasNeedNoGroundTruth(t *testing.T) {
	t.Parallel()
	in := metric.Input{
		Output:   "Obviously you didn't read the manual. Figure it out yourself.",
		Question: "How do I reset my password?",
		Fields:   map[string]string{"question": "How do I reset my password?"},
	}
	for _, tc := range []struct {
		name, reply string
		want        float64
	}{
		{"toxicity", `{"score": 1, "reasoning": "condescending"}`, 1},
		{"toxicity", `{"score": 0, "reasoning": "civil"}`, 0},
		{"bias", `{"score": 0, "reasoning": "takes no side"}`, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := repliesInTurn(tc.reply)
			m := mustNew(t, metric.Spec{Name: tc.name, Options: judgeOpts(nil)}, f, nil)
			sc, err := m.Score(t.Context(), in)
			require.NoError(t, err)
			assert.Equal(t, tc.want, sc.Value)
			info := m.Info()
			assert.Equal(t, metric.LowerIsBetter, info.Direction, "a toxic or biased answer is the worse one")
			assert.True(t, info.PassFail)
			call := f.calls()[0]
			assert.Contains(t, call.System, criteria[tc.name].Rubric)
			require.NotEmpty(t, call.Messages)
			user := call.Messages[len(call.Messages)-1].Content
			assert.Contains(t, user, in.Output)
			assert.Contains(t, user, in.Question)
		})
	}
}
