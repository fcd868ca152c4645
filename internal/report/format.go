package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/evalgate/evalgate/internal/gate"
	"github.com/evalgate/evalgate/internal/metric"
)

// The number formats of the report: a metric's unit decides its format.

const dash = "–"

func bad(x float64) bool { return math.IsNaN(x) || math.IsInf(x, 0) }

// num formats a value of the metric in its unit.
func num(x float64, info metric.Info) string {
	if bad(x) {
		return dash
	}
	switch n := info.Name; {
	case strings.HasPrefix(n, "cost"):
		return usd(x)
	case strings.HasPrefix(n, "latency"), strings.HasPrefix(n, "ttft"):
		return ms(x)
	case n == "error_rate":
		return percent(x)
	case info.Min >= 0 && info.Max <= 1:
		return fixed(x, 3)
	}
	return strconv.FormatFloat(x, 'g', 4, 64)
}

// value is num for a table cell.
func value(x float64, info metric.Info) string { return num(x, info) }

// signed formats a change with its sign.
func signed(x float64, info metric.Info) string {
	if bad(x) {
		return dash
	}
	return sign(x) + num(math.Abs(x), info)
}

func sign(x float64) string {
	if x < 0 {
		return "−"
	}
	return "+"
}

func fixed(x float64, digits int) string {
	if bad(x) {
		return dash
	}
	return strconv.FormatFloat(x, 'f', digits, 64)
}

func usd(x float64) string {
	if bad(x) {
		return dash
	}
	switch a := math.Abs(x); {
	case a >= 100:
		return "$" + thousands(int(math.Round(x)))
	case a >= 0.1:
		return fmt.Sprintf("$%.2f", x)
	case a == 0:
		return "$0"
	}
	return fmt.Sprintf("$%.4f", x)
}

func ms(x float64) string {
	if bad(x) {
		return dash
	}
	if math.Abs(x) >= 10000 {
		return fmt.Sprintf("%.1f s", x/1000)
	}
	return fmt.Sprintf("%.0f ms", x)
}

func percent(x float64) string {
	if bad(x) {
		return dash
	}
	return fmt.Sprintf("%.1f%%", x*100)
}

func signedPercent(x float64) string {
	if bad(x) {
		return dash
	}
	return sign(x) + percent(math.Abs(x))
}

func pval(p float64) string {
	switch {
	case bad(p):
		return "n/a"
	case p < 0.001:
		return "<0.001"
	}
	return fmt.Sprintf("%.3f", p)
}

// thousands writes n with comma separators.
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var parts []string
	for len(s) > 3 {
		parts = append([]string{s[len(s)-3:]}, parts...)
		s = s[:len(s)-3]
	}
	parts = append([]string{s}, parts...)
	out := strings.Join(parts, ",")
	if neg {
		out = "-" + out
	}
	return out
}

// interval formats "est [lo, hi]" with f, or a dash when there is no
// estimate.
func interval(iv gate.Interval, f func(float64) string) string {
	if bad(iv.Est) {
		return dash
	}
	return iv.Format(f)
}

func meanCI(iv gate.Interval, info metric.Info) string {
	return interval(iv, func(x float64) string { return num(x, info) })
}

func deltaCI(iv gate.Interval, info metric.Info) string {
	return interval(iv, func(x float64) string { return signed(x, info) })
}

func ratioCI(iv gate.Interval) string {
	return interval(iv, func(x float64) string { return fmt.Sprintf("%.2f×", x) })
}

func pctDeltaCI(iv gate.Interval) string {
	return interval(iv, func(x float64) string { return sign(x) + fmt.Sprintf("%.1f pp", math.Abs(x)*100) })
}

// estimate formats a criterion's tested estimate on its scale.
func estimate(iv gate.Interval, scale string, info metric.Info) string {
	switch scale {
	case "relative":
		return interval(iv, signedPercent)
	case "delta":
		return deltaCI(iv, info)
	}
	return meanCI(iv, info)
}

// limitText formats a criterion's limit on its scale.
func limitText(x float64, scale string, info metric.Info) string {
	switch scale {
	case "relative":
		return signedPercent(x)
	case "delta":
		return signed(x, info)
	}
	return num(x, info)
}

// distanceText formats a distance (an MDE) on a scale.
func distanceText(x float64, scale string) string {
	if scale == "relative" {
		return percent(x)
	}
	return strconv.FormatFloat(x, 'g', 3, 64)
}
