package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/evalgate/evalgate/internal/gate"
	"github.com/evalgate/evalgate/internal/metric"
	"github.com/evalgate/evalgate/internal/metric/judge"
	"github.com/evalgate/evalgate/internal/report"
	"github.com/evalgate/evalgate/internal/results"
	"github.com/evalgate/evalgate/internal/run"
	"github.com/evalgate/evalgate/internal/secret"
	"github.com/evalgate/evalgate/internal/shard"
	"github.com/evalgate/evalgate/internal/suite"
	"github.com/evalgate/evalgate/internal/trend"
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
	// baseline overrides gate.baseline: a target id or FILE[#target].
	baseline string
	// mode overrides gate.mode.
	mode string
	// allowOutside lets the suite name files outside the git work tree or
	// the workspace; root, when set, is the directory its files must be in
	// instead (see loadSuite).
	allowOutside bool
	root         string
	// pricing is --pricing: a file that extends or replaces the catalog.
	pricing string
	// shard is --shard i/N parsed: the run evaluates that shard of the
	// dataset only (nil: all of it).
	shard *results.Shard
	// history is --history: the file of the suite's earlier runs that a
	// gated run appends its verdict to; historyRun says which run this is
	// (the Action's run id and page).
	history    string
	historyRun trend.Run
	// sequential is --sequential: "true" or "false" override
	// run.sequential ("" keeps the suite's).
	sequential string
}

// allowOutsideUsage is the help of --allow-outside.
const allowOutsideUsage = "let the suite name files (dataset, prompts, cassettes, results) outside the git work tree holding the config, or outside GITHUB_WORKSPACE in GitHub Actions"

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
			fs.StringVar(&o.mode, "mode", "", "gate `mode`: regression or non_inferiority (default: gate.mode of the suite)")
			fs.StringVar(&o.baseline, "baseline", "", "compare with this baseline instead of gate.baseline: a target `id` or a results FILE[#target]")
			fs.BoolVar(&o.allowOutside, "allow-outside", false, allowOutsideUsage)
			fs.StringVar(&o.pricing, "pricing", "", pricingUsage)
			fs.StringVar(&o.history, "history", "", "append the verdict to this history `file` of scheduled runs and draw each check's trend in the HTML report")
			fs.BoolFunc("sequential", "stop calling once every fail-severity criterion is settled (run.sequential; --sequential=false turns it off)", func(v string) error {
				if v != "true" && v != "false" {
					return fmt.Errorf("want true or false")
				}
				o.sequential = v
				return nil
			})
			shardFlag := fs.String("shard", "", "evaluate only shard `i/N` of the dataset (samples assigned by a hash of their id); join the shards' results with evalgate merge")
			return func(ctx context.Context, e *Env, args []string) error {
				if len(args) > 0 {
					return usagef("unexpected argument %q (the suite is given with --config)", args[0])
				}
				if *shardFlag != "" {
					sh, err := shard.Parse(*shardFlag)
					if err != nil {
						return usagef("--shard %v", err)
					}
					o.shard = &sh
				}
				return runSuite(ctx, e, o)
			}
		},
	}
}

// runSuite is `evalgate run`: execute the suite, print what it found, and
// turn the outcome into the exit code.
func runSuite(ctx context.Context, e *Env, o runOptions) error {
	r, err := executeSuite(ctx, e, o)
	if r == nil {
		return err
	}
	// A suite too small for its criteria is said before anything else.
	if r.verdict != nil && r.verdict.Headline != "" {
		fmt.Fprintf(e.Stdout, "\nCAUTION: %s\n", r.verdict.Headline)
	}
	printSummary(e.Stdout, r.suite, r.targets, r.metrics, r.summary, r.resultsPath)
	for _, n := range r.sourceNotes {
		fmt.Fprintln(e.Stdout, n.text)
	}
	printPairwise(e.Stdout, r.pairwiseResults)
	if r.verdict != nil {
		printVerdict(e.Stdout, r)
	} else {
		printLevels(ctx, e.Stdout, r)
	}
	if r.gateSkipped != "" {
		fmt.Fprintf(e.Stdout, "gate skipped: %s\n", r.gateSkipped)
	}
	return err
}

