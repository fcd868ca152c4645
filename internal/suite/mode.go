package suite

import (
	"fmt"
	"slices"
	"strings"
)

// Mode says what a criterion must show to pass. It is read from gate.mode, a
// criterion's mode, --mode and the Action's mode input, all with ParseMode.
type Mode string

// The two modes.
const (
	// ModeRegression fails only when the data shows a drop significantly
	// beyond the margin: the pull-request default, where noise must not fail
	// the check.
	ModeRegression Mode = "regression"
	// ModeNonInferiority passes only when the data shows the drop is within
	// the margin: the release-gating default, where "no evidence of harm" is
	// not enough.
	ModeNonInferiority Mode = "non_inferiority"
)

// Severity says whether a failing criterion fails the verdict.
type Severity string

// The two severities.
const (
	SeverityFail Severity = "fail"
	SeverityWarn Severity = "warn"
)

// Modes and Severities are the accepted values, in the order messages name
// them (and the candidates of a did-you-mean).
var (
	Modes      = []string{string(ModeRegression), string(ModeNonInferiority)}
	Severities = []string{string(SeverityFail), string(SeverityWarn)}
)

// ParseMode reads a mode a user wrote. Empty is valid: the default applies
// where the mode is used. The error says what is accepted; the caller adds
// the place (file line, flag or input).
func ParseMode(s string) (Mode, error) {
	if err := oneOf(s, Modes); err != nil {
		return "", err
	}
	return Mode(s), nil
}

// ParseSeverity reads a severity a user wrote; empty is valid (fail applies).
func ParseSeverity(s string) (Severity, error) {
	if err := oneOf(s, Severities); err != nil {
		return "", err
	}
	return Severity(s), nil
}

func oneOf(s string, allowed []string) error {
	if s != "" && !slices.Contains(allowed, s) {
		return fmt.Errorf("%q: want %s", s, strings.Join(allowed, " or "))
	}
	return nil
}
