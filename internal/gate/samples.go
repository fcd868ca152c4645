package gate

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/evalgate/evalgate/internal/excerpt"
	"github.com/evalgate/evalgate/internal/metric"
	"github.com/evalgate/evalgate/internal/results"
)

// sampleMetric is the metric the shown samples are chosen by: the configured
// one, else the first criterion's scored metric, else the first metric
// compared on both sides.
func sampleMetric(p *paired, v *Verdict, cfg Config) string {
	usable := func(m string) bool {
		mi := p.metrics[m]
		return mi != nil && mi.n > 0 && mi.onB && mi.onT
	}
	if cfg.SampleMetric != "" && usable(cfg.SampleMetric) {
		return cfg.SampleMetric
	}
	for _, c := range cfg.Criteria {
		if usable(c.Metric) {
			return c.Metric
		}
	}
	for _, m := range v.Metrics {
		if usable(m.Metric) {
			return m.Metric
		}
	}
	return ""
}

// pickSamples chooses the most regressed and most improved samples by their
// mean change over repeats, then reads their inputs and answers in a second
// pass over the files: only these few outputs are ever held in memory.
func pickSamples(ctx context.Context, p *paired, b, t *side, v *Verdict, cfg Config) error {
	if cfg.Samples < 0 {
		return nil
	}
	m := sampleMetric(p, v, cfg)
	if m == "" {
		return nil
	}
	if cfg.SampleMetric != "" && cfg.SampleMetric != m {
		v.warn("samples are shown by %s: %s is not scored on both sides", m, cfg.SampleMetric)
	}
	v.SampleBy = m
	sign := 1.0
	if p.metrics[m].info.Direction == metric.LowerIsBetter {
		sign = -1
	}
	// A sample's repeats are one run of the pairs (sorted by sample), and
	// idx keeps their order. Only the cfg.Samples most regressed and most
	// improved samples are kept as the runs go by, not one entry per sample.
	type acc struct {
		sample string
		sum    float64
		n      int
		worst  int // index into idx of the repeat with the largest fall
		best   int
	}
	gain := func(a *acc) float64 { return a.sum / float64(a.n) }
	// keep inserts a into list (ordered by before, at most cfg.Samples)
	// after every sample it does not come before: ties go to the sample id,
	// so that the report is stable.
	keep := func(list []acc, a acc, before func(x, y float64) bool) []acc {
		i := len(list)
		for i > 0 && before(gain(&a), gain(&list[i-1])) {
			i--
		}
		if i >= cfg.Samples {
			return list
		}
		list = slices.Insert(list, i, a)
		return list[:min(len(list), cfg.Samples)]
	}
	var worse, better []acc
	flush := func(a acc) {
		switch g := gain(&a); {
		case g < 0:
			worse = keep(worse, a, func(x, y float64) bool { return x < y })
		case g > 0:
			better = keep(better, a, func(x, y float64) bool { return x > y })
		}
	}
	idx, bv, tv := p.scoredPairs(m)
	var cur acc
	for j, i := range idx {
		if s := p.sample(i); cur.n == 0 || cur.sample != s {
			if cur.n > 0 {
				flush(cur)
			}
			cur = acc{sample: s, worst: j, best: j}
		}
		g := sign * (tv[j] - bv[j])
		cur.sum += g
		cur.n++
		if g < sign*(tv[cur.worst]-bv[cur.worst]) {
			cur.worst = j
		}
		if g > sign*(tv[cur.best]-bv[cur.best]) {
			cur.best = j
		}
	}
	if cur.n > 0 {
		flush(cur)
	}
	diff := func(a *acc, j int) SampleDiff {
		return SampleDiff{SampleID: a.sample, Repeat: p.repeat(idx[j]), Delta: sign * gain(a),
			BaselineScore: Num(bv[j]), TargetScore: Num(tv[j])}
	}
	for k := range worse {
		v.Regressed = append(v.Regressed, diff(&worse[k], worse[k].worst))
	}
	for k := range better {
		v.Improved = append(v.Improved, diff(&better[k], better[k].best))
	}
	if len(v.Regressed)+len(v.Improved) == 0 {
		return nil
	}
	want := map[key][]*SampleDiff{}
	for i := range v.Regressed {
		d := &v.Regressed[i]
		want[key{d.SampleID, d.Repeat}] = append(want[key{d.SampleID, d.Repeat}], d)
	}
	for i := range v.Improved {
		d := &v.Improved[i]
		want[key{d.SampleID, d.Repeat}] = append(want[key{d.SampleID, d.Repeat}], d)
	}
	fill := map[string]func(rec results.Record, d *SampleDiff){
		b.info.Target: func(rec results.Record, d *SampleDiff) {
			d.BaselineOutput, d.BaselineError, d.BaselineDetails = clip(rec.Output), recErr(rec), clipAll(rec.Details)
			if d.Input == "" {
				d.Input, d.Reference = clip(rec.Input), clip(rec.Reference)
			}
		},
	}
	tfill := func(rec results.Record, d *SampleDiff) {
		d.TargetOutput, d.TargetError, d.TargetDetails = clip(rec.Output), recErr(rec), clipAll(rec.Details)
		// The target's rendered prompt is the one under review.
		d.Input, d.Reference = clip(rec.Input), clip(rec.Reference)
	}
	if b.ref.Path == t.ref.Path {
		fill[t.info.Target] = tfill
		return readOutputs(ctx, b.info.Path, want, fill)
	}
	if err := readOutputs(ctx, b.info.Path, want, fill); err != nil {
		return err
	}
	return readOutputs(ctx, t.info.Path, want, map[string]func(results.Record, *SampleDiff){t.info.Target: tfill})
}

