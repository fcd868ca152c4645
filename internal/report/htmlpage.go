package report

import (
	_ "embed"
	"fmt"
	"strings"
)

// The page is written with fmt and one escaper, not html/template: the
// template executor calls reflect's MethodByName, which makes the linker keep
// every exported method of every reachable type (the AWS SDK's, gonum's) and
// grew the binary, and so the Action's image, by 11 MB. Every value goes
// through put, which escapes it as html/template escaped text and quoted
// attribute values, so the page is byte for byte what the template wrote.
// The page has no URL, style or unquoted attribute holes: a new one needs
// its own escaping, not put.

//go:embed html.css
var htmlStyle string

// htmlEscaper is html/template's escaping of text and of quoted attribute
// values (htmlReplacementTable in its html.go): the same five HTML
// characters, "+" (which UTF-7 sniffing would read) and NUL.
var htmlEscaper = strings.NewReplacer(
	"\x00", "\uFFFD", `"`, "&#34;", "&", "&amp;", "'", "&#39;", "+", "&#43;", "<", "&lt;", ">", "&gt;",
)

// escapeHTML escapes s for HTML text or a quoted attribute value.
func escapeHTML(s string) string { return htmlEscaper.Replace(s) }

// htmlWriter builds the page.
type htmlWriter struct{ strings.Builder }

// put writes format with each argument printed as fmt.Sprint prints it (as
// the template printed {{.X}}) and escaped: the format's verbs are all %v.
func (w *htmlWriter) put(format string, args ...any) {
	for i, a := range args {
		args[i] = escapeHTML(fmt.Sprint(a))
	}
	fmt.Fprintf(w, format, args...)
}

// when puts format and args if ok: an optional attribute or phrase.
func (w *htmlWriter) when(ok bool, format string, args ...any) {
	if ok {
		w.put(format, args...)
	}
}

