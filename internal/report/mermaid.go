package report

import (
	"fmt"
	"math"
	"strings"

	"github.com/evalgate/evalgate/internal/gate"
)

// GitHub renders ```mermaid blocks in comments and job summaries as
// diagrams; elsewhere (e-mail notifications, the API) the block reads as
// text, so a plain line under it says the same.

// marginShare is a check's estimate as a share of its allowed move: 1 is at
// the limit, above 1 past it, 0 no change, below 0 a move the good way. ok is
// false for checks it does not describe: a floor (min) and a limit of 0 (no
// margin to take a share of).
func marginShare(c gate.CriterionResult) (float64, bool) {
	lim, est := float64(c.Limit), c.Estimate.Est
	if bad(lim) || bad(est) || lim == 0 {
		return 0, false
	}
	switch {
	case c.Scale == "delta" || c.Scale == "relative":
	case c.Check == "max_error_rate":
	default:
		return 0, false
	}
	return est / lim, true
}

// maxShare clamps the chart's bars: a move of ten margins would flatten the
// others to nothing.
const maxShare = 3.0

// mermaidName keeps a metric name to characters that mean nothing to
// Mermaid: the name comes from the config a pull request may change.
func mermaidName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.' || r == ' ' {
			return r
		}
		return '_'
	}, s)
}

// Mermaid is a bar chart of each check's change as a share of its margin,
// with the margin as a line at 100%, and a text line saying the same; "" when
// no check has a margin to share.
func Mermaid(v *gate.Verdict) string {
	var names, bars, texts []string
	hi := 150.0
	for _, c := range v.Criteria {
		share, ok := marginShare(c)
		if !ok {
			continue
		}
		name := mermaidName(c.Metric + " " + c.Check)
		// A bar starts at the axis's minimum, so a move the good way (below
		// 0) is drawn as no bar; the text line has its number.
		pct := math.Round(math.Max(0, math.Min(maxShare, share)) * 100)
		names = append(names, fmt.Sprintf("%q", name))
		bars = append(bars, fmt.Sprintf("%.0f", pct))
		hi = math.Max(hi, pct)
		texts = append(texts, fmt.Sprintf("%s %.0f%% (%s)", Inline(c.Metric+" "+c.Check), share*100, c.Status))
	}
	if len(names) == 0 {
		return ""
	}
	line := strings.TrimSuffix(strings.Repeat("100, ", len(names)), ", ")
	var b strings.Builder
	b.WriteString("```mermaid\n")
	b.WriteString(`%%{init: {"themeVariables": {"xyChart": {"plotColorPalette": "#0969da, #cf222e"}}}}%%` + "\n")
	b.WriteString("xychart-beta horizontal\n")
	b.WriteString("  title \"Move toward each limit, % of the margin (red: the limit)\"\n")
	fmt.Fprintf(&b, "  x-axis [%s]\n", strings.Join(names, ", "))
	fmt.Fprintf(&b, "  y-axis \"%% of margin\" 0 --> %.0f\n", math.Ceil(hi/50)*50)
	fmt.Fprintf(&b, "  bar [%s]\n", strings.Join(bars, ", "))
	fmt.Fprintf(&b, "  line [%s]\n", line)
	b.WriteString("```\n\n")
	fmt.Fprintf(&b, "Move toward each limit as a share of its margin (100%% is at the limit, more is past it, below 0 is a move the good way): %s.\n\n", strings.Join(texts, "; "))
	return b.String()
}
