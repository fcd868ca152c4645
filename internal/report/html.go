package report

import (
	"cmp"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/evalgate/evalgate/internal/gate"
	"github.com/evalgate/evalgate/internal/metric"
	"github.com/evalgate/evalgate/internal/suite"
	"github.com/evalgate/evalgate/internal/trend"
)

// The HTML report is one self-contained file: the verdict's numbers as tables
// and inline SVG charts drawn here, and every compared pair as JSON data that
// a small script of ours pages through. It loads nothing from the network.
// Model output is untrusted: the page escapes it as HTML text or a quoted
// attribute value (htmlpage.go), the script writes it with textContent only,
// and a Content-Security-Policy lets no other script run.

//go:embed html.js
var htmlScript string

// scriptHash is the CSP source of the inline script: the browser runs it only
// when its text hashes to this.
var scriptHash = func() string {
	sum := sha256.Sum256([]byte(htmlScript))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}()

// ContentSecurityPolicy is the policy of the HTML report's meta tag: nothing
// from the network, styles inline, and only our own script, by its hash.
var ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src '" + scriptHash + "'; base-uri 'none'; form-action 'none'"

// HTMLOptions shape the HTML report.
type HTMLOptions struct {
	// Title replaces "evalgate" in the heading (a suite name, say).
	Title string
	// Notes are lines shown under the heading, as in Options.
	Notes []string
	// History is the suite's scheduled runs, this one last: each check's
	// value over them is drawn as a line (none with fewer than two runs).
	History []trend.Entry
}

// HTML renders the verdict and its pairs as one self-contained HTML page.
// pairs may be nil (the table is then empty); nothing is recomputed from
// it that the verdict already holds.
func HTML(v *gate.Verdict, pairs *gate.PairSet, opts HTMLOptions) ([]byte, error) {
	if pairs == nil {
		pairs = &gate.PairSet{}
	}
	title := "evalgate"
	if opts.Title != "" {
		title = opts.Title
	}
	d := htmlPage{
		CSP:      ContentSecurityPolicy,
		Title:    clean(title),
		Status:   string(v.Status),
		Verdict:  v,
		Reason:   clean(v.Reason),
		Baseline: clean(v.Baseline.Label()),
		Target:   clean(v.Target.Label()),
		Headline: clean(v.Headline),
		Shown:    len(pairs.Rows),
		Total:    pairs.Total,
	}
	for _, n := range opts.Notes {
		d.Notes = append(d.Notes, clean(n))
	}
	for _, w := range v.Warnings {
		d.Warnings = append(d.Warnings, clean(w))
	}
	d.Criteria = criteriaRows(v)
	d.Forest = forestPlot(v)
	d.Metrics = metricRows(v)
	d.Distributions = distributions(v, pairs)
	d.Cost, d.Latency = tradeoffs(v, pairs)
	d.Flips = flipCharts(v)
	d.Trends = trendCharts(opts.History)
	d.Data = tableData(v, pairs)
	data, err := json.Marshal(d.Data)
	if err != nil {
		return nil, fmt.Errorf("html report: sample table: %w", err)
	}
	var w htmlWriter
	writePage(&w, &d, data)
	return []byte(w.String()), nil
}

// clean drops control and bidirectional characters from untrusted text; the
// page escapes what is left.
func clean(s string) string { return dropControls(s) }

// htmlPage is what the page shows.
type htmlPage struct {
	CSP, Title, Status, Reason string
	Baseline, Target, Headline string
	Notes, Warnings            []string
	Verdict                    *gate.Verdict
	Criteria                   []criterionRow
	Forest                     *forest
	Metrics                    []metricRow
	Distributions              []histogram
	Cost, Latency              *scatter
	Flips                      []flipChart
	Trends                     []lineChart
	Data                       tableJSON
	Shown, Total               int
}

// statusColor is each check status's colour (GitHub's palette).
var statusColor = map[gate.CriterionStatus]string{
	gate.CheckPass:         "#1a7f37",
	gate.CheckFail:         "#cf222e",
	gate.CheckInconclusive: "#9a6700",
	gate.CheckError:        "#6e7781",
}

