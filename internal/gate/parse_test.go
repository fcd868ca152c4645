package gate

import (
	"testing"

	"github.com/evalgate/evalgate/internal/suite"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseCriterion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    suite.Criterion
		wantErr string
	}{
		{in: "correctness:max_drop=0.05", want: suite.Criterion{Metric: "correctness", MaxDrop: &suite.Margin{Value: 0.05}}},
		{in: "latency_p95:max_increase=25%,severity=warn", want: suite.Criterion{Metric: "latency_p95", MaxIncrease: &suite.Margin{Value: 0.25, Relative: true}, Severity: "warn"}},
		{in: "f1:min=0.7, mode=non_inferiority", want: suite.Criterion{Metric: "f1", Min: ptr(0.7), Mode: "non_inferiority"}},
		{in: "error_rate:max_error_rate=2%", want: suite.Criterion{Metric: "error_rate", MaxErrorRate: ptr(0.02)}},
		{in: "f1", wantErr: "want METRIC:KEY=VALUE"},
		{in: "f1:max_drop=-1", wantErr: "not a margin"},
		{in: "f1:maxdrop=1", wantErr: `unknown key "maxdrop"`},
		{in: "f1:max_error_rate=3", wantErr: "share between 0 and 1"},
	}
	for _, tc := range tests {
		got, err := ParseCriterion(tc.in)
		if tc.wantErr != "" {
			require.Error(t, err, tc.in)
			assert.Contains(t, err.Error(), tc.wantErr)
			continue
		}
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got)
	}
}

func TestParseAgreementAndFind(t *testing.T) {
	t.Parallel()
	p, err := ParseAgreement("judge=sme@0.7")
	require.NoError(t, err)
	assert.Equal(t, "sme", p.Human)
	assert.InDelta(t, 0.7, *p.Threshold, 0)
	_, err = ParseAgreement("judge")
	assert.Error(t, err)
	got := FindAgreementPairs([]string{"llm_judge_score_source_llm", "human_score_source_llm", "correctness_judge", "correctness_human", "f1"})
	assert.Equal(t, []AgreementPair{
		{Judge: "llm_judge_score_source_llm", Human: "human_score_source_llm"},
		{Judge: "correctness_judge", Human: "correctness_human"},
	}, got)
}