// suiteRun is what executing one suite produced.
type suiteRun struct {
	suite   *suite.Suite
	targets []run.Target
	metrics []metric.Metric
	// pairwise are the pairwise-preference judges, asked after the run
	// through the run's caller and limiters; pairwiseResults their results.
	pairwise        []metric.Spec
	pairwiseResults []judge.PairwiseResult
	caller          *run.Caller
	limiters        *limiters
	resultsPath     string
	summary         results.Summary
	// verdict is nil when the suite names no baseline (or the run failed
	// before it could be compared).
	verdict *gate.Verdict
	// reportPath, htmlPath and verdictPath are the Markdown report, the
	// HTML report and the JSON verdict written next to the results ("" without
	// a verdict).
	reportPath  string
	htmlPath    string
	verdictPath string
	// gateSkipped says why a suite that names a baseline was not compared.
	gateSkipped string
	// sourceNotes say how each recorded source called its model (its
	// logged invocation config and prompt), for the summary and the report.
	sourceNotes []sourceNote
}

// sourceNote is how one recorded target called its model.
type sourceNote struct{ target, text string }

// executeSuite runs one suite from its config to its verdict. The error it
// returns carries the exit code; the suiteRun is nil only when nothing ran.
func executeSuite(ctx context.Context, e *Env, o runOptions) (r *suiteRun, err error) {
	// 1. Load and check the suite: nothing is called before it is sound.
	s, err := loadSuite(ctx, e, o.config, o.root, o.allowOutside)
	if err != nil {
		return nil, loadErr(err)
	}
	// Every credential the run may hold is removed from what it writes and
	// from the error it returns (printed, and posted by the Action).
	red := newRedactor(e, s)
	defer func() { err = red.Err(err) }()
	if err := applyFlags(s, o); err != nil {
		return nil, err
	}
	targets, err := selectTargets(s, o.targets)
	if err != nil {
		return nil, err
	}
	// 2. Read the whole dataset once before paying for any call: an empty
	// file, duplicate ids or a prompt field missing from a row is found now,
	// not after an hour of model calls.
	planned, err := preflightShard(ctx, s, targets, o.shard)
	if err != nil {
		return nil, loadErr(err)
	}
	notes, err := sourceNotes(ctx, s, targets)
	if err != nil {
		return nil, loadErr(err)
	}
	// 3. Build metrics and targets; their calls share one Caller (cache,
	// retries, limits, budget).
	opts, err := engineOptions(s)
	if err != nil {
		return nil, err
	}
	opts.Secrets = red
	opts.Progress = newProgress(e, o.progress, planned*s.Repeats())
	// A sequential run's looks are known once the dataset is ordered; the
	// engine's options (copied into the caller) hold them by pointer.
	var seqOpts *run.Sequential
	if s.Config.Run.Sequential {
		seqOpts = &run.Sequential{}
		opts.Sequential = seqOpts
	}
	caller := run.NewCaller(opts)
	opts.Caller = caller
	lims := newLimiters(s.Concurrency())
	metrics, pairwise, closeMetrics, err := buildMetrics(ctx, e, s, caller, lims)
	if err != nil {
		return nil, err
	}
	defer closeMetrics()
	built, closeTargets, err := buildTargets(ctx, e, s, targets, o.record, lims)
	if err != nil {
		return nil, err
	}
	defer closeTargets()
	// Batch targets run their Bedrock batch jobs first; the engine reads
	// their answers like any call.
	keepBatches, err := runBatches(ctx, e, s, targets, built, opts, o.shard)
	defer keepBatches()
	if err != nil {
		return nil, err
	}
	// 4. Open the results file.
	resultsPath := s.ResultsPath()
	if o.out != "" {
		resultsPath = o.out
	}
	hdr, err := header(ctx, s, built, metrics)
	if err != nil {
		return nil, err
	}
	hdr.Shard = o.shard
	w, err := results.Create(resultsPath, hdr)
	if errors.Is(err, results.ErrInUse) {
		return nil, usagef("%v; wait for that run to end, or give this one another file with --out", err)
	}
	if err != nil {
		return nil, storageErr(fmt.Errorf("%w: the results cannot be written; make the directory writable by this user or point --out (run.results) elsewhere", err))
	}
	// Whatever stops this function from here on, a panic included, the
	// records already written are kept (Close does nothing once closed).
	defer w.Close(results.Summary{Status: results.StatusIncomplete, Reason: "evalgate stopped on an internal error"})
	// 5. Run, streaming records to the file.
	ds, err := suite.OpenDataset(s)
	if err != nil {
		w.Discard()
		return nil, usageErr(err)
	}
	defer ds.Close()
	var samples run.Samples = ds
	var out run.RecordWriter = w
	if o.shard != nil {
		samples = shard.Samples{Shard: *o.shard, From: ds}
	}
	var seq *sequentialRun
	if seqOpts != nil {
		if seq, samples, err = prepareSequential(e, s, built, ds, resultsPath, o.baseline); err != nil {
			w.Discard()
			return nil, err
		}
		seq.hdr = hdr
		*seqOpts = *seq.options()
		out = seq.writer(w)
	}
	sum, runErr := run.New(built, metrics, opts).Run(ctx, samples, out)
	if seq != nil {
		sum.Sequential = seq.summary()
	}
	// 6. Close the results with their summary, whatever happened: finished
	// records are never lost.
	if err := w.Close(sum); err != nil {
		return nil, providerErr(err)
	}
	r = &suiteRun{suite: s, targets: built, metrics: metrics, pairwise: pairwise, caller: caller, limiters: lims, resultsPath: resultsPath, summary: sum, sourceNotes: notes}
	ended := runOutcome(sum, runErr)
	if o.shard != nil && planned == 0 && runErr == nil {
		// A dataset smaller than N leaves some shards empty: that is this
		// shard's whole share, and the merged shards are what is gated.
		ended = nil
	}
	if ended != nil && exitCode(ended) != ExitIncomplete {
		return r, ended
	}
	// 7. Compare with the baseline, when the suite (or --baseline) names one:
	// an incomplete run is still compared on the pairs that ran.
	return r, compareRun(ctx, e, r, o, ended)
}