type criterionRow struct {
	Status, Color, Metric, Bound, Baseline, Target, Change, Limit, Mode, Reason string
	Warn                                                                        bool
}

func criteriaRows(v *gate.Verdict) []criterionRow {
	var out []criterionRow
	for _, c := range v.Criteria {
		info := infoFor(v, c.Metric)
		out = append(out, criterionRow{
			Status: string(c.Status), Color: statusColor[c.Status], Metric: clean(c.Metric) + " " + c.Check, Bound: clean(c.Bound),
			Baseline: value(float64(c.Baseline), info), Target: value(float64(c.Target), info),
			Change: estimate(c.Estimate, c.Scale, info), Limit: limitText(float64(c.Limit), c.Scale, info),
			Mode: string(c.Mode), Reason: clean(c.Reason), Warn: c.Severity == suite.SeverityWarn,
		})
	}
	return out
}

type metricRow struct {
	Metric, Dir, Baseline, Target, Delta, Method, MDE string
	N                                                 int
}

func metricRows(v *gate.Verdict) []metricRow {
	var out []metricRow
	for _, m := range v.Metrics {
		info := infoFor(v, m.Metric)
		dir := "↑"
		if m.Direction == metric.LowerIsBetter {
			dir = "↓"
		}
		out = append(out, metricRow{Metric: clean(m.Metric), Dir: dir, N: m.N, Baseline: meanCI(m.Baseline, info),
			Target: meanCI(m.Target, info), Delta: deltaCI(m.Delta, info), Method: m.Delta.Method, MDE: num(float64(m.MDE), info)})
	}
	return out
}

// Chart geometry, in SVG user units.
const (
	chartWidth  = 760
	forestLabel = 230 // the metric names' column
	forestLeft  = 240
	forestRight = 560
	forestRowH  = 42
)

// forest is the per-criterion forest plot: each check's estimate and interval
// on its own scale, its limit drawn as a line, coloured by status.
type forest struct {
	Width, Height int
	Rows          []forestRow
}

type forestRow struct {
	Y, Mid                    float64
	Label, Text, Color, Tip   string
	Status                    string
	X1, X2, XEst, XLim, XZero float64
	HasCI, HasLim, HasZero    bool
	OpenLo, OpenHi, HasEst    bool
	LoText, HiText            string
}

func forestPlot(v *gate.Verdict) *forest {
	if len(v.Criteria) == 0 {
		return nil
	}
	f := &forest{Width: chartWidth, Height: len(v.Criteria)*forestRowH + 10}
	for i, c := range v.Criteria {
		info := infoFor(v, c.Metric)
		est, lo, hi, lim := c.Estimate.Est, c.Estimate.Lo, c.Estimate.Hi, float64(c.Limit)
		// Each row has its own axis: the criteria are on different scales
		// (a delta, a ratio, a value), so one shared axis would flatten all
		// but the widest. It spans the estimate, the finite interval ends,
		// the limit, and no change (0) on a change's scale.
		var pts []float64
		for _, x := range []float64{est, lo, hi, lim} {
			if !bad(x) {
				pts = append(pts, x)
			}
		}
		zero := c.Scale == "delta" || c.Scale == "relative"
		if zero {
			pts = append(pts, 0)
		}
		r := forestRow{Y: float64(i*forestRowH + 5), Label: clean(c.Metric) + " " + c.Check, Color: statusColor[c.Status],
			Status: string(c.Status), Text: estimate(c.Estimate, c.Scale, info), Tip: clean(c.Reason)}
		r.Mid = r.Y + forestRowH/2
		if len(pts) == 0 {
			f.Rows = append(f.Rows, r)
			continue
		}
		mn, mx := slices.Min(pts), slices.Max(pts)
		pad := (mx - mn) * 0.08
		if pad == 0 {
			pad = math.Max(math.Abs(mx)*0.1, 1e-9)
		}
		mn, mx = mn-pad, mx+pad
		x := func(v float64) float64 {
			return forestLeft + (v-mn)/(mx-mn)*(forestRight-forestLeft)
		}
		f64 := func(v float64) string { return limitText(v, c.Scale, info) }
		r.LoText, r.HiText = f64(mn), f64(mx)
		if !bad(est) {
			r.HasEst, r.XEst = true, x(est)
		}
		if !math.IsNaN(lo) && !math.IsNaN(hi) {
			r.HasCI = true
			r.X1, r.X2 = forestLeft, forestRight
			if !math.IsInf(lo, 0) {
				r.X1 = x(lo)
			} else {
				r.OpenLo = true
			}
			if !math.IsInf(hi, 0) {
				r.X2 = x(hi)
			} else {
				r.OpenHi = true
			}
		}
		if !bad(lim) {
			r.HasLim, r.XLim = true, x(lim)
		}
		if zero {
			r.HasZero, r.XZero = true, x(0)
		}
		f.Rows = append(f.Rows, r)
	}
	return f
}

