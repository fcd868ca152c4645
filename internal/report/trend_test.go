package report

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/evalgate/evalgate/internal/gate"
	"github.com/evalgate/evalgate/internal/golden"
	"github.com/evalgate/evalgate/internal/trend"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSparkline(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "▁▅█", Sparkline([]float64{0, 0.5, 1}))
	assert.Equal(t, "▅▅", Sparkline([]float64{2, 2}), "a flat series sits mid-height")
	assert.Equal(t, "█ ▁", Sparkline([]float64{3, math.NaN(), 1}), "a run without the value is a gap")
	assert.Empty(t, Sparkline(nil))
}

// history is nightly runs of a suite whose target's f1 falls at the fourth
// run: the provider changed the model.
func history(t *testing.T) []trend.Entry {
	t.Helper()
	var h []trend.Entry
	day := time.Date(2026, 11, 1, 3, 17, 0, 0, time.UTC)
	for i, f1 := range []float64{0.81, 0.80, 0.82, 0.64, 0.65, 0.63} {
		status := gate.StatusPass
		if f1 < 0.7 {
			status = gate.StatusRegressed
		}
		v := &gate.Verdict{Status: status, Target: gate.SideInfo{Target: "nova"}, Criteria: []gate.CriterionResult{
			{Metric: "f1", Check: "max_drop", Status: gate.CheckPass, Target: gate.Num(f1), Baseline: 0.8, Estimate: gate.Interval{Est: f1 - 0.8}, Limit: -0.05},
			{Metric: "latency_p95", Check: "max_increase", Status: gate.CheckPass, Target: gate.Num(900 + 10*float64(i)), Baseline: 900, Estimate: gate.Interval{Est: 0}, Limit: 0.25},
		}}
		url := "https://github.com/o/r/actions/runs/" + string(rune('1'+i))
		if i == 3 {
			url = "https://evil.example/x) ![p](https://evil.example/p.png"
		}
		h = trend.Append(h, trend.FromVerdict(v, trend.Run{ID: int64(700 + i), URL: url}, day.AddDate(0, 0, i)))
	}
	return h
}

func TestTrendMarkdown(t *testing.T) {
	t.Parallel()
	md := TrendMarkdown(history(t))
	golden.Assert(t, md)
	assert.Contains(t, md, "| f1 max\\_drop | `█▇█▁▂▁` | 0.810 | 0.630 | −0.180 at the run of 2026-11-04 |", "an unsafe run URL is not a link")
	assert.NotContains(t, md, "evil")
	assert.Empty(t, TrendMarkdown(history(t)[:1]), "one run is no trend")
}

func TestHTMLTrend(t *testing.T) {
	t.Parallel()
	v, pairs := htmlRun(t, 1, func(i int) string { return "x" })
	b, err := HTML(v, pairs, HTMLOptions{History: history(t)})
	require.NoError(t, err)
	page := string(b)
	assert.Equal(t, 2, strings.Count(page, `<svg class="trend"`), "a line per check of the latest run")
	assert.Equal(t, 2, strings.Count(page, `class="step"`))
	assert.Contains(t, page, "−0.180 on 2026-11-04")
	trends := page[strings.Index(page, `id="trends"`):strings.Index(page, "<h2>Samples")]
	assert.Equal(t, 2*6, strings.Count(trends, "<circle"), "a point per run and check")
	assert.NotContains(t, trends, "evil", "run URLs are not drawn")
}

// A tracking issue holds the report and the trend under GitHub's limit: the
// trend gives way to a report that already fills it.
func TestActionMarkdownTrendFitsTheLimit(t *testing.T) {
	t.Parallel()
	trendMD := TrendMarkdown(history(t))
	s := ActionSuite{Name: "support", Status: "regressed", Report: "## report\n", Trend: trendMD, RunURL: "https://github.com/o/r/actions/runs/7"}
	assert.Contains(t, ActionMarkdown(s), "### Trend over the last 6 scheduled runs")
	// A report that fits alone, but not with the trend.
	bare := s
	bare.Trend = ""
	other := len(ActionMarkdown(bare)) - len(s.Report)
	require.Greater(t, len(trendMD), 300)
	s.Report = strings.Repeat("x", GitHubCommentLimit-markerRoom-other-300) + "\n"
	md := ActionMarkdown(s)
	assert.LessOrEqual(t, len(md), GitHubCommentLimit-markerRoom)
	assert.False(t, strings.Contains(md, "### Trend"), "the trend is left out")
	assert.True(t, strings.Contains(md, "trend of the scheduled runs is left out"), "and says so")
	assert.True(t, strings.Contains(md, "[workflow run](https://github.com/o/r/actions/runs/7)"), "the footer stays")
}
