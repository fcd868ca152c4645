package cli

import (
	"bytes"
	"cmp"
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/evalgate/evalgate/internal/gate"
	"github.com/evalgate/evalgate/internal/metric"
	"github.com/evalgate/evalgate/internal/report"
	"github.com/evalgate/evalgate/internal/results"
	"github.com/evalgate/evalgate/internal/suite"
)

// exportOptions are the flags of `evalgate export`.
type exportOptions struct {
	format       string
	config       string
	results      string
	target       string
	baseline     string
	perSample    bool
	out          string
	allowOutside bool
}

func exportCommand() command {
	return command{
		name:    "export",
		summary: "write a run's results for other tools: the seed's CSV shape (csv) or JUnit XML (junit)",
		flags: func(fs *flag.FlagSet) func(context.Context, *Env, []string) error {
			var o exportOptions
			fs.StringVar(&o.format, "format", "csv", "`format`: csv (the dataset's columns with the target's as *_target_llm beside them) or junit (a test case per criterion)")
			fs.StringVar(&o.config, "config", "evalgate.yaml", "suite config `file`: its dataset (csv), criteria and baseline (junit)")
			fs.StringVar(&o.results, "results", "", "results `file` (default: run.results of the suite)")
			fs.StringVar(&o.target, "target", "", "the target `id` exported (default: gate.target, else the file's only target that is not the baseline)")
			fs.StringVar(&o.baseline, "baseline", "", "junit: compare with this baseline instead of gate.baseline: a target `id` of the same file or FILE[#target]")
			fs.BoolVar(&o.perSample, "per-sample", false, "junit: also one test case per sample (an error for a failed call, a failure for a failed pass/fail metric)")
			fs.StringVar(&o.out, "out", "", "write to `file` instead of standard output")
			fs.BoolVar(&o.allowOutside, "allow-outside", false, allowOutsideUsage)
			return func(ctx context.Context, e *Env, args []string) error {
				if len(args) > 0 {
					return usagef("unexpected argument %q (the suite is given with --config, the results with --results)", args[0])
				}
				return exportResults(ctx, e, o)
			}
		},
	}
}

// exportResults is `evalgate export`: load the suite and the results, render
// the format, write it.
func exportResults(ctx context.Context, e *Env, o exportOptions) error {
	if o.format != "csv" && o.format != "junit" {
		return usagef("--format %q: want csv or junit", o.format)
	}
	if o.format == "csv" && (o.perSample || o.baseline != "") {
		return usagef("--per-sample and --baseline go with --format junit")
	}
	s, err := loadSuite(ctx, e, o.config, "", o.allowOutside)
	if err != nil {
		return loadErr(err)
	}
	path := o.results
	if path == "" {
		path = s.ResultsPath()
	}
	recs, err := readTarget(path, s, o.target)
	if err != nil {
		return err
	}
	var body []byte
	if o.format == "csv" {
		body, err = seedCSV(ctx, s, recs)
	} else {
		body, err = junitReport(ctx, s, path, recs, o)
	}
	if err != nil {
		return err
	}
	if o.out != "" {
		if err := os.WriteFile(o.out, body, 0o644); err != nil {
			return providerErr(fmt.Errorf("export: %w", err))
		}
		return nil
	}
	if _, err := e.Stdout.Write(body); err != nil {
		return providerErr(fmt.Errorf("export: %w", err))
	}
	return nil
}

// exported is the target exported and its records by sample and repeat.
type exported struct {
	target  string
	metrics []metric.Info
	repeats bool
	by      map[string]map[int]results.Record
	order   []results.Record
}

// readTarget reads the records of the exported target: --target, else
// gate.target, else the file's only target that is not gate.baseline.
func readTarget(path string, s *suite.Suite, target string) (*exported, error) {
	h, recs, _, err := results.ReadAll(path)
	if err != nil && !errors.Is(err, results.ErrTruncated) {
		return nil, usageErr(err)
	}
	var ids []string
	for _, t := range h.Targets {
		ids = append(ids, t.ID)
	}
	if target == "" {
		gated, named := s.GatedTarget(ids, s.Config.Gate.Baseline)
		if !named {
			return nil, usagef("%s holds targets %s: name the one to export with --target", path, strings.Join(ids, ", "))
		}
		target = gated
	}
	if !slices.Contains(ids, target) {
		return nil, usagef("--target %q: no such target in %s (targets: %s)", target, path, strings.Join(ids, ", "))
	}
	x := &exported{target: target, metrics: h.Metrics, by: map[string]map[int]results.Record{}}
	for _, r := range recs {
		if r.Target != target {
			continue
		}
		if x.by[r.SampleID] == nil {
			x.by[r.SampleID] = map[int]results.Record{}
		}
		x.by[r.SampleID][r.Repeat] = r
		x.repeats = x.repeats || r.Repeat > 0
		x.order = append(x.order, r)
	}
	// Records are written as calls finish: sort them so that an export is
	// the same on every run.
	slices.SortFunc(x.order, func(a, b results.Record) int {
		return cmp.Or(strings.Compare(a.SampleID, b.SampleID), cmp.Compare(a.Repeat, b.Repeat))
	})
	return x, nil
}

// seedColumns is the order of the AWS migration format's columns; a
// dataset's other columns follow in name order.
var seedColumns = []string{suite.FieldID, suite.FieldQuestion, suite.FieldContext, suite.FieldReference,
	suite.FieldSourcePrompt, suite.FieldSourceAnswer, suite.FieldSourceLatency, suite.FieldSourceInTokens,
	suite.FieldSourceOutTokens, suite.FieldSourceJudge, suite.FieldSourceHuman, suite.FieldSourceHumanWhy}

