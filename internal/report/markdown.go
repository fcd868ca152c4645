// Package report renders a gate verdict: Markdown for the pull-request
// comment and the step summary, JSON for machines.
package report

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/evalgate/evalgate/internal/gate"
	"github.com/evalgate/evalgate/internal/metric"
	"github.com/evalgate/evalgate/internal/suite"
)

// GitHubCommentLimit is the most characters GitHub accepts in an issue or
// pull-request comment body (and in a job summary it shows in full); longer
// bodies are rejected with 422 "body is too long".
const GitHubCommentLimit = 65536

// reserved is left under the limit for what the publisher adds around the
// report (a sticky-comment marker, a header line).
const reserved = 1024

// DefaultMaxChars is the default size limit of the Markdown body.
const DefaultMaxChars = GitHubCommentLimit - reserved

// Options shape the Markdown report.
type Options struct {
	// MaxChars bounds the body (DefaultMaxChars when zero). The sample
	// sections are shortened first, then dropped.
	MaxChars int
	// Title replaces "evalgate" in the heading (a suite name, say).
	Title string
	// Notes are lines shown under the heading: how a recorded source
	// called its model (its logged invocation config and prompt).
	Notes []string
}

// sampleLevels are the ways of fitting the sample sections, from the most
// generous: runes kept per answer, and samples per list.
var sampleLevels = []struct{ runes, samples int }{
	{1500, 1 << 30}, {600, 1 << 30}, {300, 3}, {150, 2}, {80, 1}, {0, 0},
}

// Markdown renders the verdict as the PR comment: verdict first, then the
// criteria, cost, latency, tokens, what was inconclusive, and the samples.
// It stays under opts.MaxChars by shortening the sample sections first.
func Markdown(v *gate.Verdict, opts Options) string {
	limit := opts.MaxChars
	if limit <= 0 {
		limit = DefaultMaxChars
	}
	var body string
	for _, lvl := range sampleLevels {
		body = render(v, opts, lvl.runes, lvl.samples, true)
		if len(body) <= limit {
			return body
		}
	}
	// Still too long (thousands of criteria or listed ids): drop the lists,
	// then cut at a line boundary with a note.
	body = render(v, opts, 0, 0, false)
	if len(body) <= limit {
		return body
	}
	note := "\n\n_The report was cut to fit GitHub's comment limit; the JSON verdict has everything._\n"
	cut := body[:limit-len(note)]
	if i := strings.LastIndexByte(cut, '\n'); i > 0 {
		cut = cut[:i]
	}
	return cut + note
}

var statusIcon = map[gate.Status]string{
	gate.StatusPass:         "✅",
	gate.StatusRegressed:    "❌",
	gate.StatusInconclusive: "⚠️",
	gate.StatusIncomplete:   "⏸️",
	gate.StatusError:        "🛑",
}

var checkIcon = map[gate.CriterionStatus]string{
	gate.CheckPass:         "✅ pass",
	gate.CheckFail:         "❌ fail",
	gate.CheckInconclusive: "⚠️ inconclusive",
	gate.CheckError:        "🛑 error",
}