// readOutputs streams a results file again and fills the wanted samples.
func readOutputs(ctx context.Context, path string, want map[key][]*SampleDiff, fill map[string]func(results.Record, *SampleDiff)) error {
	r, err := results.Open(path)
	if err != nil {
		return fmt.Errorf("reading outputs: %w", err)
	}
	defer r.Close()
	// Only lines that quote a wanted sample id are decoded.
	var needles [][]byte
	wanted := map[string]bool{}
	for k := range want {
		q := quoted(k.sample)
		if !wanted[string(q)] {
			wanted[string(q)] = true
			needles = append(needles, q)
		}
	}
	r.SkipRecords(func(line []byte) bool {
		// The writer puts the sample id first: one look-up instead of a
		// search of the whole line for each wanted id.
		if id, ok := leadingSampleID(line); ok {
			return !wanted[string(id)]
		}
		return !containsAny(line, needles)
	})
	err = eachRecord(ctx, r, func(rec results.Record) {
		if f, ok := fill[rec.Target]; ok {
			for _, d := range want[key{rec.SampleID, rec.Repeat}] {
				f(rec, d)
			}
		}
	})
	if err != nil {
		return fmt.Errorf("reading outputs: %w", err)
	}
	return nil
}

// eachRecord hands every record r has left to f, stopping when ctx ends.
func eachRecord(ctx context.Context, r *results.Reader, f func(results.Record)) error {
	for n := 0; ; n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		rec, err := r.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		f(rec)
	}
}

// sampleIDPrefix starts a record line as the results writer writes it.
var sampleIDPrefix = []byte(`{"kind":"record","sample_id":"`)

// leadingSampleID returns the sample id of a line that starts as the results
// writer starts a record, as the JSON string it wrote (quotes and escapes
// kept, as quoted writes it).
func leadingSampleID(line []byte) ([]byte, bool) {
	if !bytes.HasPrefix(line, sampleIDPrefix) {
		return nil, false
	}
	start := len(sampleIDPrefix) - 1
	for i := start + 1; i < len(line); i++ {
		switch line[i] {
		case '\\':
			i++
		case '"':
			return line[start : i+1], true
		}
	}
	return nil, false
}

// skipUnlessQuoted makes r decode only the record lines that hold one of
// needles (quoted strings): the rest cost a scan, not a decode.
func skipUnlessQuoted(r *results.Reader, needles [][]byte) {
	r.SkipRecords(func(line []byte) bool { return !containsAny(line, needles) })
}

// containsAny reports whether line holds one of needles.
func containsAny(line []byte, needles [][]byte) bool {
	for _, n := range needles {
		if bytes.Contains(line, n) {
			return true
		}
	}
	return false
}

// quoted is s as the results writer writes it: a JSON string, HTML left
// unescaped.
func quoted(s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

func recErr(rec results.Record) string {
	if rec.Error == nil {
		return ""
	}
	return clip(strings.TrimSpace(rec.Error.Kind + ": " + rec.Error.Message))
}

// clipAll clips every value of m; nil stays nil.
func clipAll(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = clip(v)
	}
	return out
}

// clip keeps the first MaxOutputRunes runes of s.
func clip(s string) string { return excerpt.Of(s, MaxOutputRunes) }