// storageErr marks a file evalgate cannot write (results, cache). Refused
// permissions, a read-only or a full disk are the machine's (exit 3, as the
// README's exit codes say: a container's user on a workspace it does not own);
// a path that cannot be a file (through a file, say) is the config's (exit 2).
func storageErr(err error) error {
	if errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS) || errors.Is(err, syscall.ENOSPC) {
		return providerErr(err)
	}
	return usageErr(err)
}

// runOutcome maps how the run ended to an error with the right exit code.
func runOutcome(sum results.Summary, runErr error) error {
	var p panicked
	switch {
	case errors.As(runErr, &p):
		return runErr
	case errors.Is(runErr, run.ErrAuth), errors.Is(runErr, run.ErrInfrastructure):
		// The service refused the credentials, or was down: nothing the
		// records could say about the model.
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
		return providerErr(fmt.Errorf("every call failed (%d of %d records are errors%s); see the error column of the results", errs, records, infraCount(sum)))
	}
	if sum.Status == results.StatusIncomplete {
		return outcome(ExitIncomplete, "the run is incomplete: %s", sum.Reason)
	}
	return nil
}

// infraCount says how many errors were the service's, for messages.
func infraCount(sum results.Summary) string {
	n := 0
	for _, t := range sum.Targets {
		n += t.InfraErrors
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(", %d of them failures of the model service", n)
}

// newRedactor knows the run's credentials: the variables every provider may
// read (secret.CredentialEnv) and the api_key_env of each target, judge and
// embedding model of the suite.
func newRedactor(e *Env, s *suite.Suite) *secret.Redactor {
	names := slices.Clone(secret.CredentialEnv)
	for _, t := range s.Config.Targets {
		if t.APIKeyEnv != "" {
			names = append(names, t.APIKeyEnv)
		}
		for _, n := range t.Env {
			// A command's own credentials, by their names; other variables
			// (a model name, a URL) are ordinary words in answers.
			if up := strings.ToUpper(n); strings.Contains(up, "KEY") || strings.Contains(up, "TOKEN") || strings.Contains(up, "SECRET") || strings.Contains(up, "PASSWORD") {
				names = append(names, n)
			}
		}
	}
	for _, m := range s.Metrics {
		names = append(names, apiKeyEnvs(m.Options)...)
	}
	return secret.FromEnv(e.Getenv, names...)
}

// apiKeyEnvs finds the api_key_env settings nested in a metric's options
// (its judge, its embedding model).
func apiKeyEnvs(v any) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if name, ok := x.(string); ok && k == "api_key_env" {
				out = append(out, name)
				continue
			}
			out = append(out, apiKeyEnvs(x)...)
		}
	case []any:
		for _, x := range v {
			out = append(out, apiKeyEnvs(x)...)
		}
	}
	return out
}