// histogram is one metric's score distribution on both sides.
type histogram struct {
	Metric         string
	Width, Height  int
	Bars           []bar
	LoText, HiText string
	BaseMean       float64
	TargetMean     float64
	HasMeans       bool
	// Pairs is the number of pairs scored on both sides.
	Pairs int
}

type bar struct {
	X, Y, W, H float64
	Side, Tip  string
}

const (
	histBins   = 10
	histWidth  = 360
	histHeight = 150
	histBase   = 120 // the bars' baseline (y)
	histLeft   = 10
	maxHistos  = 12 // metrics drawn; more is a wall, not a picture
)

// distributions bins each compared metric's scores on both sides over the
// metric's range (the scores' range when it is unbounded).
func distributions(v *gate.Verdict, pairs *gate.PairSet) []histogram {
	var out []histogram
	for _, m := range v.Metrics {
		if m.OneSide != "" || len(out) == maxHistos {
			continue
		}
		var bs, ts []float64
		for _, r := range pairs.Rows {
			b, okb := r.BaselineScores[m.Metric]
			t, okt := r.TargetScores[m.Metric]
			if okb && okt && !bad(b) && !bad(t) {
				bs, ts = append(bs, b), append(ts, t)
			}
		}
		if len(bs) == 0 {
			continue
		}
		info := infoFor(v, m.Metric)
		lo, hi := info.Min, info.Max
		if bad(lo) || bad(hi) || hi <= lo {
			lo, hi = math.Min(slices.Min(bs), slices.Min(ts)), math.Max(slices.Max(bs), slices.Max(ts))
			if hi == lo {
				hi = lo + 1
			}
		}
		bin := func(x float64) int {
			return min(histBins-1, max(0, int((x-lo)/(hi-lo)*histBins)))
		}
		var bc, tc [histBins]int
		for i := range bs {
			bc[bin(bs[i])]++
			tc[bin(ts[i])]++
		}
		top := max(slices.Max(bc[:]), slices.Max(tc[:]))
		h := histogram{Metric: clean(m.Metric), Width: histWidth, Height: histHeight, LoText: num(lo, info), HiText: num(hi, info),
			Pairs: len(bs)}
		slot := float64(histWidth-2*histLeft) / histBins
		for i := range histBins {
			for j, side := range []string{"baseline", "target"} {
				n := bc[i]
				if j == 1 {
					n = tc[i]
				}
				bh := float64(n) / float64(top) * (histBase - 10)
				h.Bars = append(h.Bars, bar{X: histLeft + float64(i)*slot + 2 + float64(j)*(slot-4)/2, Y: histBase - bh, W: (slot - 4) / 2, H: bh,
					Side: side, Tip: fmt.Sprintf("%s %s–%s: %d", side, num(lo+float64(i)*(hi-lo)/histBins, info), num(lo+float64(i+1)*(hi-lo)/histBins, info), n)})
			}
		}
		xm := func(x float64) float64 { return histLeft + (x-lo)/(hi-lo)*float64(histWidth-2*histLeft) }
		if !bad(m.Baseline.Est) && !bad(m.Target.Est) {
			h.HasMeans, h.BaseMean, h.TargetMean = true, xm(m.Baseline.Est), xm(m.Target.Est)
		}
		out = append(out, h)
	}
	return out
}