func render(v *gate.Verdict, opts Options, runes, samples int, lists bool) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	title := "evalgate"
	if opts.Title != "" {
		title = Inline(opts.Title)
	}
	status := string(v.Status)
	if v.Status == gate.StatusInconclusive {
		if !v.Blocks() {
			status = "inconclusive (not failing)"
		} else {
			status = "inconclusive (failing: not shown within margin)"
		}
	}
	w("## %s %s: %s\n\n", statusIcon[v.Status], title, status)
	w("**%s** vs baseline **%s**: %s\n\n", Inline(v.Target.Label()), Inline(v.Baseline.Label()), Inline(v.Reason))
	w("%d pairs (%d samples", v.Pairs, v.Samples)
	if v.Repeats > 1 {
		w(" × up to %d repeats", v.Repeats)
	}
	if v.Sequential != nil {
		// A look's level needs its digits: 99.96% is not 100%.
		w("), %d evaluated; mode %s; %s confidence", v.Evaluated, v.Mode, gate.FormatConfidence(v.Confidence))
	} else {
		w("), %d evaluated; mode %s; %.0f%% confidence", v.Evaluated, v.Mode, v.Confidence*100)
	}
	if v.Cluster != "" {
		w("; clustered by %s (%d clusters)", Inline(v.Cluster), v.Clusters)
	}
	w(".\n\n")
	if v.Sequential != nil {
		w("%s\n\n", Inline(v.Sequential.Summary()))
	}
	for _, n := range opts.Notes {
		w("_%s._\n\n", Inline(n))
	}
	if v.Headline != "" {
		w("> [!CAUTION]\n> %s\n\n", Inline(v.Headline))
	}
	if len(v.Warnings) > 0 {
		w("> [!WARNING]\n")
		for _, m := range v.Warnings {
			w("> - %s\n", Inline(m))
		}
		w("\n")
	}

	criteria(&b, v, lists)
	inconclusive(&b, v)
	metricsTable(&b, v)
	if v.Pairs > 0 {
		cost(&b, v)
		latency(&b, v)
		tokens(&b, v)
	}
	flips(&b, v, lists)
	agreement(&b, v)
	if lists {
		oneSide(&b, v)
	}
	if samples > 0 {
		sampleSection(&b, v, "Most regressed samples", v.Regressed, runes, samples)
		sampleSection(&b, v, "Most improved samples", v.Improved, runes, samples)
	} else if len(v.Regressed)+len(v.Improved) > 0 {
		w("_Sample answers are left out to fit GitHub's comment limit; see the JSON verdict._\n\n")
	}
	level := fmt.Sprintf("%.0f%%", v.Confidence*100)
	if v.Sequential != nil {
		level = gate.FormatConfidence(v.Confidence) + " (a sequential run's look)"
	}
	w("<sub>evalgate · intervals at %s · regression mode fails only on a significant move beyond a margin (Holm-corrected); non_inferiority passes only when the interval is within it.</sub>\n", level)
	return b.String()
}

// criteria writes the criteria table, the chart of each change against its
// margin (when chart is set: it goes before the lists when space is short),
// and the reasons.
func criteria(b *strings.Builder, v *gate.Verdict, chart bool) {
	if len(v.Criteria) == 0 {
		b.WriteString("No success criteria are set: the comparison is reported only.\n\n")
		return
	}
	b.WriteString("### Criteria\n\n")
	b.WriteString("| Status | Metric | Criterion | Baseline | Target | Change (CI) | Limit | Mode |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|\n")
	for _, c := range v.Criteria {
		info := infoFor(v, c.Metric)
		st := checkIcon[c.Status]
		if c.Severity == suite.SeverityWarn && c.Status != gate.CheckPass {
			st += " (warn)"
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s | %s |\n",
			st, Inline(c.Metric), Inline(c.Bound),
			value(float64(c.Baseline), info), value(float64(c.Target), info),
			estimate(c.Estimate, c.Scale, info), limitText(float64(c.Limit), c.Scale, info), c.Mode)
	}
	b.WriteString("\n")
	if chart {
		b.WriteString(Mermaid(v))
	}
	for i, c := range v.Criteria {
		fmt.Fprintf(b, "%d. **%s %s**: %s\n", i+1, Inline(c.Metric), c.Check, Inline(c.Reason))
	}
	b.WriteString("\n")
}

func inconclusive(b *strings.Builder, v *gate.Verdict) {
	var lines []string
	for i, c := range v.Criteria {
		// A significant failure is decided whatever the suite's size.
		if c.Status == gate.CheckFail || c.Status != gate.CheckInconclusive && !c.Underpowered {
			continue
		}
		what := "inconclusive"
		if c.Status != gate.CheckInconclusive {
			what = string(c.Status) + ", but underpowered"
		}
		mde := ""
		if !math.IsNaN(float64(c.MDE)) {
			mde = fmt.Sprintf("; minimum detectable effect %s", distanceText(float64(c.MDE), c.Scale))
		}
		lines = append(lines, fmt.Sprintf("- **%s %s** (criterion %d): %s%s", Inline(c.Metric), c.Check, i+1, what, mde))
	}
	if len(lines) == 0 {
		return
	}
	b.WriteString("### Inconclusive or underpowered\n\n")
	b.WriteString(strings.Join(lines, "\n"))
	b.WriteString("\n\nThe reasons are listed under the criteria. More samples (or repeats) narrow the intervals: the minimum detectable effect shrinks with the square root of the number of independent samples.\n\n")
}