// applyFlags lets command-line flags override the suite's run settings, so
// that everything downstream (header, engine) reads one source.
func applyFlags(s *suite.Suite, o runOptions) error {
	if _, err := suite.ParseMode(o.mode); err != nil {
		return usagef("--mode %v", err)
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"--limit", float64(o.limit)}, {"--concurrency", float64(o.concurrency)}, {"--repeats", float64(o.repeats)}, {"--budget", o.budget}} {
		// NaN compares false with everything: it would be neither rejected
		// here nor applied below (the gate's budget input comes this way).
		if !(f.v >= 0) || math.IsInf(f.v, 0) {
			return usagef("%s %v: give a positive number, or leave it out for the suite's setting", f.name, f.v)
		}
	}
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
	if o.mode != "" {
		s.Config.Gate.Mode = suite.Mode(o.mode)
	}
	if o.noCache {
		off := false
		s.Config.Run.Cache = &off
	}
	if o.sequential != "" {
		s.Config.Run.Sequential = o.sequential == "true"
	}
	if s.Config.Run.Sequential && o.shard != nil {
		return usagef("--shard %s: a sequential run decides when to stop on the whole suite's evidence, which one shard does not have; run the shards without run.sequential", shard.String(*o.shard))
	}
	return usePricing(s, o.pricing)
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

// sourceNotes describes how each recorded target among targets called its
// model, from its params and logged columns (suite.DescribeSource).
func sourceNotes(ctx context.Context, s *suite.Suite, targets []*suite.TargetConfig) ([]sourceNote, error) {
	var out []sourceNote
	for _, t := range targets {
		if t.Provider != suite.ProviderRecorded {
			continue
		}
		n, err := suite.DescribeSource(ctx, s, t)
		if err != nil {
			return nil, err
		}
		if n != "" {
			out = append(out, sourceNote{t.ID, n})
		}
	}
	return out, nil
}

// lacksField reports whether a target using prompt is evaluated on smp and
// lacks field there (in the row as it sees it): a row no such target sees
// needs none of its fields.
func lacksField(targets []*suite.TargetConfig, views []*suite.View, prompt, field string, smp suite.Sample) bool {
	for i, t := range targets {
		if t.Prompt != prompt || !views[i].Sees(smp) {
			continue
		}
		if _, ok := views[i].Fields(smp)[field]; !ok {
			return true
		}
	}
	return false
}

