package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/evalgate/evalgate/internal/gate"
	"github.com/evalgate/evalgate/internal/metric"
	"github.com/evalgate/evalgate/internal/optimize"
	"github.com/evalgate/evalgate/internal/pricing"
	"github.com/evalgate/evalgate/internal/provider"
	"github.com/evalgate/evalgate/internal/provider/recorded"
	"github.com/evalgate/evalgate/internal/results"
	"github.com/evalgate/evalgate/internal/run"
	"github.com/evalgate/evalgate/internal/suite"
)

// optimizeOptions are the flags of `evalgate optimize`.
type optimizeOptions struct {
	config   string
	out      string
	split    float64
	seed     int64
	seedSet  bool
	budget   float64
	dryRun   bool
	write    bool
	record   bool
	noCache  bool
	progress string
}

func optimizeCommand() command {
	return command{
		name:    "optimize",
		summary: "find a better prompt for the target model (migration step 2), chosen on dev samples and gated on held-out ones",
		flags: func(fs *flag.FlagSet) func(context.Context, *Env, []string) error {
			var o optimizeOptions
			fs.StringVar(&o.config, "config", "evalgate.yaml", "suite config `file` (with an optimize section)")
			fs.StringVar(&o.out, "out", "", "`directory` of the results and reports (default: optimize/ next to run.results)")
			fs.Float64Var(&o.split, "split", 0, "dev `fraction` of the samples (default: optimize.split, 0.5)")
			fs.Func("seed", "seed of the dev/held-out split (default: optimize.seed, 1)", func(v string) error {
				_, err := fmt.Sscan(v, &o.seed)
				o.seedSet = true
				return err
			})
			fs.Float64Var(&o.budget, "budget", 0, "stop new calls once this many `USD` are spent in all (default: optimize.budget_usd, then run.budget_usd)")
			fs.BoolVar(&o.dryRun, "dry-run", false, "print the plan (candidates x samples) and its cost estimate, and call nothing")
			fs.BoolVar(&o.write, "write", false, "replace the winning prompt file if it exists")
			fs.BoolVar(&o.record, "record", false, "call the real providers of cassettes and (re)write them")
			fs.BoolVar(&o.noCache, "no-cache", false, "neither read nor write the response cache")
			fs.StringVar(&o.progress, "progress", "auto", "progress display: auto, bar, lines or off")
			return func(ctx context.Context, e *Env, args []string) error {
				if len(args) > 0 {
					return usagef("unexpected argument %q (the suite is given with --config)", args[0])
				}
				return optimizeSuite(ctx, e, o)
			}
		},
	}
}

