package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/evalgate/evalgate/internal/metric"
	"github.com/evalgate/evalgate/internal/results"
	"github.com/evalgate/evalgate/internal/run"
	"github.com/evalgate/evalgate/internal/suite"
)

// runOptions are the flags of `evalgate run`.
type runOptions struct {
	config      string
	out         string
	concurrency int
	repeats     int
	limit       int
	budget      float64
	noCache     bool
	record      bool
	targets     string
	progress    string
}

func runCommand() command {
	return command{
		name:    "run",
		summary: "run an evaluation suite and write its results",
		flags: func(fs *flag.FlagSet) func(context.Context, *Env, []string) error {
			var o runOptions
			fs.StringVar(&o.config, "config", "evalgate.yaml", "suite config `file`")
			fs.StringVar(&o.out, "out", "", "results `file` (default: run.results of the suite)")
			fs.IntVar(&o.concurrency, "concurrency", 0, "calls in flight at once (default: run.concurrency, 8)")
			fs.IntVar(&o.repeats, "repeats", 0, "times each sample is sent to each target (default: run.repeats, 1)")
			fs.IntVar(&o.limit, "limit", 0, "evaluate only the first `N` samples")
			fs.Float64Var(&o.budget, "budget", 0, "stop new calls once this many `USD` are spent (default: run.budget_usd)")
			fs.BoolVar(&o.noCache, "no-cache", false, "neither read nor write the response cache")
			fs.BoolVar(&o.record, "record", false, "call the real provider of targets that have a cassette, and (re)write the cassette")
			fs.StringVar(&o.targets, "targets", "", "comma-separated target `ids` to run (default: all)")
			fs.StringVar(&o.progress, "progress", "auto", "progress display: auto, bar, lines or off")
			return func(ctx context.Context, e *Env, args []string) error {
				if len(args) > 0 {
					return usagef("unexpected argument %q (the suite is given with --config)", args[0])
				}
				return runSuite(ctx, e, o)
			}
		},
	}
}

// runSuite is `evalgate run` from start to end.
func runSuite(ctx context.Context, e *Env, o runOptions) error {
	// 1. Load and check the suite: nothing is called before it is sound.
	s, err := suite.Load(o.config)
	if err != nil {
		return usageErr(err)
	}
	applyFlags(s, o)
	targets, err := selectTargets(s, o.targets)
	if err != nil {
		return err
	}
	// 2. Read the whole dataset once before paying for any call: an empty
	// file, duplicate ids or a prompt field missing from a row is found now,
	// not after an hour of model calls.
	planned, err := preflight(s, targets)
	if err != nil {
		return usageErr(err)
	}
	// 3. Build metrics and targets.
	metrics, err := buildMetrics(s)
	if err != nil {
		return usageErr(err)
	}
	built, closeTargets, err := buildTargets(ctx, e, s, targets, o.record, newLimiters(s.Concurrency()))
	if err != nil {
		return err
	}
	defer closeTargets()
	// 4. Open the cache and the results file.
	opts, err := engineOptions(s)
	if err != nil {
		return err
	}
	resultsPath := s.ResultsPath()
	if o.out != "" {
		resultsPath = o.out
	}
	w, err := results.Create(resultsPath, header(s, built, metrics))
	if err != nil {
		return usageErr(err)
	}
	// 5. Run, streaming records to the file.
	opts.Progress = newProgress(e, o.progress, planned*len(built)*opts.Repeats)
	ds, err := suite.OpenDataset(s)
	if err != nil {
		w.Abort()
		return usageErr(err)
	}
	defer ds.Close()
	sum, runErr := run.New(built, metrics, opts).Run(ctx, ds, w)
	// 6. Close the results with their summary, whatever happened: finished
	// records are never lost.
	if err := w.Close(sum); err != nil {
		return providerErr(err)
	}
	printSummary(e.Stdout, s, built, metrics, sum, resultsPath)
	// 7. Decide the exit code.
	return runOutcome(sum, runErr)
}

// runOutcome maps how the run ended to an error with the right exit code.
func runOutcome(sum results.Summary, runErr error) error {
	switch {
	case errors.Is(runErr, run.ErrAuth):
		return providerErr(runErr)
	case errors.Is(runErr, run.ErrDataset):
		return usageErr(runErr)
	case runErr != nil:
		return providerErr(runErr)
	}
	records, errs := 0, 0
	for _, t := range sum.Targets {
		records += t.Records
		errs += t.Errors
	}
	if records == 0 {
		return outcome(ExitIncomplete, "nothing was evaluated (%s)", orText(sum.Reason, "no record was written"))
	}
	if records == errs {
		return providerErr(fmt.Errorf("every call failed (%d of %d records are errors); see the error column of the results", errs, records))
	}
	if sum.Status == results.StatusIncomplete {
		return outcome(ExitIncomplete, "the run is incomplete: %s", sum.Reason)
	}
	return nil
}

// applyFlags lets command-line flags override the suite's run settings, so
// that everything downstream (header, engine) reads one source.
func applyFlags(s *suite.Suite, o runOptions) {
	if o.limit > 0 {
		s.Config.Dataset.Limit = o.limit
	}
	if o.concurrency > 0 {
		s.Config.Run.Concurrency = o.concurrency
	}
	if o.repeats > 0 {
		s.Config.Run.Repeats = o.repeats
	}
	if o.budget > 0 {
		s.Config.Run.BudgetUSD = o.budget
	}
	if o.noCache {
		off := false
		s.Config.Run.Cache = &off
	}
}