// maxListed bounds the line numbers an error lists.
const maxListed = 5

// preflight reads the dataset once and returns the number of calls per
// repeat (each target's rows: a target's filter may skip some); an
// empty dataset, a duplicate id or a row missing a field a prompt needs is an
// error listing the first offending lines.
func preflight(ctx context.Context, s *suite.Suite, targets []*suite.TargetConfig) (int, error) {
	return preflightShard(ctx, s, targets, nil)
}

// preflightShard is preflight counting the calls of one shard (nil: all);
// the whole dataset is still checked, so every shard refuses a bad one.
func preflightShard(ctx context.Context, s *suite.Suite, targets []*suite.TargetConfig, sh *results.Shard) (int, error) {
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
	ids, err := suite.NewIDCheck(s, targets)
	if err != nil {
		return 0, err
	}
	views := make([]*suite.View, len(targets))
	for i, t := range targets {
		if views[i], err = s.TargetView(t); err != nil {
			return 0, err
		}
	}
	var dups, missing []string
	missingCount, dupCount, n, calls := 0, 0, 0, 0
	seenBy := make([]int, len(targets))
	for {
		// A signal stops the reading of a large dataset too.
		if n%4096 == 0 && ctx.Err() != nil {
			return 0, ctx.Err()
		}
		smp, err := ds.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, err
		}
		n++
		for i := range targets {
			if views[i].Sees(smp) {
				if sh == nil || shard.Holds(*sh, smp.ID) {
					calls++
				}
				seenBy[i]++
			}
		}
		for _, rep := range ids.Add(smp) {
			dupCount++
			if len(dups) < maxListed {
				dups = append(dups, fmt.Sprintf("%q on lines %d and %d%s", smp.ID, rep.FirstLine, smp.Line, rep.Where()))
			}
		}
		for _, nd := range needs {
			if lacksField(targets, views, nd.prompt, nd.field, smp) {
				missingCount++
				if len(missing) < maxListed {
					missing = append(missing, fmt.Sprintf("line %d (sample %s) has no field %q that prompt %q uses", smp.Line, smp.ID, nd.field, nd.prompt))
				}
			}
		}
	}
	if n == 0 {
		return 0, fmt.Errorf("dataset %s has no samples: nothing to evaluate", s.DatasetPath)
	}
	var problems []string
	for i, t := range targets {
		if seenBy[i] == 0 {
			problems = append(problems, fmt.Sprintf("target %s sees no sample: no row matches its filter, or its own dataset has no row with a sample's id; check its column names, values and key", t.ID))
		}
	}
	if dupCount > 0 {
		problems = append(problems, fmt.Sprintf("%d duplicate sample ids (ids pair baseline and target, so each must be unique): %s", dupCount, strings.Join(dups, "; ")))
	}
	if missingCount > 0 {
		problems = append(problems, fmt.Sprintf("%d rows lack a prompt field (add the column or map it with dataset.fields): %s", missingCount, strings.Join(missing, "; ")))
	}
	if len(problems) > 0 {
		return 0, fmt.Errorf("dataset %s: %s (evalgate validate lists every problem)", s.DatasetPath, strings.Join(problems, "; and "))
	}
	return calls, nil
}

// buildMetrics builds the suite's per-record metrics, judges included (their
// calls go through caller, sharing the run's cache, retries, limits and
// budget). Pairwise preferences are not per record: they are returned apart,
// to be asked after the run. The returned func closes what judges opened.
func buildMetrics(ctx context.Context, e *Env, s *suite.Suite, caller *run.Caller, lims *limiters) ([]metric.Metric, []metric.Spec, func(), error) {
	var out []metric.Metric
	var pairwise []metric.Spec
	var closers []func()
	closeAll := func() {
		for _, c := range closers {
			c()
		}
	}
	for _, spec := range s.Metrics {
		switch {
		case judge.IsPairwise(spec):
			pairwise = append(pairwise, spec)
			continue
		case judge.IsJudge(spec):
			m, closer, err := buildJudge(ctx, e, s, spec, caller, lims)
			if err != nil {
				closeAll()
				return nil, nil, nil, err
			}
			closers = append(closers, closer)
			out = append(out, m)
		default:
			m, err := metric.New(spec)
			if err != nil {
				closeAll()
				return nil, nil, nil, usagef("%s: %v", s.Path, err)
			}
			out = append(out, m)
		}
	}
	return out, pairwise, closeAll, nil
}