// seedCSV writes the dataset's rows (those the target was evaluated on) with
// the target's record beside each: answer_target_llm, latency_target_llm (in
// seconds, as the source's), tokens, cost, error and each metric's score as
// <metric>_target_llm, so that the framework's notebooks read it as they read
// the source's columns. With repeats, one row per repeat and a repeat column.
func seedCSV(ctx context.Context, s *suite.Suite, x *exported) ([]byte, error) {
	ds, err := suite.OpenDataset(s)
	if err != nil {
		return nil, usageErr(err)
	}
	defer ds.Close()
	tc, _ := s.Target(x.target)
	var view *suite.View
	if tc != nil {
		if view, err = s.TargetView(tc); err != nil {
			return nil, usageErr(err)
		}
	}
	var rows []suite.Sample
	cols := map[string]bool{}
	for n := 0; ; n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		smp, err := ds.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, usageErr(err)
		}
		if !view.Sees(smp) {
			continue
		}
		for c := range smp.Fields {
			cols[c] = true
		}
		rows = append(rows, smp)
	}
	var header []string
	for _, c := range seedColumns {
		if cols[c] {
			header = append(header, c)
			delete(cols, c)
		}
	}
	rest := make([]string, 0, len(cols))
	for c := range cols {
		rest = append(rest, c)
	}
	slices.Sort(rest)
	header = append(header, rest...)
	dataCols := len(header)
	if x.repeats {
		header = append(header, "repeat")
	}
	header = append(header, "answer_target_llm", "latency_target_llm", "input_token_target_llm", "output_token_target_llm", "cost_target_llm", "error_target_llm")
	var metrics []string
	for _, m := range x.metrics {
		// An imported score of the source is already one of its columns.
		if !strings.HasSuffix(m.Name, "_source_llm") {
			metrics = append(metrics, m.Name)
			header = append(header, m.Name+"_target_llm")
		}
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write(header)
	for _, smp := range rows {
		reps := x.by[smp.ID]
		keys := slices.Sorted(mapKeys(reps))
		if len(keys) == 0 {
			keys = []int{-1} // no record: the target columns stay empty
		}
		for _, rep := range keys {
			line := make([]string, 0, len(header))
			for _, c := range header[:dataCols] {
				line = append(line, smp.Fields[c])
			}
			if x.repeats {
				line = append(line, strconv.Itoa(max(rep, 0)))
			}
			r, ok := reps[rep]
			if !ok {
				line = append(line, make([]string, len(header)-len(line))...)
				_ = w.Write(line)
				continue
			}
			cost, errText := "", ""
			if r.CostUSD != nil {
				cost = strconv.FormatFloat(*r.CostUSD, 'f', -1, 64)
			}
			if r.Error != nil {
				errText = r.Error.Kind + ": " + r.Error.Message
			}
			line = append(line, r.Output, strconv.FormatFloat(math.Round(r.LatencyMS)/1000, 'f', -1, 64),
				strconv.Itoa(r.Usage.InputTokens), strconv.Itoa(r.Usage.OutputTokens), cost, errText)
			for _, m := range metrics {
				v, ok := r.Scores[m]
				if ok {
					line = append(line, strconv.FormatFloat(v, 'f', -1, 64))
				} else {
					line = append(line, "")
				}
			}
			_ = w.Write(line)
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, fmt.Errorf("export csv: %w", err)
	}
	return b.Bytes(), nil
}

func mapKeys[V any](m map[int]V) func(func(int) bool) {
	return func(yield func(int) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// junitReport compares the target with the baseline under the suite's
// criteria and renders the verdict as JUnit XML.
func junitReport(ctx context.Context, s *suite.Suite, path string, x *exported, o exportOptions) ([]byte, error) {
	base := o.baseline
	if base == "" {
		base = s.Config.Gate.Baseline
	}
	if base == "" {
		return nil, usagef("junit: the suite names no gate.baseline; give --baseline (a target id of %s or FILE[#target])", path)
	}
	var side gate.Side
	if strings.HasSuffix(strings.SplitN(base, "#", 2)[0], ".jsonl") {
		var err error
		if side, err = gate.ParseSide(base); err != nil {
			return nil, usagef("--baseline: %v", err)
		}
	} else {
		side = gate.Side{Path: path, Target: base}
	}
	cfg := gate.FromSuite(&s.Config)
	v, err := gate.Compare(ctx, side, gate.Side{Path: path, Target: x.target}, cfg)
	if err != nil {
		return nil, usageErr(fmt.Errorf("junit: compare %s with %s: %w", x.target, side, err))
	}
	var samples []report.SampleCase
	if o.perSample {
		samples = []report.SampleCase{}
		for _, r := range x.order {
			samples = append(samples, sampleCase(r, x.metrics))
		}
	}
	return report.JUnit(v, s.Config.Name, samples)
}

// sampleCase is a record's JUnit outcome: an error for a failed call, a
// failure for each pass/fail metric it failed.
func sampleCase(r results.Record, metrics []metric.Info) report.SampleCase {
	c := report.SampleCase{SampleID: r.SampleID, Repeat: r.Repeat}
	if r.Error != nil {
		c.Error = r.Error.Kind + ": " + r.Error.Message
		return c
	}
	var failed []string
	for _, m := range metrics {
		v, ok := r.Scores[m.Name]
		if !ok || !m.PassFail {
			continue
		}
		if (m.Direction == metric.LowerIsBetter) == (v >= 0.5) {
			failed = append(failed, m.Name)
		}
	}
	if len(failed) > 0 {
		c.Failure = "failed " + strings.Join(failed, ", ")
	}
	return c
}