// writePage writes the whole report page.
func writePage(w *htmlWriter, d *htmlPage, data []byte) {
	w.put(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="%v">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>%v: %v</title>
<style>
`, d.CSP, d.Title, d.Status)
	w.WriteString(htmlStyle)
	w.put(`</style>
</head>
<body>
<h1>%v <span class="badge s-%v" id="verdict">%v</span></h1>
<p><strong>%v</strong> vs baseline <strong>%v</strong>: %v</p>
`, d.Title, d.Status, d.Status, d.Target, d.Baseline, d.Reason)
	if v := d.Verdict; v != nil {
		w.put(`<p class="muted">%v pairs (%v samples`, v.Pairs, v.Samples)
		w.when(v.Repeats > 1, ` × up to %v repeats`, v.Repeats)
		w.put(`), %v evaluated; mode %v; %v%% confidence`, v.Evaluated, v.Mode, fmt.Sprintf("%.0f", v.Confidence*100))
		w.when(v.Cluster != "", `; clustered by %v (%v clusters)`, v.Cluster, v.Clusters)
		w.WriteString(`.</p>`)
	}
	w.WriteString("\n")
	for _, n := range d.Notes {
		w.put(`<p class="muted"><em>%v</em></p>`, n)
	}
	w.WriteString("\n")
	w.when(d.Headline != "", `<p class="caution"><strong>Caution:</strong> %v</p>`, d.Headline)
	w.WriteString("\n")
	if len(d.Warnings) > 0 {
		w.WriteString(`<div class="warn"><ul>`)
		for _, s := range d.Warnings {
			w.put(`<li>%v</li>`, s)
		}
		w.WriteString(`</ul></div>`)
	}
	w.WriteString("\n\n<h2>Criteria</h2>\n")
	if d.Forest != nil {
		writeCriteria(w, d.Forest, d.Criteria)
	} else {
		w.WriteString(`<p>No success criteria are set: the comparison is reported only.</p>`)
	}
	w.WriteString("\n\n")
	if len(d.Metrics) > 0 {
		w.WriteString(`<h2>Metrics</h2>
<table><thead><tr><th>Metric</th><th>Pairs</th><th>Baseline (CI)</th><th>Target (CI)</th><th>Delta (CI)</th><th>Method</th><th>MDE</th></tr></thead><tbody>
`)
		for _, m := range d.Metrics {
			w.put(`<tr><td>%v %v</td><td class="num">%v</td><td class="num">%v</td><td class="num">%v</td><td class="num">%v</td><td>%v</td><td class="num">%v</td></tr>
`, m.Metric, m.Dir, m.N, m.Baseline, m.Target, m.Delta, m.Method, m.MDE)
		}
		w.WriteString(`</tbody></table>`)
	}
	w.WriteString("\n")
	if len(d.Distributions) > 0 {
		w.WriteString(`<p class="legend">Score distributions:<span class="lb"></span>baseline<span class="lt"></span>target; the lines are the means.</p>
<div class="charts" id="distributions">`)
		for _, h := range d.Distributions {
			writeHistogram(w, h)
		}
		w.WriteString(`</div>`)
	}
	w.WriteString("\n\n")
	if d.Cost != nil || d.Latency != nil {
		w.WriteString(`<h2>Model selection</h2>
<p class="muted">Every target of the run; a ring marks the Pareto front (no other target is at least as good and cheaper or faster).</p>
<div class="charts">`)
		writeScatter(w, d.Cost)
		writeScatter(w, d.Latency)
		w.WriteString(`</div>`)
	}
	w.WriteString("\n\n")
	if len(d.Flips) > 0 {
		w.WriteString(`<h2>Repeats</h2><div class="charts" id="flips">`)
		for _, f := range d.Flips {
			writeFlips(w, f)
		}
		w.WriteString(`</div>`)
	}
	w.WriteString("\n\n")
	if len(d.Trends) > 0 {
		w.WriteString(`<h2>Trend</h2>
<p class="muted">Each check's value on the target over the scheduled runs, oldest to newest; the dashed line marks the largest step between two runs, where a silent model change shows.</p>
<div class="charts" id="trends">`)
		for _, c := range d.Trends {
			writeTrend(w, c)
		}
		w.WriteString(`</div>`)
	}
	w.WriteString("\n\n<h2>Samples</h2>\n<p class=\"muted\" id=\"shown\">")
	if d.Shown < d.Total {
		w.put(`%v of %v pairs are listed (the report keeps at most this many).`, d.Shown, d.Total)
	} else {
		w.put(`%v pairs.`, d.Shown)
	}
	w.WriteString(` Click a row for the input, the reference, both answers with a word diff, and the judges' reasoning.</p>
<div id="controls">
<button type="button" data-filter="all" aria-pressed="true">all</button>
<button type="button" data-filter="regressed" aria-pressed="false">regressed</button>
<button type="button" data-filter="improved" aria-pressed="false">improved</button>
<button type="button" data-filter="flaky" aria-pressed="false">flaky</button>
<button type="button" data-filter="errors" aria-pressed="false">errors</button>
<input type="search" id="query" placeholder="search ids and text" aria-label="search">
<button type="button" id="prev">‹ prev</button><span id="page"></span><button type="button" id="next">next ›</button>
</div>
<table id="samples"><thead><tr id="head"></tr></thead><tbody id="rows"></tbody></table>
<script type="application/json" id="data">`)
	// data is encoding/json's output, which escapes <, > and & (and U+2028,
	// U+2029) as \u003c and so on: nothing in it can end the script element.
	w.Write(data)
	w.WriteString("</script>\n<script>")
	w.WriteString(htmlScript)
	w.WriteString("</script>\n</body>\n</html>\n\n")
}

// writeCriteria writes the forest plot and the criteria table.
func writeCriteria(w *htmlWriter, f *forest, rows []criterionRow) {
	w.put(`
<figure><figcaption>Change against each criterion's limit, with its confidence interval</figcaption>
<svg id="forest" width="%v" height="%v" viewBox="0 0 %v %v" role="img" aria-label="forest plot of the criteria">
`, f.Width, f.Height, f.Width, f.Height)
	for _, r := range f.Rows {
		w.put(`<g class="forest-row" data-status="%v"><title>%v</title>
<text x="225" y="%v" text-anchor="end" dominant-baseline="middle">%v</text>
<line x1="240" x2="560" y1="%v" y2="%v" stroke="#eaeef2"/>
`, r.Status, r.Tip, r.Mid, r.Label, r.Mid, r.Mid)
		w.when(r.HasZero, `<path class="zero-line" d="M%v %v m0 8 v26" stroke="#8c959f" stroke-dasharray="2 3"/>`, r.XZero, r.Y)
		w.WriteString("\n")
		w.when(r.HasLim, `<path class="margin-line" d="M%v %v m0 8 v26" stroke="#cf222e" stroke-width="2"/>`, r.XLim, r.Y)
		w.WriteString("\n")
		w.when(r.HasCI, `<path class="ci" d="M%v %v H%v" stroke="%v" stroke-width="3"/>`, r.X1, r.Mid, r.X2, r.Color)
		w.WriteString("\n")
		w.when(r.HasEst, `<circle class="estimate" cx="%v" cy="%v" r="5" fill="%v"/>`, r.XEst, r.Mid, r.Color)
		w.put(`
<text x="240" y="%v" dy="41" class="muted">%v</text><text x="560" y="%v" dy="41" text-anchor="end" class="muted">%v</text>
<text x="570" y="%v" dominant-baseline="middle" fill="%v">%v</text></g>
`, r.Y, r.LoText, r.Y, r.HiText, r.Mid, r.Color, r.Text)
	}
	w.WriteString(`</svg>
<p class="muted">A dot is the estimate, the bar its interval, the red line the criterion's limit, the dotted line no change. Green passed, red failed, amber inconclusive.</p>
</figure>
<table id="criteria"><thead><tr><th>Status</th><th>Check</th><th>Criterion</th><th>Baseline</th><th>Target</th><th>Change (CI)</th><th>Limit</th><th>Mode</th></tr></thead><tbody>
`)
	for _, c := range rows {
		w.put(`<tr><td><span class="badge s-%v">%v`, c.Status, c.Status)
		w.when(c.Warn, ` (warn)`)
		w.put(`</span></td><td>%v</td><td>%v</td><td class="num">%v</td><td class="num">%v</td><td class="num">%v</td><td class="num">%v</td><td>%v</td></tr>
<tr><td></td><td colspan="7" class="muted">%v</td></tr>
`, c.Metric, c.Bound, c.Baseline, c.Target, c.Change, c.Limit, c.Mode, c.Reason)
	}
	w.WriteString("</tbody></table>\n")
}

// writeBars writes a bar chart's bars.
func writeBars(w *htmlWriter, bars []bar) {
	for _, b := range bars {
		w.put(`<rect class="%v" x="%v" y="%v" width="%v" height="%v"><title>%v</title></rect>`, b.Side, b.X, b.Y, b.W, b.H, b.Tip)
	}
}

func writeHistogram(w *htmlWriter, h histogram) {
	w.put(`
<figure><figcaption>%v</figcaption><svg class="histogram" width="%v" height="%v" viewBox="0 0 %v %v" role="img" aria-label="distribution of %v">
`, h.Metric, h.Width, h.Height, h.Width, h.Height, h.Metric)
	writeBars(w, h.Bars)
	w.WriteString("\n<path d=\"M10 120 H350\" stroke=\"#8c959f\"/>\n")
	w.when(h.HasMeans, `<path d="M%v 8 V120" stroke="#57606a" stroke-dasharray="4 2"/><path d="M%v 8 V120" stroke="#0969da" stroke-dasharray="4 2"/>`,
		h.BaseMean, h.TargetMean)
	w.put(`
<text x="10" y="136" class="muted">%v</text><text x="350" y="136" text-anchor="end" class="muted">%v</text>
<text x="180" y="148" text-anchor="middle" class="muted">%v pairs</text></svg></figure>
`, h.LoText, h.HiText, h.Pairs)
}

func writeScatter(w *htmlWriter, s *scatter) {
	if s == nil {
		return
	}
	w.put(`<figure><figcaption>%v</figcaption>
<svg class="scatter" width="%v" height="%v" viewBox="0 0 %v %v" role="img" aria-label="%v">
<path d="M56 14 V220 H350" stroke="#8c959f" fill="none"/>
<text x="52" y="220" text-anchor="end" class="muted">%v</text><text x="52" y="20" text-anchor="end" class="muted">%v</text>
<text x="56" y="234" class="muted">%v</text><text x="350" y="234" text-anchor="end" class="muted">%v</text>
<text x="203" y="252" text-anchor="middle">%v →</text><text x="12" y="117" transform="rotate(-90 12 117)" text-anchor="middle">%v →</text>
`, s.Title, s.Width, s.Height, s.Width, s.Height, s.Title, s.YLo, s.YHi, s.XLo, s.XHi, s.XLabel, s.YLabel)
	w.when(s.Front != "", `<polyline class="pareto-front" points="%v" fill="none" stroke="#1a7f37" stroke-dasharray="5 3"/>`, s.Front)
	w.WriteString("\n")
	for _, p := range s.Points {
		w.WriteString(`<g class="point`)
		w.when(p.Front, ` pareto`)
		w.put(`" data-role="%v"><title>%v</title>
`, p.Role, p.Tip)
		w.when(p.Front, `<circle cx="%v" cy="%v" r="9" fill="none" stroke="#1a7f37" stroke-width="2"/>`, p.X, p.Y)
		class := "muted"
		if p.Role == "baseline" || p.Role == "target" {
			class = p.Role
		}
		w.put(`
<circle cx="%v" cy="%v" r="5" class="%v"/>
<text x="%v" y="%v" dy="-6"`, p.X, p.Y, class, p.LabelX, p.Y)
		w.when(p.LabelAnchorE, ` text-anchor="end"`)
		w.put(`>%v</text></g>
`, p.Label)
	}
	w.WriteString(`</svg></figure>`)
}

