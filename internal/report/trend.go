package report

import (
	"fmt"
	"math"
	"strings"

	"github.com/evalgate/evalgate/internal/metric"
	"github.com/evalgate/evalgate/internal/trend"
)

// sparkBlocks are the eight heights of a sparkline, lowest first.
var sparkBlocks = []rune("▁▂▃▄▅▆▇█")

// Sparkline draws values as block characters scaled between their least and
// greatest; a missing value (NaN) is a space.
func Sparkline(values []float64) string {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range values {
		if !bad(v) {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	var b strings.Builder
	for _, v := range values {
		switch {
		case bad(v):
			b.WriteRune(' ')
		case hi == lo:
			b.WriteRune(sparkBlocks[len(sparkBlocks)/2])
		default:
			b.WriteRune(sparkBlocks[int(math.Round((v-lo)/(hi-lo)*float64(len(sparkBlocks)-1)))])
		}
	}
	return b.String()
}

// TrendMarkdown is the history of a suite's scheduled runs for the tracking
// issue and the step summary: per criterion check, a sparkline of the
// target's value over the runs, the first and last values, and the largest
// step between two runs with the run where it happened. "" with fewer than
// two runs.
func TrendMarkdown(history []trend.Entry) string {
	if len(history) < 2 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "### Trend over the last %d scheduled runs\n\n", len(history))
	b.WriteString("| Check | Target's value, oldest → newest | First | Last | Largest step |\n|---|---|---|---|---|\n")
	for _, s := range trend.BySeries(history) {
		info := metric.Info{Name: s.Check.Metric, Min: 0, Max: 1}
		first, last := math.NaN(), math.NaN()
		for _, v := range s.Values {
			if !bad(v) {
				if bad(first) {
					first = v
				}
				last = v
			}
		}
		step := dash
		if st, ok := s.Largest(); ok && st.Delta != 0 {
			e := s.Runs[st.To]
			where := e.Time.Format("2006-01-02")
			if safeURL(e.URL) {
				where = fmt.Sprintf("[%s](%s)", where, e.URL)
			}
			step = fmt.Sprintf("%s at the run of %s", signed(st.Delta, info), where)
		}
		fmt.Fprintf(&b, "| %s | `%s` | %s | %s | %s |\n", Inline(s.Check.Name()), Sparkline(s.Values), num(first, info), num(last, info), step)
	}
	b.WriteString("\nA provider that changes a model without a new name shows as a step here, at the run where it happened.\n")
	return b.String()
}

// safeURL reports whether a run URL read from a history file may be a
// link: https, and nothing that could end the Markdown link early.
func safeURL(u string) bool {
	return strings.HasPrefix(u, "https://") && !strings.ContainsAny(u, " \t\n()[]<>\"'`\\")
}
