package report

import (
	"encoding/xml"
	"fmt"

	"github.com/evalgate/evalgate/internal/gate"
)

// SampleCase is one sample's outcome, a test case of the JUnit report when
// per-sample cases are asked for.
type SampleCase struct {
	SampleID string
	Repeat   int
	// Failure says which pass/fail metrics the answer failed; Error is the
	// call's error. Both empty: the sample passed.
	Failure string
	Error   string
}

// The JUnit XML elements evalgate writes: the subset test reporters read
// (GitHub's test-reporter actions, GitLab, Jenkins).
type (
	junitSuites struct {
		XMLName  xml.Name     `xml:"testsuites"`
		Name     string       `xml:"name,attr"`
		Tests    int          `xml:"tests,attr"`
		Failures int          `xml:"failures,attr"`
		Errors   int          `xml:"errors,attr"`
		Suites   []junitSuite `xml:"testsuite"`
	}
	junitSuite struct {
		Name     string      `xml:"name,attr"`
		Tests    int         `xml:"tests,attr"`
		Failures int         `xml:"failures,attr"`
		Errors   int         `xml:"errors,attr"`
		Cases    []junitCase `xml:"testcase"`
	}
	junitCase struct {
		Name      string        `xml:"name,attr"`
		ClassName string        `xml:"classname,attr"`
		Failure   *junitProblem `xml:"failure,omitempty"`
		Error     *junitProblem `xml:"error,omitempty"`
		SystemOut string        `xml:"system-out,omitempty"`
	}
	junitProblem struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr,omitempty"`
		Text    string `xml:",chardata"`
	}
)

// JUnit renders the verdict as JUnit XML: one test case per criterion (a
// failure when it keeps the verdict from passing, an error when it could not
// be checked, passed with a note otherwise: a warn-severity failure or an
// inconclusive regression check), then, when samples is not nil, one per
// sample of the target. encoding/xml escapes everything, model output
// included.
func JUnit(v *gate.Verdict, title string, samples []SampleCase) ([]byte, error) {
	if title == "" {
		title = "evalgate"
	}
	crit := junitSuite{Name: fmt.Sprintf("%s: criteria, %s vs %s", title, v.Target.Label(), v.Baseline.Label())}
	for _, c := range v.Criteria {
		tc := junitCase{Name: fmt.Sprintf("%s %s (%s)", c.Metric, c.Check, c.Bound), ClassName: title + ".criteria"}
		msg := fmt.Sprintf("%s: %s", c.Status, c.Reason)
		switch {
		case c.Status == gate.CheckError:
			tc.Error = &junitProblem{Message: msg, Type: string(c.Status), Text: c.Reason}
			crit.Errors++
		case c.Blocks():
			tc.Failure = &junitProblem{Message: msg, Type: string(c.Status), Text: c.Reason}
			crit.Failures++
		case c.Status != gate.CheckPass:
			tc.SystemOut = fmt.Sprintf("%s (severity %s, mode %s, not failing): %s", c.Status, c.Severity, c.Mode, c.Reason)
		default:
			tc.SystemOut = c.Reason
		}
		crit.Cases = append(crit.Cases, tc)
	}
	crit.Tests = len(crit.Cases)
	out := junitSuites{Name: title, Suites: []junitSuite{crit}}
	if samples != nil {
		ss := junitSuite{Name: fmt.Sprintf("%s: samples of %s", title, v.Target.Label())}
		for _, s := range samples {
			tc := junitCase{Name: fmt.Sprintf("sample %s repeat %d", s.SampleID, s.Repeat), ClassName: title + ".samples"}
			switch {
			case s.Error != "":
				tc.Error = &junitProblem{Message: s.Error, Type: "call"}
				ss.Errors++
			case s.Failure != "":
				tc.Failure = &junitProblem{Message: s.Failure, Type: "metric"}
				ss.Failures++
			}
			ss.Cases = append(ss.Cases, tc)
		}
		ss.Tests = len(ss.Cases)
		out.Suites = append(out.Suites, ss)
	}
	for _, s := range out.Suites {
		out.Tests += s.Tests
		out.Failures += s.Failures
		out.Errors += s.Errors
	}
	b, err := xml.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("junit: %w", err)
	}
	return append([]byte(xml.Header), append(b, '\n')...), nil
}