// optimizeSuite is `evalgate optimize`, step by step.
func optimizeSuite(ctx context.Context, e *Env, o optimizeOptions) error {
	// 1. Load the suite and its optimize section; flags override it.
	s, err := suite.Load(o.config)
	if err != nil {
		return usageErr(err)
	}
	oc := s.Config.Optimize
	if oc == nil {
		return usagef("%s has no optimize section; add one (see README, \"Optimizing the prompt\")", s.Path)
	}
	if o.split < 0 || o.split >= 1 || o.budget < 0 {
		return usagef("--split is a fraction between 0 and 1 and --budget a positive amount")
	}
	if o.noCache {
		off := false
		s.Config.Run.Cache = &off
	}
	tc, _ := s.Target(oc.Target)
	// 2. Read the dataset once: sample ids and clusters for the split, and
	// the columns and value sizes the candidate checks need.
	if _, err := preflight(s, []*suite.TargetConfig{tc}); err != nil {
		return usageErr(err)
	}
	data, err := scanDataset(s)
	if err != nil {
		return usageErr(err)
	}
	// 3. The source prompt, in evalgate's syntax.
	src, err := sourcePrompt(s, oc, tc, data.columns)
	if err != nil {
		return usageErr(err)
	}
	checks := optimize.Checks{Required: src.Fields, Columns: data.columns, Longest: data.longest}
	if m, ok := pricing.Lookup(tc.Model); ok {
		checks.ContextWindow = m.ContextWindow
	}
	control := optimize.Control(src, tc.Params)
	if _, err := checks.Check(control); err != nil {
		return usagef("source prompt %s cannot be evaluated as it is: %v", src.Origin, err)
	}
	obj, err := objective(s, oc)
	if err != nil {
		return err
	}
	plan := optimize.Plan{Source: src, Control: control, Units: data.units,
		Split: orFloat(o.split, oc.Split, suite.DefaultSplit), Seed: 1, Objective: obj, Gate: gate.FromSuite(&s.Config), Baseline: heldOutBaseline(s, oc)}
	if oc.Seed != nil {
		plan.Seed = *oc.Seed
	}
	if o.seedSet {
		plan.Seed = o.seed
	}
	if _, ok := pricing.Lookup(tc.Model); !ok && tc.Pricing == nil {
		fmt.Fprintf(e.Stderr, "note: %s is not in the catalog: the context-window check is skipped and cost is unknown\n", tc.Model)
	}
	// 4. --dry-run: the plan and its cost, before any call.
	if o.dryRun {
		return printPlan(e.Stdout, s, oc, tc, plan, checks)
	}
	// 5. One caller for everything optimize calls: generation, dev and
	// held-out share the cache, retries, limits and the budget.
	s.Config.Run.BudgetUSD = orFloat(o.budget, oc.BudgetUSD, s.Config.Run.BudgetUSD)
	opts, err := engineOptions(s)
	if err != nil {
		return err
	}
	caller := run.NewCaller(opts)
	opts.Caller = caller
	lims := newLimiters(s.Concurrency())
	var closers []func()
	defer func() {
		for _, c := range slices.Backward(closers) {
			c()
		}
	}()
	// 6. Generate and check the candidates: a failing one is reported and
	// dropped, never evaluated.
	gens, closeGens, err := generators(ctx, e, s, oc, tc, checks, caller, lims, o.record)
	if err != nil {
		return err
	}
	closers = append(closers, closeGens)
	cands, dropped := optimize.Generate(ctx, gens, src, tc.Params, checks)
	for _, d := range dropped {
		fmt.Fprintf(e.Stderr, "dropped %s: %s\n", orText(d.ID, d.Generator), d.Reason)
	}
	if len(cands) == 0 {
		return noCandidates(dropped)
	}
	plan.Candidates = cands
	// 7. Select on the dev part, gate the winner on the held-out part.
	metrics, _, closeMetrics, err := buildMetrics(ctx, e, s, caller, lims)
	if err != nil {
		return err
	}
	closers = append(closers, closeMetrics)
	dir := o.out
	if dir == "" {
		dir = filepath.Join(filepath.Dir(s.ResultsPath()), "optimize")
	}
	ev := &engineEvaluator{e: e, s: s, tc: tc, dir: dir, opts: opts, metrics: metrics, lims: lims, record: o.record, progress: o.progress}
	defer ev.close()
	out, runErr := optimize.Run(ctx, plan, ev)
	// 8. Write what was found, whatever happened after the dev part.
	rep := &optimize.Report{Suite: s.Config.Name, Target: tc.ID, Model: tc.Model, Source: src, Objective: obj, Split: plan.Split, Seed: plan.Seed,
		Tried: len(cands) + len(dropped), Control: plan.Control, Candidates: cands, Dropped: dropped, SpentUSD: caller.Spent()}
	for _, g := range gens {
		rep.Generators = append(rep.Generators, g.Name())
	}
	if out != nil {
		rep.DevSamples, rep.HeldOutSamples = len(out.DevIDs), len(out.HeldOutIDs)
		rep.Ranking, rep.Verdict, rep.BaselineID, rep.DevPath, rep.HeldPath = out.Ranking, out.Verdict, out.BaselineID, out.DevPath, out.HeldOutPath
		if out.Ranking != nil {
			rep.Winner = &out.Winner
		}
	}
	if runErr == nil {
		writeWinner(s, oc, tc, rep, o.write)
	}
	mdPath, jsonPath, werr := writeReport(dir, rep)
	if werr != nil {
		return providerErr(werr)
	}
	printOptimize(e.Stdout, rep, mdPath, jsonPath)
	if runErr != nil {
		return optimizeErr(runErr)
	}
	if code := rep.Verdict.ExitCode(); code != ExitPass {
		return outcome(code, "held-out verdict %s: %s", rep.Verdict.Status, rep.Verdict.Reason)
	}
	return nil
}