// scatter is quality against cost or latency across the run's targets, its
// Pareto front (no other target is both better and cheaper or faster) marked.
type scatter struct {
	Title, XLabel, YLabel string
	Width, Height         int
	Points                []point
	Front                 string // the front's polyline points
	XLo, XHi, YLo, YHi    string
}

type point struct {
	X, Y         float64
	Label, Role  string
	Tip          string
	Front        bool
	LabelX       float64
	LabelAnchorE bool
}

const (
	scatterW, scatterH = 370, 260
	scatterL, scatterR = 56, 20
	scatterT, scatterB = 14, 40
)

// tradeoffs draws quality (the metric the samples are chosen by) against the
// cost per 1,000 calls and the p95 latency of every target of the run, as the
// runs' summaries give them.
func tradeoffs(v *gate.Verdict, pairs *gate.PairSet) (*scatter, *scatter) {
	q := v.SampleBy
	if q == "" && len(v.Metrics) > 0 {
		q = v.Metrics[0].Metric
	}
	if q == "" || len(pairs.Targets) == 0 {
		return nil, nil
	}
	info := infoFor(v, q)
	cost := func(t gate.RunTarget) (float64, bool) {
		if t.Summary.CostUSD == nil || t.Summary.Records == 0 {
			return 0, false
		}
		return *t.Summary.CostUSD / float64(t.Summary.Records) * 1000, true
	}
	latency := func(t gate.RunTarget) (float64, bool) {
		return t.Summary.LatencyP95MS, t.Summary.LatencyP95MS > 0
	}
	build := func(title, xlabel string, xf func(gate.RunTarget) (float64, bool), xfmt func(float64) string) *scatter {
		var pts []point
		var xs, ys []float64
		for _, t := range pairs.Targets {
			y, ok := t.Summary.Means[q]
			x, okx := xf(t)
			if !ok || !okx || bad(y) || bad(x) {
				continue
			}
			label := clean(t.ID)
			pts = append(pts, point{X: x, Y: y, Label: label, Role: t.Role,
				Tip: fmt.Sprintf("%s (%s): %s %s, %s %s", label, clean(t.Model), clean(q), num(y, info), xlabel, xfmt(x))})
			xs, ys = append(xs, x), append(ys, y)
		}
		if len(pts) == 0 {
			return nil
		}
		better := func(a, b float64) bool { // a's quality at least b's
			if info.Direction == metric.LowerIsBetter {
				return a <= b
			}
			return a >= b
		}
		for i := range pts {
			front := true
			for j := range pts {
				if i != j && pts[j].X <= pts[i].X && better(pts[j].Y, pts[i].Y) && (pts[j].X < pts[i].X || pts[j].Y != pts[i].Y) {
					front = false
					break
				}
			}
			pts[i].Front = front
		}
		xlo, xhi := 0.0, slices.Max(xs)*1.1
		// The targets' range, padded: a metric's whole range would press
		// close targets into one blot.
		ylo, yhi := slices.Min(ys), slices.Max(ys)
		pad := (yhi - ylo) * 0.15
		if pad == 0 {
			pad = math.Max(math.Abs(yhi)*0.1, 0.05)
		}
		ylo, yhi = ylo-pad, yhi+pad
		if xhi == 0 {
			xhi = 1
		}
		s := &scatter{Title: title, XLabel: xlabel, YLabel: clean(q), Width: scatterW, Height: scatterH,
			XLo: xfmt(xlo), XHi: xfmt(xhi), YLo: num(ylo, info), YHi: num(yhi, info)}
		pw, ph := float64(scatterW-scatterL-scatterR), float64(scatterH-scatterT-scatterB)
		var front []point
		for _, p := range pts {
			p.X = scatterL + (p.X-xlo)/(xhi-xlo)*pw
			p.Y = scatterT + (1-(p.Y-ylo)/(yhi-ylo))*ph
			p.LabelX = p.X + 7
			if p.X > scatterL+pw*0.7 {
				p.LabelX, p.LabelAnchorE = p.X-7, true
			}
			s.Points = append(s.Points, p)
			if p.Front {
				front = append(front, p)
			}
		}
		slices.SortFunc(front, func(a, b point) int { return cmp.Compare(a.X, b.X) })
		var sb strings.Builder
		for _, p := range front {
			fmt.Fprintf(&sb, "%.1f,%.1f ", p.X, p.Y)
		}
		s.Front = strings.TrimSpace(sb.String())
		return s
	}
	return build("Quality vs cost", "cost per 1,000 calls", cost, usd), build("Quality vs latency", "latency p95", latency, ms)
}

