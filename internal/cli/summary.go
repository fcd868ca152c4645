package cli

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/evalgate/evalgate/internal/gate"
	"github.com/evalgate/evalgate/internal/metric"
	"github.com/evalgate/evalgate/internal/provider"
	"github.com/evalgate/evalgate/internal/results"
	"github.com/evalgate/evalgate/internal/run"
	"github.com/evalgate/evalgate/internal/suite"
)

// printSummary writes the terminal summary of a run: per target the records,
// errors, the mean of each metric, tokens, cost and latency.
func printSummary(w io.Writer, s *suite.Suite, targets []run.Target, metrics []metric.Metric, sum results.Summary, path string) {
	fmt.Fprintf(w, "\nsuite %s: %s", s.Config.Name, sum.Status)
	if sum.Reason != "" {
		fmt.Fprintf(w, " (%s)", sum.Reason)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	cols := []string{"target", "n", "errors"}
	for _, m := range metrics {
		cols = append(cols, m.Info().Name)
	}
	cols = append(cols, "in tok", "out tok", "cost $", "p50 ms", "p95 ms", "")
	fmt.Fprintln(tw, strings.Join(cols, "\t"))
	for _, ts := range sum.Targets {
		row := []string{ts.ID, fmt.Sprint(ts.Records), fmt.Sprint(ts.Errors)}
		for _, m := range metrics {
			name := m.Info().Name
			if n := ts.Scored[name]; n > 0 {
				row = append(row, fmt.Sprintf("%.3f", ts.Means[name]))
			} else {
				row = append(row, "-")
			}
		}
		cost := "unknown"
		if ts.CostUSD != nil {
			cost = fmt.Sprintf("%.4f", *ts.CostUSD)
		}
		row = append(row, fmt.Sprint(ts.Usage.InputTokens), fmt.Sprint(ts.Usage.OutputTokens), cost,
			fmt.Sprintf("%.0f", ts.LatencyP50MS), fmt.Sprintf("%.0f", ts.LatencyP95MS), "")
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	tw.Flush()
	for i, ts := range sum.Targets {
		var notes []string
		if ts.Skipped > 0 {
			notes = append(notes, fmt.Sprintf("%d calls not made", ts.Skipped))
		}
		if ts.Cached > 0 {
			notes = append(notes, fmt.Sprintf("%d from cache", ts.Cached))
		}
		if ts.MaxTokensStops > 0 {
			notes = append(notes, fmt.Sprintf("%d answers cut at max_tokens", ts.MaxTokensStops))
		}
		if ts.Retries > 0 {
			notes = append(notes, fmt.Sprintf("%d retries", ts.Retries))
		}
		if ts.JudgeUsage != (provider.Usage{}) {
			cost := "cost unknown"
			if ts.JudgeCostUSD != nil {
				cost = fmt.Sprintf("$%.4f", *ts.JudgeCostUSD)
			}
			notes = append(notes, fmt.Sprintf("judging: %d in / %d out tokens, %s", ts.JudgeUsage.InputTokens, ts.JudgeUsage.OutputTokens, cost))
		}
		if u := ts.Usage; u.CacheReadTokens > 0 || u.CacheWriteTokens > 0 {
			note := fmt.Sprintf("prompt cache: %d tokens read, %d written", u.CacheReadTokens, u.CacheWriteTokens)
			if p := targets[i].Price; p != nil {
				if saved := p.CacheSaving(u); saved >= 0 {
					note += fmt.Sprintf(", saved $%.4f against the input price", saved)
				} else {
					// Writes dearer than input, not yet repaid by reads.
					note += fmt.Sprintf(", cost $%.4f more than the input price", -saved)
				}
			}
			notes = append(notes, note)
		}
		if ts.CostUSD == nil {
			notes = append(notes, fmt.Sprintf("cost unknown: model %q is not in the pricing catalog (set pricing: on the target)", targets[i].Info.Model))
		}
		if len(notes) > 0 {
			fmt.Fprintf(w, "  %s: %s\n", ts.ID, strings.Join(notes, "; "))
		}
	}
	fmt.Fprintf(w, "results: %s\n", path)
}

// printVerdict writes the gate's verdict under the run summary: the verdict,
// one line per criterion check, and where the full report is.
func printVerdict(w io.Writer, r *suiteRun) {
	v := r.verdict
	fmt.Fprintf(w, "\nverdict: %s — %s\n", strings.ToUpper(string(v.Status)), v.Reason)
	fmt.Fprintf(w, "  %s vs baseline %s, %d pairs\n", v.Target.Label(), v.Baseline.Label(), v.Pairs)
	if v.Sequential != nil {
		fmt.Fprintf(w, "  %s\n", v.Sequential.Summary())
	}
	for _, c := range v.Criteria {
		fmt.Fprintf(w, "  %-13s %-28s %s\n", c.Status, c.Metric+" "+c.Bound, c.Reason)
	}
	for _, warn := range v.Warnings {
		fmt.Fprintf(w, "  warning: %s\n", warn)
	}
	fmt.Fprintf(w, "report: %s\nhtml report: %s\nverdict: %s\n", r.reportPath, r.htmlPath, r.verdictPath)
}

// printLevels writes, for a run without a baseline, each target's metric
// means with their intervals: a mean alone would hide how little 20 samples
// say.
func printLevels(ctx context.Context, w io.Writer, r *suiteRun) {
	conf := r.suite.Config.Gate.Confidence
	if conf == 0 {
		conf = suite.DefaultConfidence
	}
	lv, err := gate.Levels(ctx, r.resultsPath, conf)
	if err != nil || len(lv) == 0 {
		return
	}
	fmt.Fprintf(w, "\nmeans with %s%% intervals (no baseline to compare with):\n", strconv.FormatFloat(conf*100, 'g', 4, 64))
	for _, t := range lv {
		var parts []string
		for _, m := range t.Metrics {
			iv := m.Interval
			if iv.Bounded() {
				parts = append(parts, fmt.Sprintf("%s %.3g [%.3g, %.3g]", m.Metric, iv.Est, iv.Lo, iv.Hi))
			} else {
				parts = append(parts, fmt.Sprintf("%s %.3g [no interval]", m.Metric, iv.Est))
			}
		}
		fmt.Fprintf(w, "  %s: %s\n", t.Target, strings.Join(parts, "; "))
	}
}