func metricsTable(b *strings.Builder, v *gate.Verdict) {
	if len(v.Metrics) == 0 {
		return
	}
	b.WriteString("### Metrics\n\n")
	b.WriteString("| Metric | Pairs | Baseline (CI) | Target (CI) | Delta (CI) | Method | MDE |\n")
	b.WriteString("|---|---|---|---|---|---|---|\n")
	var notes []string
	for _, m := range v.Metrics {
		info := infoFor(v, m.Metric)
		dir := "↑"
		if m.Direction == metric.LowerIsBetter {
			dir = "↓"
		}
		fmt.Fprintf(b, "| %s %s | %d | %s | %s | %s | %s | %s |\n", Inline(m.Metric), dir, m.N,
			meanCI(m.Baseline, info), meanCI(m.Target, info), deltaCI(m.Delta, info), m.Delta.Method, num(float64(m.MDE), info))
		if m.McNemar != nil {
			notes = append(notes, fmt.Sprintf("- %s: %d improved, %d regressed, %d unchanged (McNemar exact p = %s)",
				Inline(m.Metric), m.McNemar.Improved, m.McNemar.Regressed, m.McNemar.Unchanged, pval(float64(m.McNemar.P))))
		}
		if m.OneSide != "" {
			notes = append(notes, fmt.Sprintf("- %s: only the %s has it", Inline(m.Metric), m.OneSide))
		}
	}
	b.WriteString("\n")
	if len(notes) > 0 {
		b.WriteString(strings.Join(notes, "\n"))
		b.WriteString("\n\n")
	}
}

// infoFor is the metric's description, or one with only its name when the
// headers did not describe it (the name still picks the unit).
func infoFor(v *gate.Verdict, name string) metric.Info {
	if i, ok := v.Info(name); ok {
		return i
	}
	return metric.Info{Name: name, Min: 0, Max: 1}
}

func findAgg(v *gate.Verdict, name string) *gate.AggregateResult {
	for i := range v.Aggregates {
		if v.Aggregates[i].Metric == name {
			return &v.Aggregates[i]
		}
	}
	return nil
}