// flipChart is, for a pass/fail metric run with repeats, how many samples
// passed k of n times on each side: flaky samples are the middle bars.
type flipChart struct {
	Metric                     string
	Repeats                    int
	BaselineFlips, TargetFlips int
	Width, Height              int
	Bars                       []bar
	Ticks                      []tick
}

type tick struct {
	X    float64
	Text string
}

func flipCharts(v *gate.Verdict) []flipChart {
	var out []flipChart
	for _, f := range v.Flips {
		c := flipChart{Metric: clean(f.Metric), Repeats: f.Repeats, BaselineFlips: f.BaselineFlipping, TargetFlips: f.TargetFlipping,
			Width: histWidth, Height: histHeight}
		top := max(slices.Max(append(slices.Clone(f.BaselinePassK), 1)), slices.Max(append(slices.Clone(f.TargetPassK), 1)))
		slot := float64(histWidth-2*histLeft) / float64(len(f.TargetPassK))
		for k := range f.TargetPassK {
			for j, side := range []string{"baseline", "target"} {
				n := f.BaselinePassK[k]
				if j == 1 {
					n = f.TargetPassK[k]
				}
				bh := float64(n) / float64(top) * (histBase - 10)
				c.Bars = append(c.Bars, bar{X: histLeft + float64(k)*slot + 3 + float64(j)*(slot-6)/2, Y: histBase - bh, W: (slot - 6) / 2, H: bh,
					Side: side, Tip: fmt.Sprintf("%s: %d samples passed %d of %d", side, n, k, f.Repeats)})
			}
			c.Ticks = append(c.Ticks, tick{X: histLeft + (float64(k)+0.5)*slot, Text: fmt.Sprintf("%d/%d", k, f.Repeats)})
		}
		out = append(out, c)
	}
	return out
}

// tableJSON is the sample table's data, embedded as JSON: short keys, since a
// large suite writes them tens of thousands of times.
type tableJSON struct {
	Metrics []string `json:"metrics"`
	// By is the index in Metrics of the metric rows are regressed or
	// improved by (-1 when none).
	By   int        `json:"by"`
	Rows []tableRow `json:"rows"`
}

type tableRow struct {
	ID        string            `json:"id"`
	Repeat    int               `json:"r"`
	Input     string            `json:"in,omitempty"`
	Reference string            `json:"ref,omitempty"`
	BOut      string            `json:"bo"`
	TOut      string            `json:"to"`
	BErr      string            `json:"be,omitempty"`
	TErr      string            `json:"te,omitempty"`
	BScores   []gate.Num        `json:"bs"`
	TScores   []gate.Num        `json:"ts"`
	BDetails  map[string]string `json:"bd,omitempty"`
	TDetails  map[string]string `json:"td,omitempty"`
	// Gain is the change of the By metric, signed so that positive is
	// better; null when either side lacks the score.
	Gain  gate.Num `json:"g"`
	Flaky bool     `json:"f,omitempty"`
}