// datasetScan is what optimize needs to know of the dataset.
type datasetScan struct {
	units []optimize.Unit
	// columns are those every sample has; longest the longest value of each.
	columns []string
	longest map[string]int
}

func scanDataset(s *suite.Suite) (*datasetScan, error) {
	ds, err := suite.OpenDataset(s)
	if err != nil {
		return nil, err
	}
	defer ds.Close()
	d := &datasetScan{longest: map[string]int{}}
	var common map[string]bool
	for {
		smp, err := ds.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		d.units = append(d.units, optimize.Unit{ID: smp.ID, Cluster: smp.Cluster})
		if common == nil {
			common = map[string]bool{}
			for k := range smp.Fields {
				common[k] = true
			}
		}
		for k := range common {
			if _, ok := smp.Fields[k]; !ok {
				delete(common, k)
			}
		}
		for k, v := range smp.Fields {
			d.longest[k] = max(d.longest[k], len(v))
		}
	}
	for k := range common {
		d.columns = append(d.columns, k)
	}
	slices.Sort(d.columns)
	return d, nil
}

// sourcePrompt reads the source prompt: optimize.source, else the target's prompt.
func sourcePrompt(s *suite.Suite, oc *suite.OptimizeConfig, tc *suite.TargetConfig, columns []string) (*optimize.Source, error) {
	name := tc.Prompt
	if src := oc.Source; src != nil && src.CSV != "" {
		path := s.ResolvePath(src.CSV)
		cols := optimize.CSVColumns{UseCase: src.Fields["use_case"], Family: src.Fields["family"], Prompt: src.Fields["prompt"], System: src.Fields["system"]}
		system, user, origin, err := optimize.ReadPromptsCSV(path, cols, src.UseCase, src.Family)
		if err != nil {
			return nil, fmt.Errorf("optimize.source: %w", err)
		}
		for _, k := range slices.Sorted(maps.Keys(src.Placeholders)) {
			if col := src.Placeholders[k]; !slices.Contains(columns, col) {
				return nil, fmt.Errorf("%s: optimize.source.placeholders.%s: %q is not a column every sample has (columns: %s)", s.Path, k, col, strings.Join(columns, ", "))
			}
		}
		return optimize.NewSource(origin, system, user, optimize.Resolver{Explicit: src.Placeholders, Columns: columns})
	} else if src != nil && src.Prompt != "" {
		name = src.Prompt
	}
	tpl := s.Templates[name]
	system, user := tpl.Text()
	return optimize.NativeSource("prompt "+name+" of "+s.Path, system, user, tpl.Fields())
}

// objective is optimize.objective with its defaults: the primary metric is
// the first criterion's suite metric, else the first metric.
func objective(s *suite.Suite, oc *suite.OptimizeConfig) (optimize.Objective, error) {
	obj := optimize.Objective{Tolerance: optimize.DefaultTolerance}
	if ob := oc.Objective; ob != nil {
		obj.Metric, obj.Weights = ob.Metric, ob.Weights
		if ob.Tolerance != nil {
			obj.Tolerance = *ob.Tolerance
		}
	}
	if obj.Metric != "" {
		return obj, nil
	}
	var names []string
	for _, m := range s.Metrics {
		if len(m.Targets) == 0 || slices.Contains(m.Targets, oc.Target) {
			names = append(names, m.Name)
		}
	}
	for _, c := range s.Config.Criteria {
		if slices.Contains(names, c.Metric) {
			obj.Metric = c.Metric
			return obj, nil
		}
	}
	if len(names) == 0 {
		return obj, usagef("%s: no metric scores target %q; set optimize.objective.metric", s.Path, oc.Target)
	}
	obj.Metric = names[0]
	return obj, nil
}

// heldOutBaseline is the suite target the winner is gated against, "" for
// the control.
func heldOutBaseline(s *suite.Suite, oc *suite.OptimizeConfig) string {
	switch b := oc.Baseline; {
	case b == suite.ControlID:
		return ""
	case b != "":
		return b
	}
	if b := s.Config.Gate.Baseline; b != "" && b != oc.Target {
		if _, ok := s.Target(b); ok {
			return b
		}
	}
	return ""
}