func writeFlips(w *htmlWriter, c flipChart) {
	w.put(`
<figure><figcaption>%v: samples passing k of %v repeats (%v flaky on the baseline, %v on the target)</figcaption>
<svg class="flips" width="%v" height="%v" viewBox="0 0 %v %v" role="img" aria-label="pass counts over repeats">
`, c.Metric, c.Repeats, c.BaselineFlips, c.TargetFlips, c.Width, c.Height, c.Width, c.Height)
	writeBars(w, c.Bars)
	w.WriteString("\n<path d=\"M10 120 H350\" stroke=\"#8c959f\"/>\n")
	for _, t := range c.Ticks {
		w.put(`<text x="%v" y="136" text-anchor="middle" class="muted">%v</text>`, t.X, t.Text)
	}
	w.WriteString("</svg></figure>\n")
}

func writeTrend(w *htmlWriter, c lineChart) {
	w.put(`
<figure><figcaption>%v</figcaption><svg class="trend" width="%v" height="%v" viewBox="0 0 %v %v" role="img" aria-label="trend of %v">
<path d="M50 10 V120 H350" stroke="#8c959f" fill="none"/>
<text x="46" y="120" text-anchor="end" class="muted">%v</text><text x="46" y="16" text-anchor="end" class="muted">%v</text>
`, c.Check, c.Width, c.Height, c.Width, c.Height, c.Check, c.LoText, c.HiText)
	w.when(c.HasStep, `<path class="step" d="M%v 10 V120" stroke="#cf222e" stroke-dasharray="4 3"/><text x="%v" y="148" text-anchor="middle" fill="#cf222e">%v</text>`,
		c.StepX, c.StepX, c.StepText)
	w.put(`
<polyline class="trend-line" points="%v" fill="none" stroke="#0969da" stroke-width="2"/>
`, c.Line)
	for _, p := range c.Points {
		w.put(`<circle cx="%v" cy="%v" r="3" class="target"><title>%v</title></circle>`, p.X, p.Y, p.Tip)
	}
	w.put(`
<text x="50" y="134" class="muted">%v</text><text x="350" y="134" text-anchor="end" class="muted">%v</text></svg></figure>
`, c.FirstText, c.LastText)
}