func tableData(v *gate.Verdict, pairs *gate.PairSet) tableJSON {
	d := tableJSON{By: -1, Rows: make([]tableRow, 0, len(pairs.Rows))}
	for _, m := range v.Metrics {
		if m.Metric == v.SampleBy {
			d.By = len(d.Metrics)
		}
		d.Metrics = append(d.Metrics, clean(m.Metric))
	}
	sign := 1.0
	if infoFor(v, v.SampleBy).Direction == metric.LowerIsBetter {
		sign = -1
	}
	flaky := pairs.Flaky(v)
	nan := gate.Num(math.NaN())
	for _, r := range pairs.Rows {
		row := tableRow{ID: clean(r.SampleID), Repeat: r.Repeat, Input: clean(r.Input), Reference: clean(r.Reference),
			BOut: clean(r.BaselineOutput), TOut: clean(r.TargetOutput), BErr: clean(r.BaselineError), TErr: clean(r.TargetError),
			BDetails: cleanAll(r.BaselineDetails), TDetails: cleanAll(r.TargetDetails), Gain: nan, Flaky: flaky[r.SampleID]}
		for _, m := range v.Metrics {
			b, okb := r.BaselineScores[m.Metric]
			t, okt := r.TargetScores[m.Metric]
			bn, tn := nan, nan
			if okb {
				bn = gate.Num(b)
			}
			if okt {
				tn = gate.Num(t)
			}
			row.BScores, row.TScores = append(row.BScores, bn), append(row.TScores, tn)
			if m.Metric == v.SampleBy && okb && okt {
				row.Gain = gate.Num(sign * (t - b))
			}
		}
		d.Rows = append(d.Rows, row)
	}
	return d
}

func cleanAll(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[clean(k)] = clean(v)
	}
	return out
}

// lineChart is one check's target value over the scheduled runs, the largest
// step between two runs marked.
type lineChart struct {
	Check          string
	Width, Height  int
	Line           string // polyline points
	Points         []point
	HasStep        bool
	StepX          float64
	StepText       string
	LoText, HiText string
	FirstText      string
	LastText       string
}

// trendCharts draws each check of the latest run over the history.
func trendCharts(history []trend.Entry) []lineChart {
	if len(history) < 2 {
		return nil
	}
	var out []lineChart
	for _, s := range trend.BySeries(history) {
		info := metric.Info{Name: s.Check.Metric, Min: 0, Max: 1}
		var ys []float64
		for _, v := range s.Values {
			if !bad(v) {
				ys = append(ys, v)
			}
		}
		if len(ys) == 0 {
			continue
		}
		lo, hi := slices.Min(ys), slices.Max(ys)
		pad := (hi - lo) * 0.1
		if pad == 0 {
			pad = math.Max(math.Abs(hi)*0.1, 0.01)
		}
		lo, hi = lo-pad, hi+pad
		c := lineChart{Check: clean(s.Check.Name()), Width: histWidth, Height: histHeight, LoText: num(lo, info), HiText: num(hi, info),
			FirstText: s.Runs[0].Time.Format("2006-01-02"), LastText: s.Runs[len(s.Runs)-1].Time.Format("2006-01-02")}
		x := func(i int) float64 {
			return histLeft + 40 + float64(i)/float64(max(1, len(s.Values)-1))*float64(histWidth-2*histLeft-40)
		}
		y := func(v float64) float64 { return 10 + (1-(v-lo)/(hi-lo))*float64(histBase-10) }
		var sb strings.Builder
		for i, v := range s.Values {
			if bad(v) {
				continue
			}
			e := s.Runs[i]
			tip := fmt.Sprintf("%s: %s (%s)", e.Time.Format("2006-01-02 15:04"), num(v, info), clean(e.Status))
			if e.ID != 0 {
				tip += fmt.Sprintf(", run %d", e.ID)
			}
			c.Points = append(c.Points, point{X: x(i), Y: y(v), Tip: tip})
			fmt.Fprintf(&sb, "%.1f,%.1f ", x(i), y(v))
		}
		c.Line = strings.TrimSpace(sb.String())
		if st, ok := s.Largest(); ok && st.Delta != 0 {
			c.HasStep, c.StepX = true, (x(st.From)+x(st.To))/2
			c.StepText = fmt.Sprintf("%s on %s", signed(st.Delta, info), s.Runs[st.To].Time.Format("2006-01-02"))
		}
		out = append(out, c)
	}
	return out
}