func orFloat(vals ...float64) float64 {
	for _, v := range vals {
		if v != 0 {
			return v
		}
	}
	return 0
}

// generators builds the generators the optimize section turns on. The
// metaprompt's calls go through caller, like a judge's.
func generators(ctx context.Context, e *Env, s *suite.Suite, oc *suite.OptimizeConfig, tc *suite.TargetConfig, checks optimize.Checks, caller *run.Caller, lims *limiters, record bool) ([]optimize.Generator, func(), error) {
	var gens []optimize.Generator
	var closers []func()
	closeAll := func() {
		for _, c := range closers {
			c()
		}
	}
	g := oc.Generators
	if g.Rules {
		gens = append(gens, optimize.Rules{Checks: checks})
	}
	if len(g.Files) > 0 {
		var paths []string
		for _, f := range g.Files {
			paths = append(paths, s.ResolvePath(f))
		}
		gens = append(gens, optimize.Files{Paths: paths})
	}
	if m := g.Metaprompt; m != nil {
		mt := &suite.TargetConfig{ID: "optimize-metaprompt", Provider: m.Provider, Model: m.Model, Command: m.Command, Cassette: m.Cassette,
			Region: m.Region, Endpoint: m.Endpoint, BaseURL: m.BaseURL, APIKeyEnv: m.APIKeyEnv, Timeout: m.Timeout}
		built, closer, err := buildTargets(ctx, e, s, []*suite.TargetConfig{mt}, record, lims)
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		closers = append(closers, closer)
		gens = append(gens, optimize.Metaprompt{Model: m.Model, TargetModel: tc.Model, MaxTokens: m.MaxTokens, Completer: caller.Completer(built[0], 1)})
	}
	if g.Bedrock != nil {
		b, err := bedrockOptimizer(ctx, s, g.Bedrock, tc, caller, lims)
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		gens = append(gens, b)
	}
	return gens, closeAll, nil
}

// noCandidates is the error when every candidate was dropped: a provider
// failure when a model call failed (throttled, denied), else the input's fault.
func noCandidates(dropped []optimize.Dropped) error {
	var reasons []string
	provider := false
	for _, d := range dropped {
		reasons = append(reasons, orText(d.ID, d.Generator)+": "+d.Reason)
		provider = provider || d.Kind != ""
	}
	err := fmt.Errorf("no candidate to evaluate (%s)", strings.Join(reasons, "; "))
	if len(dropped) == 0 {
		err = errors.New("no candidate to evaluate: the generators proposed nothing that differs from the source prompt; add files or a metaprompt to optimize.generators")
	}
	if provider {
		return providerErr(err)
	}
	return usageErr(err)
}

// optimizeErr maps how an optimization ended early to an exit code.
func optimizeErr(err error) error {
	var ee *exitError
	if errors.As(err, &ee) {
		return err
	}
	return providerErr(err)
}

// engineEvaluator runs a phase's variants through the run engine, like
// `evalgate run`: cache, budget, retries, limits and a results file.
type engineEvaluator struct {
	e        *Env
	s        *suite.Suite
	tc       *suite.TargetConfig
	dir      string
	opts     run.Options
	metrics  []metric.Metric
	lims     *limiters
	record   bool
	progress string
	closers  []func()
	// recorders are shared by every variant that records into one
	// cassette: a recorder owns its file.
	recorders map[string]*recorded.Recorder
}

var _ optimize.Evaluator = (*engineEvaluator)(nil)

func (ev *engineEvaluator) close() {
	for _, c := range ev.closers {
		c()
	}
	for _, r := range ev.recorders {
		r.Close()
	}
}

