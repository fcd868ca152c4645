package report

import (
	"math"
	"strings"
	"testing"

	"github.com/evalgate/evalgate/internal/gate"
	"github.com/stretchr/testify/assert"
)

func TestMermaid(t *testing.T) {
	t.Parallel()
	nan := math.NaN()
	check := func(metric, name, scale string, est, limit float64, st gate.CriterionStatus) gate.CriterionResult {
		return gate.CriterionResult{Metric: metric, Check: name, Scale: scale, Status: st,
			Estimate: gate.Interval{Est: est, Lo: nan, Hi: nan}, Limit: gate.Num(limit)}
	}
	v := &gate.Verdict{Criteria: []gate.CriterionResult{
		check("f1", "max_drop", "delta", -0.1, -0.05, gate.CheckFail),                     // twice the margin
		check("latency_p95", "max_increase", "relative", -0.1, 0.25, gate.CheckPass),      // better: no bar
		check("cost_per_1k", "max_increase", "delta", 0.2, 0, gate.CheckPass),             // no margin: left out
		check("f1", "min", "value", 0.7, 0.5, gate.CheckPass),                             // a floor: left out
		check("x\"]\n```\n<img src=x>", "max_drop", "delta", -0.5, -0.05, gate.CheckFail), // hostile name, clamped
	}}
	got := Mermaid(v)
	assert.Equal(t, 2, strings.Count(got, "```"), "one fenced block: a name cannot close it")
	assert.Contains(t, got, `x-axis ["f1 max_drop", "latency_p95 max_increase", "x________img src_x_ max_drop"]`)
	assert.Contains(t, got, "bar [200, 0, 300]")
	assert.Contains(t, got, "line [100, 100, 100]")
	assert.Contains(t, got, `y-axis "% of margin" 0 --> 300`)
	assert.Contains(t, got, "f1 max\\_drop 200% (fail); latency\\_p95 max\\_increase -40% (pass)")
	assert.NotContains(t, got, "<img")

	assert.Empty(t, Mermaid(&gate.Verdict{Criteria: v.Criteria[2:4]}), "no check has a margin to share")
}

// TestMarkdownChartFitsTheLimit: the chart is dropped with the lists when a
// report must be cut to fit GitHub's comment limit.
func TestMarkdownChartFitsTheLimit(t *testing.T) {
	t.Parallel()
	v := compareRuns(t, gate.Config{Criteria: testCriteria(), Samples: 2}, 1, func(int) string { return hostile })
	full := Markdown(v, Options{})
	assert.Contains(t, full, "```mermaid")
	// Cut at a line boundary, a chart could lose its closing fence and turn
	// the rest of the comment into a broken diagram.
	short := Markdown(v, Options{MaxChars: 2500})
	assert.LessOrEqual(t, len(short), 2500)
	assert.NotContains(t, short, "```")
}

// The comment names the HTML report's artifact only where it can link the
// run whose artifacts hold it.
func TestActionMarkdownLinksTheHTMLArtifact(t *testing.T) {
	t.Parallel()
	s := ActionSuite{Name: "support", Status: "pass", Report: "## report\n", HTMLArtifact: "evalgate-report-support_x", RunURL: "https://github.com/o/r/actions/runs/7"}
	assert.Contains(t, ActionMarkdown(s), "the artifact **evalgate-report-support\\_x** of the [workflow run](https://github.com/o/r/actions/runs/7#artifacts)")
	s.RunURL = ""
	assert.NotContains(t, ActionMarkdown(s), "HTML report")
}
