package report

import (
	"encoding/xml"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/gate"
	"github.com/evalgate/evalgate/internal/golden"
)

func TestJUnit(t *testing.T) {
	t.Parallel()
	v := compareRuns(t, gate.Config{Criteria: testCriteria(), Samples: 1}, 1, func(i int) string { return "ok" })
	b, err := JUnit(v, "support", []SampleCase{
		{SampleID: "q100"},
		{SampleID: "q101", Failure: "exact_match failed"},
		{SampleID: "q102", Repeat: 1, Error: "throttled: " + hostile},
	})
	require.NoError(t, err)
	golden.Assert(t, string(b))

	// Whatever the answers hold, the file stays well-formed XML.
	var parsed struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Errors   int `xml:"errors,attr"`
	}
	require.NoError(t, xml.Unmarshal(b, &parsed))
	assert.Equal(t, len(v.Criteria)+3, parsed.Tests)
	blocking := 0
	for _, c := range v.Criteria {
		if c.Blocks() && c.Status != gate.CheckError {
			blocking++
		}
	}
	assert.Equal(t, blocking+1, parsed.Failures, "a blocking criterion and a failed sample are failures")
	assert.Equal(t, 1, parsed.Errors)
}

func TestJUnitWithoutSamples(t *testing.T) {
	t.Parallel()
	v := compareRuns(t, gate.Config{Criteria: testCriteria(), Samples: 1}, 1, func(i int) string { return "ok" })
	b, err := JUnit(v, "", nil)
	require.NoError(t, err)
	assert.NotContains(t, string(b), "samples of")
	assert.Contains(t, string(b), `<testsuites name="evalgate"`)
}