// Evaluate runs variants on the samples in ids and returns the results file.
func (ev *engineEvaluator) Evaluate(ctx context.Context, phase string, variants []optimize.Variant, ids map[string]bool) (string, error) {
	targets, err := ev.targets(ctx, variants)
	if err != nil {
		return "", err
	}
	path := filepath.Join(ev.dir, phase+".results.jsonl")
	w, err := results.Create(path, header(ev.s, targets, ev.metrics))
	if err != nil {
		return "", usageErr(err)
	}
	ds, err := suite.OpenDataset(ev.s)
	if err != nil {
		w.Abort()
		return "", usageErr(err)
	}
	defer ds.Close()
	opts := ev.opts
	opts.Progress = newProgress(ev.e, ev.progress, len(ids)*len(targets)*ev.s.Repeats())
	sum, runErr := run.New(targets, ev.metrics, opts).Run(ctx, optimize.Only(ds, ids), w)
	if err := w.Close(sum); err != nil {
		return "", providerErr(err)
	}
	if err := runOutcome(sum, runErr); err != nil {
		return path, fmt.Errorf("%s part: %w", phase, err)
	}
	return path, nil
}

// targets makes the variants ready to run: a candidate is the optimized
// target with the candidate's prompt and params; any other variant is the
// suite's target of that id.
func (ev *engineEvaluator) targets(ctx context.Context, variants []optimize.Variant) ([]run.Target, error) {
	var tcs []*suite.TargetConfig
	for _, v := range variants {
		if v.Candidate == nil {
			t, ok := ev.s.Target(v.ID)
			if !ok {
				return nil, usagef("optimize: no target %q in %s", v.ID, ev.s.Path)
			}
			tcs = append(tcs, t)
			continue
		}
		c := v.Candidate
		tpl, err := suite.NewTemplate(c.ID, c.System, c.User)
		if err != nil {
			return nil, usageErr(err)
		}
		name := "optimize." + c.ID
		ev.s.Templates[name] = tpl
		t := *ev.tc
		t.ID, t.Prompt, t.Params = c.ID, name, c.Params
		if ev.record {
			t.Cassette = "" // recorded below, through one recorder per cassette
		}
		tcs = append(tcs, &t)
	}
	built, closer, err := buildTargets(ctx, ev.e, ev.s, tcs, false, ev.lims)
	if err != nil {
		return nil, err
	}
	ev.closers = append(ev.closers, closer)
	if ev.record && ev.tc.Cassette != "" {
		for i, v := range variants {
			if v.Candidate == nil {
				continue
			}
			r, err := ev.recorder(built[i].Provider)
			if err != nil {
				return nil, err
			}
			built[i].Provider, built[i].Cacheable = r, false
		}
	}
	return built, nil
}

func (ev *engineEvaluator) recorder(inner run.Provider) (*recorded.Recorder, error) {
	path := ev.s.ResolvePath(ev.tc.Cassette)
	if r, ok := ev.recorders[path]; ok {
		return r, nil
	}
	r, err := recorded.NewRecorder(path, inner)
	if err != nil {
		return nil, usagef("target %q: %v", ev.tc.ID, err)
	}
	if ev.recorders == nil {
		ev.recorders = map[string]*recorded.Recorder{}
	}
	ev.recorders[path] = r
	return r, nil
}

// writeWinner writes the winning prompt next to the suite and the config
// snippet that uses it, when the held-out gate passed.
func writeWinner(s *suite.Suite, oc *suite.OptimizeConfig, tc *suite.TargetConfig, rep *optimize.Report, overwrite bool) {
	if rep.Winner == nil || rep.Verdict == nil {
		return
	}
	if rep.Verdict.ExitCode() != ExitPass {
		rep.PromptNote = "the winner did not pass the held-out gate"
		return
	}
	rel := oc.Output
	if rel == "" {
		rel = filepath.Join("prompts", tc.ID+".optimized.txt")
	}
	userPath := s.ResolvePath(rel)
	sysRel := strings.TrimSuffix(rel, filepath.Ext(rel)) + ".system.txt"
	// Written byte for byte: a prompt file is read as it is, and a trailing
	// newline would make a different prompt from the one that won.
	files := map[string]string{userPath: rep.Winner.User}
	if rep.Winner.System != "" {
		files[s.ResolvePath(sysRel)] = rep.Winner.System
	}
	paths := slices.Sorted(maps.Keys(files))
	if !overwrite {
		for _, p := range paths {
			if _, err := os.Stat(p); err == nil {
				rep.PromptNote = p + " exists; rerun with --write to replace it"
				return
			}
		}
	}
	for _, p := range paths {
		text := files[p]
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			rep.PromptNote = err.Error()
			return
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			rep.PromptNote = err.Error()
			return
		}
	}
	rep.PromptPath = userPath
	rep.Snippet = snippet(tc, rep.Winner, rel, sysRel)
}

