package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/evalgate/evalgate/internal/gate"
	"github.com/evalgate/evalgate/internal/report"
	"github.com/evalgate/evalgate/internal/suite"
)

// compareOptions are the flags of `evalgate compare`.
type compareOptions struct {
	baseline, target string
	config           string
	criteria         []string
	agreement        []string
	mode             string
	confidence       float64
	cluster          string
	monthlyCalls     int
	samples          int
	format           string
	out              string
	allowMismatch    bool
	allowInputs      bool
	allowOutside     bool
}

// multiFlag collects a repeatable flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, " ") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func compareCommand() command {
	return command{
		name:    "compare",
		summary: "compare a target's results with a baseline's and check the success criteria",
		flags: func(fs *flag.FlagSet) func(context.Context, *Env, []string) error {
			var o compareOptions
			fs.StringVar(&o.baseline, "baseline", "", "baseline results `FILE[#target]` (required)")
			fs.StringVar(&o.target, "target", "", "target results `FILE[#target]` (required)")
			fs.StringVar(&o.config, "config", "", "take the criteria and gate settings from this suite `file` (evalgate.yaml)")
			fs.Var((*multiFlag)(&o.criteria), "criterion", "a success criterion `METRIC:KEY=VALUE,...` (repeatable; replaces the suite's), e.g. correctness:max_drop=0.05 or latency_p95:max_increase=25%,severity=warn")
			fs.Var((*multiFlag)(&o.agreement), "agreement", "a judge metric and the human metric it should agree with, `JUDGE=HUMAN[@THRESHOLD]` (repeatable; *_judge/*_human names pair by themselves)")
			fs.StringVar(&o.mode, "mode", "", "default mode of criteria: regression (fail only on a significant drop beyond the margin) or non_inferiority (pass only when shown within it) (default: the suite's, else regression)")
			fs.Float64Var(&o.confidence, "confidence", 0, "confidence level of intervals and tests (default: the suite's, else 0.95)")
			fs.StringVar(&o.cluster, "cluster", "", "cluster `field` for cluster-robust errors (default: the suite's or the results header's; \"\" turns clustering off)")
			fs.IntVar(&o.monthlyCalls, "monthly-calls", 0, "project cost to this many `calls` a month (default: the suite's gate.monthly_calls)")
			fs.IntVar(&o.samples, "samples", 0, "most regressed and most improved samples to show (default 5, -1 for none)")
			fs.StringVar(&o.format, "format", "markdown", "report format: markdown or json")
			fs.StringVar(&o.out, "out", "", "write the report to `file` instead of standard output")
			fs.BoolVar(&o.allowMismatch, "allow-suite-mismatch", false, "compare results of differently named suites")
			fs.BoolVar(&o.allowInputs, "allow-input-mismatch", false, "compare pairs whose input or reference differs between the two results (refused by default: they are not the same samples)")
			fs.BoolVar(&o.allowOutside, "allow-outside", false, allowOutsideUsage+" (with --config)")
			return func(ctx context.Context, e *Env, args []string) error {
				if len(args) > 0 {
					return usagef("unexpected argument %q (results are given with --baseline and --target)", args[0])
				}
				set := map[string]bool{}
				fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
				return compareResults(ctx, e, o, set)
			}
		},
	}
}

// compareResults is `evalgate compare`: build the gate's settings, compare,
// render, and turn the verdict into the exit code.
func compareResults(ctx context.Context, e *Env, o compareOptions, set map[string]bool) error {
	if o.baseline == "" || o.target == "" {
		return usagef("--baseline and --target are required: evalgate compare --baseline BASE.jsonl[#target] --target TARGET.jsonl[#target]")
	}
	if o.format != "markdown" && o.format != "json" {
		return usagef("--format %q: want markdown or json", o.format)
	}
	base, err := gate.ParseSide(o.baseline)
	if err != nil {
		return usagef("--baseline: %v", err)
	}
	target, err := gate.ParseSide(o.target)
	if err != nil {
		return usagef("--target: %v", err)
	}
	cfg, s, err := compareConfig(ctx, e, o, set)
	if err != nil {
		return err
	}
	title := ""
	if s != nil {
		title = s.Config.Name
	}
	v, err := compareSides(ctx, base, target, cfg)
	if err != nil {
		return err
	}
	var body []byte
	if o.format == "json" {
		if body, err = report.JSON(v, verdictCode(v)); err != nil {
			return providerErr(err)
		}
	} else {
		body = []byte(report.Markdown(v, report.Options{Title: title}))
	}
	if o.out != "" {
		if err := os.WriteFile(o.out, body, 0o644); err != nil {
			return providerErr(fmt.Errorf("write report: %w", err))
		}
	} else if _, err := e.Stdout.Write(body); err != nil {
		return providerErr(fmt.Errorf("write report: %w", err))
	}
	if code := verdictCode(v); code != ExitPass {
		return outcome(code, "verdict %s: %s", v.Status, v.Reason)
	}
	if v.Status == gate.StatusInconclusive {
		fmt.Fprintf(e.Stderr, "evalgate compare: warning: %s\n", v.Reason)
	}
	return nil
}

// compareSides checks that both sides are whole runs and compares them; its
// error carries the exit code.
func compareSides(ctx context.Context, base, target gate.Side, cfg gate.Config) (*gate.Verdict, error) {
	if err := wholeRuns(base.Path, target.Path); err != nil {
		return nil, err
	}
	v, err := gate.Compare(ctx, base, target, cfg)
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return nil, outcome(ExitIncomplete, "compare %s with %s: %v", target, base, err)
		}
		return nil, usageErr(fmt.Errorf("compare %s with %s: %w", target, base, err))
	}
	return v, nil
}

// compareConfig builds the gate's settings: the suite's (--config, returned
// too; nil without one), then the flags given on the command line over them.
func compareConfig(ctx context.Context, e *Env, o compareOptions, set map[string]bool) (gate.Config, *suite.Suite, error) {
	var cfg gate.Config
	var s *suite.Suite
	if o.config != "" {
		var err error
		if s, err = loadSuite(ctx, e, o.config, "", o.allowOutside); err != nil {
			return cfg, nil, loadErr(fmt.Errorf("--config: %w", err))
		}
		cfg = gate.FromSuite(&s.Config)
	}
	if len(o.criteria) > 0 {
		cfg.Criteria = nil
		for _, c := range o.criteria {
			cr, err := gate.ParseCriterion(c)
			if err != nil {
				return cfg, nil, usagef("--criterion: %v", err)
			}
			cfg.Criteria = append(cfg.Criteria, cr)
		}
	}
	for _, a := range o.agreement {
		p, err := gate.ParseAgreement(a)
		if err != nil {
			return cfg, nil, usagef("--agreement: %v", err)
		}
		cfg.Agreement = append(cfg.Agreement, p)
	}
	if set["mode"] {
		m, err := suite.ParseMode(o.mode)
		if err != nil {
			return cfg, nil, usagef("--mode %v", err)
		}
		cfg.Mode = m
	}
	if set["confidence"] {
		cfg.Confidence = o.confidence
	}
	if set["cluster"] {
		// An empty field turns clustering off rather than falling back to
		// the suite's or the results' field.
		cfg.Cluster, cfg.NoCluster = o.cluster, o.cluster == ""
	}
	if set["monthly-calls"] {
		cfg.MonthlyCalls = o.monthlyCalls
	}
	cfg.Samples, cfg.AllowSuiteMismatch, cfg.AllowInputMismatch = o.samples, o.allowMismatch, o.allowInputs
	return cfg, s, nil
}
