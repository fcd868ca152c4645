package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

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
	// allowOutside: see runOptions.
	allowOutside bool
	// pricing: see runOptions.
	pricing string
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
			fs.BoolVar(&o.allowOutside, "allow-outside", false, allowOutsideUsage)
			fs.StringVar(&o.pricing, "pricing", "", pricingUsage)
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
	// 1. Load the suite; flags override its optimize section.
	s, err := loadSuite(ctx, e, o.config, "", o.allowOutside)
	if err != nil {
		return loadErr(err)
	}
	if err := usePricing(s, o.pricing); err != nil {
		return err
	}
	if o.split < 0 || o.split >= 1 || o.budget < 0 {
		return usagef("--split is a fraction between 0 and 1 and --budget a positive amount")
	}
	if o.noCache {
		off := false
		s.Config.Run.Cache = &off
	}
	if oc := s.Config.Optimize; oc != nil {
		// Duplicate ids and rows missing the target's prompt fields, as
		// `evalgate run` reports them.
		tc, _ := s.Target(oc.Target)
		if _, err := preflight(ctx, s, []*suite.TargetConfig{tc}); err != nil {
			return loadErr(err)
		}
	}
	// 2. Read the dataset and the source prompt, and fix the split and the
	// objective: nothing is called before the plan is sound.
	set := optimize.Settings{Split: o.split}
	if o.seedSet {
		set.Seed = &o.seed
	}
	p, err := optimize.Prepare(s, set)
	if err != nil {
		return usageErr(err)
	}
	oc, tc := p.Config, p.Target
	if !p.Priced && tc.Pricing == nil {
		fmt.Fprintf(e.Stderr, "note: %s is not in the catalog: the context-window check is skipped and cost is unknown\n", tc.Model)
	}
	// 3. --dry-run: the plan and its cost, before any call.
	if o.dryRun {
		price := func(model string) *pricing.Price {
			if model == tc.Model {
				return priceOf(s, tc)
			}
			return priceOf(s, &suite.TargetConfig{Model: model})
		}
		d, err := optimize.PlanDryRun(s, p, price)
		if err != nil {
			return usageErr(err)
		}
		fmt.Fprint(e.Stdout, d.Text())
		return nil
	}
	// 4. One caller for everything optimize calls: generation, dev and
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
	// 5. Generate and check the candidates: a failing one is reported and
	// dropped, never evaluated.
	gens, closeGens, err := generators(ctx, e, s, p, caller, lims, o.record)
	if err != nil {
		return err
	}
	closers = append(closers, closeGens)
	cands, dropped := optimize.Generate(ctx, gens, p.Source, tc.Params, p.Checks)
	for _, d := range dropped {
		fmt.Fprintf(e.Stderr, "dropped %s: %s\n", orText(d.ID, d.Generator), d.Reason)
	}
	if len(cands) == 0 {
		return noCandidates(dropped)
	}
	plan := p.Plan
	plan.Candidates = cands
	// 6. Select on the dev part, gate the winner on the held-out part.
	metrics, pairwise, closeMetrics, err := buildMetrics(ctx, e, s, caller, lims)
	if err != nil {
		return err
	}
	// Pairwise preference is judged after a run, between two targets; the
	// dev and held-out comparisons do not ask for it. Say so rather than
	// leave the metric out silently.
	for _, p := range pairwise {
		fmt.Fprintf(e.Stderr, "evalgate optimize: warning: pairwise metric %s is not judged by optimize (it compares two targets after a run); use evalgate run on the snippet to judge it\n", p.Name)
	}
	closers = append(closers, closeMetrics)
	dir := o.out
	if dir == "" {
		dir = filepath.Join(filepath.Dir(s.ResultsPath()), "optimize")
	}
	ev := &engineEvaluator{e: e, s: s, tc: tc, dir: dir, opts: opts, metrics: metrics, lims: lims, record: o.record, progress: o.progress}
	defer ev.close()
	out, runErr := optimize.Run(ctx, plan, ev)
	// 7. Write what was found, whatever happened after the dev part.
	rep := &optimize.Report{Suite: s.Config.Name, Target: tc.ID, Model: tc.Model, Source: p.Source, Objective: plan.Objective, Split: plan.Split, Seed: plan.Seed,
		Tried: len(cands) + len(dropped), Control: plan.Control, Candidates: cands, Dropped: dropped, SpentUSD: caller.Spent()}
	for _, g := range gens {
		rep.Generators = append(rep.Generators, g.Name())
	}
	if out != nil {
		rep.DevSamples, rep.HeldOutSamples = len(out.DevIDs), len(out.HeldOutIDs)
		rep.Ranking, rep.Verdict, rep.BaselineID, rep.DevPath, rep.HeldPath = out.Ranking, out.Verdict, out.BaselineID, out.DevPath, out.HeldOutPath
		if out.Winner.ID != "" {
			rep.Winner = &out.Winner
		}
	}
	if runErr == nil {
		optimize.WriteWinner(s, p, rep, o.write)
	}
	mdPath, jsonPath, werr := optimize.WriteReport(dir, rep)
	if werr != nil {
		return providerErr(werr)
	}
	printOptimize(e.Stdout, rep, mdPath, jsonPath)
	if runErr != nil {
		return optimizeErr(runErr)
	}
	if code := verdictCode(rep.Verdict); code != ExitPass {
		return outcome(code, "held-out verdict %s: %s", rep.Verdict.Status, rep.Verdict.Reason)
	}
	return nil
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
// metaprompt's and Bedrock's calls go through caller, like a judge's.
func generators(ctx context.Context, e *Env, s *suite.Suite, p *optimize.Prepared, caller *run.Caller, lims *limiters, record bool) ([]optimize.Generator, func(), error) {
	gens := p.LocalGenerators(s)
	var closers []func()
	closeAll := func() {
		for _, c := range closers {
			c()
		}
	}
	g, tc := p.Config.Generators, p.Target
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
		b, closer, err := bedrockOptimizer(ctx, s, g.Bedrock, tc, caller, lims, record)
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		closers = append(closers, closer)
		gens = append(gens, b)
	}
	return gens, closeAll, nil
}

// noCandidates is the error when every candidate was dropped: a provider
// failure when a model call failed (throttled, denied, down), else the
// input's fault (a rejected request, such as a model the service does not
// optimize for, is the config's to change).
func noCandidates(dropped []optimize.Dropped) error {
	var reasons []string
	callFailed := false
	for _, d := range dropped {
		reasons = append(reasons, orText(d.ID, d.Generator)+": "+d.Reason)
		callFailed = callFailed || (d.Kind != "" && provider.ParseErrorKind(d.Kind) != provider.KindInvalidRequest)
	}
	err := fmt.Errorf("no candidate to evaluate (%s)", strings.Join(reasons, "; "))
	if len(dropped) == 0 {
		err = errors.New("no candidate to evaluate: the generators proposed nothing that differs from the source prompt; add files or a metaprompt to optimize.generators")
	}
	if callFailed {
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
	hdr, err := header(ctx, ev.s, targets, ev.metrics)
	if err != nil {
		return "", err
	}
	w, err := results.Create(path, hdr)
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
		// optimize.Run names the part.
		return path, err
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