// snippet is the evalgate.yaml change that uses the winning prompt.
func snippet(tc *suite.TargetConfig, w *optimize.Candidate, userRel, sysRel string) string {
	name := tc.ID + "-optimized"
	var b strings.Builder
	fmt.Fprintf(&b, "prompts:\n  %s:\n", name)
	if w.System != "" {
		fmt.Fprintf(&b, "    system_file: %s\n", filepath.ToSlash(sysRel))
	}
	fmt.Fprintf(&b, "    user_file: %s\ntargets:\n  - id: %s\n    # provider, model and the rest as before\n    prompt: %s\n", filepath.ToSlash(userRel), tc.ID, name)
	var p strings.Builder
	enc := yaml.NewEncoder(&p)
	enc.SetIndent(2)
	if err := enc.Encode(map[string]provider.Params{"params": w.Params}); err == nil && p.String() != "params: {}\n" {
		for _, line := range strings.Split(strings.TrimRight(p.String(), "\n"), "\n") {
			b.WriteString("    " + line + "\n")
		}
	}
	return b.String()
}

func writeReport(dir string, rep *optimize.Report) (mdPath, jsonPath string, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", fmt.Errorf("optimize report: %w", err)
	}
	js, err := rep.JSON()
	if err != nil {
		return "", "", err
	}
	mdPath, jsonPath = filepath.Join(dir, "report.md"), filepath.Join(dir, "report.json")
	if err := os.WriteFile(jsonPath, js, 0o644); err != nil {
		return "", "", fmt.Errorf("optimize report: %w", err)
	}
	if err := os.WriteFile(mdPath, []byte(rep.Markdown()), 0o644); err != nil {
		return "", "", fmt.Errorf("optimize report: %w", err)
	}
	return mdPath, jsonPath, nil
}

func printOptimize(w io.Writer, rep *optimize.Report, mdPath, jsonPath string) {
	fmt.Fprintf(w, "optimize %s: %d candidates tried, %d evaluated on %d dev samples\n", rep.Target, rep.Tried, len(rep.Candidates), rep.DevSamples)
	if rk := rep.Ranking; rk != nil {
		fmt.Fprintf(w, "  %-20s %-11s %s\n", "candidate", "generator", rep.Objective.Metric)
		fmt.Fprintf(w, "  %-20s %-11s %.3f [%.3f, %.3f]\n", rk.Control.ID, rk.Control.Generator, rk.Control.Primary.Est, rk.Control.Primary.Lo, rk.Control.Primary.Hi)
		for _, sc := range rk.Scores {
			fmt.Fprintf(w, "  %-20s %-11s %.3f [%.3f, %.3f]\n", sc.ID, sc.Generator, sc.Primary.Est, sc.Primary.Lo, sc.Primary.Hi)
		}
		fmt.Fprintf(w, "winner: %s (%s)\n", rk.Winner, rk.Why)
	}
	if v := rep.Verdict; v != nil {
		fmt.Fprintf(w, "held-out verdict against %s on %d samples: %s: %s\n", rep.BaselineID, rep.HeldOutSamples, v.Status, v.Reason)
	}
	if rep.PromptPath != "" {
		fmt.Fprintf(w, "wrote %s\n", rep.PromptPath)
	} else if rep.PromptNote != "" {
		fmt.Fprintf(w, "prompt not written: %s\n", rep.PromptNote)
	}
	fmt.Fprintf(w, "spent $%.4f; report: %s, %s\n", rep.SpentUSD, mdPath, jsonPath)
}