func aggRows(b *strings.Builder, v *gate.Verdict, rows [][2]string, f func(float64) string) bool {
	any := false
	for _, r := range rows {
		a := findAgg(v, r[0])
		if a == nil {
			continue
		}
		if !any {
			b.WriteString("| | Baseline | Target | Ratio (CI) | Pairs |\n|---|---|---|---|---|\n")
			any = true
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %d |\n", r[1], f(a.Baseline.Est), f(a.Target.Est), ratioCI(a.Ratio), a.N)
	}
	if any {
		b.WriteString("\n")
	}
	return any
}

func cost(b *strings.Builder, v *gate.Verdict) {
	b.WriteString("### Cost\n\n")
	if !v.Cost.Known {
		b.WriteString("Cost is unknown: a model's price is missing from the catalog (set pricing on the target).\n\n")
		return
	}
	aggRows(b, v, [][2]string{{"cost_per_1k", "Cost per 1,000 calls"}}, usd)
	if v.Cost.MonthlyCalls > 0 {
		bm, tm := float64(v.Cost.BaselineMonthly), float64(v.Cost.TargetMonthly)
		fmt.Fprintf(b, "At %s calls a month: %s for the baseline, %s for the target (%s%s a month).\n\n",
			thousands(v.Cost.MonthlyCalls), usd(bm), usd(tm), sign(tm-bm), usd(math.Abs(tm-bm)))
	}
	promptCache(b, "Baseline", v.Baseline)
	promptCache(b, "Target", v.Target)
}

// promptCache says what prompt caching saved a side: the cached tokens at the
// input price minus what they cost at the cache prices.
func promptCache(b *strings.Builder, label string, s gate.SideInfo) {
	if s.CacheReadTokens == 0 && s.CacheWriteTokens == 0 {
		return
	}
	outcome := "it saved " + usd(s.CacheSavingUSD) + " against the input price"
	if s.CacheSavingUSD < 0 {
		// Cache writes are dearer than input; reads had not yet repaid them.
		outcome = "it cost " + usd(-s.CacheSavingUSD) + " more than the input price"
	}
	fmt.Fprintf(b, "%s prompt cache: %s tokens read, %s written; %s.\n\n",
		label, thousands(s.CacheReadTokens), thousands(s.CacheWriteTokens), outcome)
}

func latency(b *strings.Builder, v *gate.Verdict) {
	b.WriteString("### Latency\n\n")
	if !aggRows(b, v, [][2]string{
		{"latency_mean", "Mean"}, {"latency_p50", "p50"}, {"latency_p95", "p95"}, {"latency_p99", "p99"},
		{"ttft_p50", "Time to first token p50"}, {"ttft_p95", "Time to first token p95"},
	}, ms) {
		b.WriteString("No latency on both sides.\n\n")
	}
}

func tokens(b *strings.Builder, v *gate.Verdict) {
	b.WriteString("### Tokens and errors\n\n")
	aggRows(b, v, [][2]string{{"input_tokens", "Input tokens per call"}, {"output_tokens", "Output tokens per call"}},
		func(x float64) string { return fmt.Sprintf("%.1f", x) })
	if a := findAgg(v, "error_rate"); a != nil {
		fmt.Fprintf(b, "Error rate: %s baseline, %s target (difference %s).\n\n",
			percent(a.Baseline.Est), percent(a.Target.Est), pctDeltaCI(a.Delta))
	}
}

func flips(b *strings.Builder, v *gate.Verdict, lists bool) {
	if len(v.Flips) == 0 {
		return
	}
	b.WriteString("### Repeats\n\n")
	for _, f := range v.Flips {
		fmt.Fprintf(b, "%s over %d repeats: %d samples flip between repeats on the target, %d on the baseline.\n\n",
			Inline(f.Metric), f.Repeats, f.TargetFlipping, f.BaselineFlipping)
		row := func(name string, cells []int) {
			b.WriteString("| " + name)
			for _, c := range cells {
				fmt.Fprintf(b, " | %d", c)
			}
			b.WriteString(" |\n")
		}
		ks := make([]int, len(f.TargetPassK))
		for k := range ks {
			ks[k] = k
		}
		row("Passed k of n", ks)
		b.WriteString("|---" + strings.Repeat("|---", len(ks)) + "|\n")
		row("Baseline samples", f.BaselinePassK)
		row("Target samples", f.TargetPassK)
		b.WriteString("\n")
		if lists && len(f.Samples) > 0 {
			b.WriteString("<details><summary>Flipping samples</summary>\n\n| Sample | Baseline | Target |\n|---|---|---|\n")
			for _, s := range f.Samples {
				fmt.Fprintf(b, "| %s | %d/%d | %d/%d |\n", Inline(s.SampleID), s.BaselinePass, s.BaselineN, s.TargetPass, s.TargetN)
			}
			b.WriteString("\n</details>\n\n")
		}
	}
}

func agreement(b *strings.Builder, v *gate.Verdict) {
	if len(v.Agreement) == 0 {
		return
	}
	b.WriteString("### Judge vs human agreement\n\n")
	b.WriteString("| Judge | Human | Side | n | Spearman (p) | Kendall τ-b (p) | Pass/fail agreement | Cohen's κ | Trust |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|\n")
	for _, a := range v.Agreement {
		trust := "⚠️ weak"
		if a.Trusted() {
			trust = "✅"
		}
		fmt.Fprintf(b, "| %s | %s | %s | %d | %s (%s) | %s (%s) | %s | %s | %s |\n",
			Inline(a.Judge), Inline(a.Human), Inline(a.Side), a.N,
			fixed(float64(a.Spearman), 2), pval(float64(a.SpearmanP)), fixed(float64(a.Kendall), 2), pval(float64(a.KendallP)),
			percent(float64(a.PassAgreement)), fixed(float64(a.Kappa), 2), trust)
	}
	b.WriteString("\nA judge earns trust here with a Spearman correlation of at least 0.5 and 80% pass/fail agreement with the human scores; gate on it only then.\n\n")
}

func oneSide(b *strings.Builder, v *gate.Verdict) {
	if v.BaselineOnlyCount+v.TargetOnlyCount == 0 {
		return
	}
	b.WriteString("<details><summary>Samples on one side only</summary>\n\n")
	list := func(name string, ids []string, n int) {
		if n == 0 {
			return
		}
		esc := make([]string, len(ids))
		for i, id := range ids {
			esc[i] = Inline(id)
		}
		more := ""
		if n > len(ids) {
			more = fmt.Sprintf(" and %d more", n-len(ids))
		}
		fmt.Fprintf(b, "- only in the %s (%d): %s%s\n", name, n, strings.Join(esc, ", "), more)
	}
	list("baseline", v.BaselineOnly, v.BaselineOnlyCount)
	list("target", v.TargetOnly, v.TargetOnlyCount)
	b.WriteString("\n</details>\n\n")
}

func sampleSection(b *strings.Builder, v *gate.Verdict, title string, diffs []gate.SampleDiff, runes, max int) {
	if len(diffs) == 0 {
		return
	}
	info := infoFor(v, v.SampleBy)
	fmt.Fprintf(b, "### %s (by %s)\n\n", title, Inline(v.SampleBy))
	for i, d := range diffs {
		if i == max {
			fmt.Fprintf(b, "_%d more left out to fit GitHub's comment limit._\n\n", len(diffs)-max)
			break
		}
		rep := ""
		if v.Repeats > 1 {
			rep = fmt.Sprintf(" (repeat %d)", d.Repeat)
		}
		fmt.Fprintf(b, "<details><summary>%s%s: %s → %s (mean change %s)</summary>\n\n",
			Block(d.SampleID), rep, num(float64(d.BaselineScore), info), num(float64(d.TargetScore), info), signed(d.Delta, info))
		if d.Input != "" {
			fmt.Fprintf(b, "<pre>%s</pre>\n\n", Block("Input: "+clip(d.Input, runes)))
		}
		if d.Reference != "" {
			fmt.Fprintf(b, "<pre>%s</pre>\n\n", Block("Reference: "+clip(d.Reference, runes)))
		}
		bo, to := d.BaselineOutput, d.TargetOutput
		if d.BaselineError != "" {
			bo = "[call failed] " + d.BaselineError
		}
		if d.TargetError != "" {
			to = "[call failed] " + d.TargetError
		}
		fmt.Fprintf(b, "<table><tr><th>Baseline: %s</th><th>Target: %s</th></tr><tr><td><pre>%s</pre></td><td><pre>%s</pre></td></tr></table>\n\n",
			Block(v.Baseline.Target), Block(v.Target.Target), Block(clip(bo, runes)), Block(clip(to, runes)))
		details(b, "Baseline", d.BaselineDetails, runes)
		details(b, "Target", d.TargetDetails, runes)
		b.WriteString("</details>\n\n")
	}
}

// details writes a side's explanations of its scores (a judge's reasoning, an
// SME's note), one per metric in name order.
func details(b *strings.Builder, side string, m map[string]string, runes int) {
	if len(m) == 0 || runes == 0 {
		return
	}
	for _, name := range slices.Sorted(maps.Keys(m)) {
		fmt.Fprintf(b, "<pre>%s</pre>\n\n", Block(side+" "+name+": "+clip(m[name], runes)))
	}
}
