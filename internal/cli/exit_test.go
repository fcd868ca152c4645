package cli

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/evalgate/evalgate/internal/gate"
	"github.com/evalgate/evalgate/internal/suite"
)

// TestVerdictCode pins the one mapping from verdicts to exit codes: the gate
// says whether a verdict blocks, the cli alone turns that into a number.
func TestVerdictCode(t *testing.T) {
	t.Parallel()
	inconclusive := func(mode suite.Mode, sev suite.Severity) *gate.Verdict {
		return &gate.Verdict{Status: gate.StatusInconclusive, Criteria: []gate.CriterionResult{
			{Metric: "m", Mode: mode, Severity: sev, Status: gate.CheckInconclusive}}}
	}
	tests := []struct {
		name string
		v    *gate.Verdict
		want int
	}{
		{"pass", &gate.Verdict{Status: gate.StatusPass}, ExitPass},
		{"regressed", &gate.Verdict{Status: gate.StatusRegressed}, ExitRegressed},
		{"inconclusive in regression mode", inconclusive(suite.ModeRegression, suite.SeverityFail), ExitPass},
		{"inconclusive in non_inferiority mode", inconclusive(suite.ModeNonInferiority, suite.SeverityFail), ExitRegressed},
		{"inconclusive warn-only", inconclusive(suite.ModeNonInferiority, suite.SeverityWarn), ExitPass},
		{"incomplete", &gate.Verdict{Status: gate.StatusIncomplete}, ExitIncomplete},
		{"criteria cannot be checked", &gate.Verdict{Status: gate.StatusError}, ExitUsage},
		{"unknown status", &gate.Verdict{Status: "bogus"}, ExitUsage},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, verdictCode(tc.v))
		})
	}
}