// printPlan is --dry-run: candidates x samples x repeats and an upper-bound
// cost from the catalog, with no call made. Generators that call a model
// count as one candidate each.
func printPlan(w io.Writer, s *suite.Suite, oc *suite.OptimizeConfig, tc *suite.TargetConfig, plan optimize.Plan, checks optimize.Checks) error {
	dev, held, err := optimize.Split(plan.Units, plan.Split, plan.Seed)
	if err != nil {
		return usageErr(err)
	}
	var local []optimize.Generator
	if oc.Generators.Rules {
		local = append(local, optimize.Rules{Checks: checks})
	}
	if len(oc.Generators.Files) > 0 {
		var paths []string
		for _, f := range oc.Generators.Files {
			paths = append(paths, s.ResolvePath(f))
		}
		local = append(local, optimize.Files{Paths: paths})
	}
	cands, dropped := optimize.Generate(context.Background(), local, plan.Source, tc.Params, checks)
	est := optimize.Estimate{Candidates: len(cands), DevSamples: len(dev), HeldOutSamples: len(held), Repeats: s.Repeats()}
	if oc.Generators.Metaprompt != nil {
		est.Candidates++
		est.GenerationCalls++
	}
	if oc.Generators.Bedrock != nil {
		est.Candidates++
		est.GenerationCalls++
	}
	devBytes, heldBytes, err := renderedBytes(s, plan.Control, dev, held)
	if err != nil {
		return usageErr(err)
	}
	baselineCalls := true
	if plan.Baseline != "" {
		if bt, ok := s.Target(plan.Baseline); ok && (bt.Provider == suite.ProviderRecorded) {
			baselineCalls = false
		}
	}
	est.Cost(devBytes, heldBytes, tc.Params, priceOf(tc), baselineCalls)
	fmt.Fprintf(w, "optimize plan for target %s (%s), source prompt from %s\n", tc.ID, tc.Model, plan.Source.Origin)
	fmt.Fprintf(w, "  split: %d dev / %d held-out samples (fraction %g, seed %d)\n", len(dev), len(held), plan.Split, plan.Seed)
	for _, c := range cands {
		fmt.Fprintf(w, "  candidate %s (%s)\n", c.ID, c.Generator)
	}
	if oc.Generators.Metaprompt != nil {
		fmt.Fprintf(w, "  candidate metaprompt (one rewrite call to %s)\n", oc.Generators.Metaprompt.Model)
	}
	if oc.Generators.Bedrock != nil {
		fmt.Fprintf(w, "  candidate bedrock (one OptimizePrompt call)\n")
	}
	for _, d := range dropped {
		fmt.Fprintf(w, "  dropped %s: %s\n", orText(d.ID, d.Generator), d.Reason)
	}
	fmt.Fprintf(w, "  dev: (%d candidates + control) x %d samples x %d repeats = %d calls\n", est.Candidates, est.DevSamples, est.Repeats, est.DevCalls)
	fmt.Fprintf(w, "  held-out: winner vs %s x %d samples = %d calls\n", orText(plan.Baseline, "control"), est.HeldOutSamples, est.HeldOutCalls)
	if est.Known {
		fmt.Fprintf(w, "  estimated cost of target calls: at most $%.4f (catalog price, every reply at max_tokens; generation and judges not included)\n", est.CostUSD)
	} else {
		fmt.Fprintf(w, "  estimated cost: unknown (%s has no catalog price; set targets[].pricing)\n", tc.Model)
	}
	if b := s.Config.Run.BudgetUSD; b > 0 || oc.BudgetUSD > 0 {
		fmt.Fprintf(w, "  budget: $%.2f\n", orFloat(oc.BudgetUSD, b))
	}
	fmt.Fprintln(w, "dry run: nothing was called")
	return nil
}

// renderedBytes sums the control prompt's rendered size over the dev and
// held-out samples.
func renderedBytes(s *suite.Suite, control optimize.Candidate, dev, held map[string]bool) (int, int, error) {
	tpl, err := suite.NewTemplate(control.ID, control.System, control.User)
	if err != nil {
		return 0, 0, err
	}
	ds, err := suite.OpenDataset(s)
	if err != nil {
		return 0, 0, err
	}
	defer ds.Close()
	devB, heldB := 0, 0
	for {
		smp, err := ds.Next()
		if err == io.EOF {
			return devB, heldB, nil
		}
		if err != nil {
			return 0, 0, err
		}
		sys, user, err := tpl.Render(smp.Fields)
		if err != nil {
			return 0, 0, fmt.Errorf("dataset %s line %d: %w", s.DatasetPath, smp.Line, err)
		}
		if dev[smp.ID] {
			devB += len(sys) + len(user)
		} else if held[smp.ID] {
			heldB += len(sys) + len(user)
		}
	}
}