func engineOptions(s *suite.Suite) (run.Options, error) {
	opts := run.Options{
		Concurrency:       s.Concurrency(),
		Repeats:           s.Repeats(),
		Retries:           s.Retries(),
		RetryThrottledFor: s.RetryThrottledFor(),
		MaxRetryWait:      s.MaxRetryWait(),
		Timeout:           s.Timeout(nil),
		Deadline:          s.Deadline(),
		BudgetUSD:         s.Config.Run.BudgetUSD,
		Delimiter:         s.Delimiter(),
	}
	if s.CacheEnabled() {
		c, err := run.OpenCache(s.CacheDir())
		if err != nil {
			return opts, storageErr(err)
		}
		opts.Cache = c
	}
	return opts, nil
}

// header is the results header of a run of s. Its suite hash comes from the
// pre-flight read of the dataset when there was one (no third read).
func header(ctx context.Context, s *suite.Suite, targets []run.Target, metrics []metric.Metric) (results.Header, error) {
	hash, err := s.Hash(ctx)
	if err != nil {
		return results.Header{}, err
	}
	h := results.Header{
		Suite:      s.Config.Name,
		SuiteHash:  hash,
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
	return h, nil
}

func newProgress(e *Env, mode string, total int) run.Progress {
	interactive := false
	if f, ok := underlying(e.Stderr).(*os.File); ok {
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

// compareRun compares the run's gated target with its baseline, when the
// suite or --baseline names one, writes the JSON verdict and the Markdown
// report next to the results, and returns the verdict's outcome. runErr is
// how the run itself ended (nil or incomplete).
func compareRun(ctx context.Context, e *Env, r *suiteRun, o runOptions, runErr error) error {
	if o.shard != nil {
		// One shard's verdict would judge a part of the dataset as if it
		// were the whole.
		r.gateSkipped = fmt.Sprintf("shard %s holds part of the dataset; gate the merged shards (evalgate merge, then evalgate compare or a run's --baseline)", shard.String(*o.shard))
		return runErr
	}
	base, target, ok, err := gateSides(r, o.baseline)
	if err != nil || !ok {
		if err != nil {
			return err
		}
		if len(r.pairwise) > 0 {
			r.gateSkipped = orText(r.gateSkipped, "no baseline named (gate.baseline)") + "; pairwise preferences need one and were not judged"
		}
		return runErr
	}
	if base.Path != r.resultsPath {
		if err := wholeRuns(base.Path); err != nil {
			return err
		}
	}
	cfg := gate.FromSuite(&r.suite.Config)
	if len(r.pairwise) > 0 {
		if cfg.PairScores, err = judgePairwise(ctx, e, r, base, target); err != nil {
			return err
		}
	}
	v, err := gate.Compare(ctx, base, target, cfg)
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return outcome(ExitIncomplete, "compare %s with %s: %v", target, base, err)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return usageErr(fmt.Errorf("compare %s with %s: %w (write the baseline with `evalgate run --out FILE` on the baseline's revision, or point gate.baseline or --baseline at an existing results file)", target, base, err))
	}
	if err != nil {
		return usageErr(fmt.Errorf("compare %s with %s: %w", target, base, err))
	}
	r.verdict = v
	stem := strings.TrimSuffix(r.resultsPath, filepath.Ext(r.resultsPath))
	r.verdictPath, r.reportPath = stem+".verdict.json", stem+".report.md"
	js, err := report.JSON(v, verdictCode(v))
	if err != nil {
		return providerErr(err)
	}
	// The report tells how a recorded source of this run called its model
	// when that source is one side of the comparison.
	var notes []string
	for _, n := range r.sourceNotes {
		for _, side := range []gate.SideInfo{v.Baseline, v.Target} {
			if side.Target == n.target && side.Path == r.resultsPath {
				notes = append(notes, n.text)
				break
			}
		}
	}
	md := report.Markdown(v, report.Options{Title: r.suite.Config.Name, Notes: notes})
	if err := os.WriteFile(r.verdictPath, js, 0o644); err != nil {
		return providerErr(fmt.Errorf("write verdict: %w", err))
	}
	if err := os.WriteFile(r.reportPath, []byte(md), 0o644); err != nil {
		return providerErr(fmt.Errorf("write report: %w", err))
	}
	history := appendHistory(e, o, v, r.summary.Finished)
	r.htmlPath = stem + ".report.html"
	if err := writeHTML(ctx, v, r.htmlPath, report.HTMLOptions{Title: r.suite.Config.Name, Notes: notes, History: history}); err != nil {
		return err
	}
	if code := verdictCode(v); code != ExitPass {
		return outcome(code, "verdict %s: %s", v.Status, v.Reason)
	}
	return runErr
}

// appendHistory adds the verdict to the --history file and returns the
// history. A history that cannot be read or written is a warning, not the
// run's failure: the verdict stands without it, and a new history starts.
func appendHistory(e *Env, o runOptions, v *gate.Verdict, at time.Time) []trend.Entry {
	if o.history == "" {
		return nil
	}
	h, err := trend.Read(o.history)
	if err != nil {
		fmt.Fprintf(e.Stderr, "evalgate run: warning: %v; starting a new history\n", err)
		h = nil
	}
	h = trend.Append(h, trend.FromVerdict(v, o.historyRun, at))
	if err := trend.Write(o.history, h); err != nil {
		fmt.Fprintf(e.Stderr, "evalgate run: warning: %v\n", err)
	}
	return h
}

// gateSides resolves the baseline and the gated target of a run. ok is false
// when no baseline is named: the run is then not gated.
func gateSides(r *suiteRun, override string) (base, target gate.Side, ok bool, err error) {
	s := r.suite
	name, fromFlag := s.Config.Gate.Baseline, false
	if override != "" {
		name, fromFlag = override, true
	}
	if name == "" {
		return base, target, false, nil
	}
	ran := map[string]bool{}
	var ids []string
	for _, t := range r.targets {
		ran[t.Info.ID] = true
		ids = append(ids, t.Info.ID)
	}
	if _, isTarget := s.Target(name); isTarget {
		if !ran[name] {
			r.gateSkipped = fmt.Sprintf("the baseline target %q was not run (--targets)", name)
			return base, target, false, nil
		}
		base = gate.Side{Path: r.resultsPath, Target: name}
	} else {
		base, err = gate.ParseSide(name)
		if err != nil {
			return base, target, false, usagef("baseline: %v", err)
		}
		if !fromFlag {
			base.Path = s.ResolvePath(base.Path)
		}
	}
	// A baseline from another file excludes none of this run's targets.
	sameRun := ""
	if base.Path == r.resultsPath {
		sameRun = base.Target
	}
	gated, named := s.GatedTarget(ids, sameRun)
	if !named {
		return base, target, false, usagef("%s: set gate.target to the target to compare with the baseline (run targets: %s)", s.Path, strings.Join(ids, ", "))
	}
	if !ran[gated] {
		r.gateSkipped = fmt.Sprintf("the gated target %q was not run (--targets)", gated)
		return base, target, false, nil
	}
	return base, gate.Side{Path: r.resultsPath, Target: gated}, true, nil
}