func orText(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// selectTargets returns the targets to run: all, or those named by --targets.
func selectTargets(s *suite.Suite, names string) ([]*suite.TargetConfig, error) {
	var out []*suite.TargetConfig
	if names == "" {
		for i := range s.Config.Targets {
			out = append(out, &s.Config.Targets[i])
		}
		return out, nil
	}
	for _, n := range strings.Split(names, ",") {
		n = strings.TrimSpace(n)
		t, ok := s.Target(n)
		if !ok {
			var ids []string
			for _, t := range s.Config.Targets {
				ids = append(ids, t.ID)
			}
			return nil, usagef("--targets: no target %q in %s%s", n, s.Path, suggest(n, ids))
		}
		out = append(out, t)
	}
	return out, nil
}

// maxListed bounds the line numbers an error lists.
const maxListed = 5

// preflight reads the dataset once and returns the number of samples; an
// empty dataset, a duplicate id or a row missing a field a prompt needs is an
// error listing the first offending lines.
func preflight(s *suite.Suite, targets []*suite.TargetConfig) (int, error) {
	ds, err := suite.OpenDataset(s)
	if err != nil {
		return 0, err
	}
	defer ds.Close()
	type need struct{ prompt, field string }
	var needs []need
	for _, t := range targets {
		if tpl, ok := s.Templates[t.Prompt]; ok && t.Prompt != "" {
			for _, f := range tpl.Fields() {
				if !slices.Contains(needs, need{t.Prompt, f}) {
					needs = append(needs, need{t.Prompt, f})
				}
			}
		}
	}
	seen := map[string]int{}
	var dups, missing []string
	missingCount, dupCount, n := 0, 0, 0
	for {
		smp, err := ds.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, err
		}
		n++
		if first, ok := seen[smp.ID]; ok {
			dupCount++
			if len(dups) < maxListed {
				dups = append(dups, fmt.Sprintf("%q on lines %d and %d", smp.ID, first, smp.Line))
			}
		} else {
			seen[smp.ID] = smp.Line
		}
		for _, nd := range needs {
			if _, ok := smp.Fields[nd.field]; !ok {
				missingCount++
				if len(missing) < maxListed {
					missing = append(missing, fmt.Sprintf("line %d (sample %s) has no field %q that prompt %q uses", smp.Line, smp.ID, nd.field, nd.prompt))
				}
			}
		}
	}
	switch {
	case n == 0:
		return 0, fmt.Errorf("dataset %s has no samples: nothing to evaluate", s.DatasetPath)
	case dupCount > 0:
		return 0, fmt.Errorf("dataset %s: %d duplicate sample ids (ids pair baseline and target, so each must be unique): %s", s.DatasetPath, dupCount, strings.Join(dups, "; "))
	case missingCount > 0:
		return 0, fmt.Errorf("dataset %s: %d rows lack a prompt field (add the column or map it with dataset.fields): %s", s.DatasetPath, missingCount, strings.Join(missing, "; "))
	}
	return n, nil
}

func buildMetrics(s *suite.Suite) ([]metric.Metric, error) {
	var out []metric.Metric
	for _, spec := range s.Metrics {
		m, err := metric.New(spec)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.Path, err)
		}
		out = append(out, m)
	}
	return out, nil
}

func engineOptions(s *suite.Suite) (run.Options, error) {
	opts := run.Options{
		Concurrency: s.Concurrency(),
		Repeats:     s.Repeats(),
		Retries:     s.Retries(),
		Timeout:     s.Timeout(nil),
		Deadline:    s.Deadline(),
		BudgetUSD:   s.Config.Run.BudgetUSD,
		Delimiter:   s.Delimiter(),
	}
	if s.CacheEnabled() {
		c, err := run.OpenCache(s.CacheDir())
		if err != nil {
			return opts, usageErr(err)
		}
		opts.Cache = c
	}
	return opts, nil
}

func header(s *suite.Suite, targets []run.Target, metrics []metric.Metric) results.Header {
	h := results.Header{
		Suite:      s.Config.Name,
		SuiteHash:  s.Hash(),
		ConfigHash: s.ConfigHash(),
		Dataset:    s.Config.Dataset.Path,
		Started:    time.Now().UTC(),
		Repeats:    s.Repeats(),
		Cluster:    s.Field(suite.RoleCluster),
		Tool:       "evalgate " + Version,
	}
	for _, t := range targets {
		h.Targets = append(h.Targets, t.Info)
	}
	for _, m := range metrics {
		h.Metrics = append(h.Metrics, m.Info())
	}
	return h
}

func newProgress(e *Env, mode string, total int) run.Progress {
	interactive := false
	if f, ok := e.Stderr.(*os.File); ok {
		interactive = term.IsTerminal(int(f.Fd()))
	}
	switch mode {
	case "off":
		return nil
	case "bar":
		interactive = true
	case "lines":
		interactive = false
	}
	return &run.Printer{W: e.Stderr, Interactive: interactive, Total: total}
}
