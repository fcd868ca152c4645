package cli

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/evalgate/evalgate/internal/gate"
	"github.com/evalgate/evalgate/internal/report"
	"github.com/evalgate/evalgate/internal/suite"
	"github.com/evalgate/evalgate/internal/trend"
)

// reportOptions are the flags of `evalgate report` besides compare's.
type reportOptions struct {
	compareOptions
	html, markdown, json string
	title                string
	history              string
}

func reportCommand() command {
	return command{
		name:    "report",
		summary: "write a run's comparison with a baseline as an HTML page (charts and every sample), Markdown or JSON",
		usage:   "RESULTS[#target]",
		flags: func(fs *flag.FlagSet) func(context.Context, *Env, []string) error {
			var o reportOptions
			fs.StringVar(&o.baseline, "baseline", "", "baseline results `FILE[#target]` (default: the suite's gate.baseline, with --config)")
			fs.StringVar(&o.config, "config", "", "take the baseline, the criteria and the gate settings from this suite `file` (evalgate.yaml)")
			fs.Var((*multiFlag)(&o.criteria), "criterion", "a success criterion `METRIC:KEY=VALUE,...` (repeatable; replaces the suite's), as for compare")
			fs.StringVar(&o.mode, "mode", "", "default mode of criteria: regression or non_inferiority (default: the suite's, else regression)")
			fs.Float64Var(&o.confidence, "confidence", 0, "confidence level of intervals and tests (default: the suite's, else 0.95)")
			fs.StringVar(&o.html, "html", "", "write the HTML report to `file`")
			fs.StringVar(&o.markdown, "markdown", "", "write the Markdown report (the PR comment) to `file`")
			fs.StringVar(&o.json, "json", "", "write the JSON verdict to `file`")
			fs.StringVar(&o.history, "history", "", "draw each check's trend from this history `file` of scheduled runs (run --history), read only")
			fs.StringVar(&o.title, "title", "", "the report's heading (default: the suite's name with --config, else evalgate)")
			fs.BoolVar(&o.allowMismatch, "allow-suite-mismatch", false, "compare results of differently named suites")
			fs.BoolVar(&o.allowInputs, "allow-input-mismatch", false, "compare pairs whose input or reference differs between the two results")
			fs.BoolVar(&o.allowOutside, "allow-outside", false, allowOutsideUsage+" (with --config)")
			return func(ctx context.Context, e *Env, args []string) error {
				if len(args) != 1 {
					return usagef("want one results file: evalgate report --html report.html RESULTS.jsonl[#target] --baseline BASE.jsonl[#target]")
				}
				o.target = args[0]
				set := map[string]bool{}
				fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
				return writeReports(ctx, e, o, set)
			}
		},
	}
}

// writeReports is `evalgate report`: compare as compare does, then write each
// format asked for. The verdict is printed, not turned into the exit code:
// this command draws a comparison, compare and run gate on it.
func writeReports(ctx context.Context, e *Env, o reportOptions, set map[string]bool) error {
	if o.html == "" && o.markdown == "" && o.json == "" {
		return usagef("name at least one output: --html FILE, --markdown FILE or --json FILE")
	}
	target, err := gate.ParseSide(o.target)
	if err != nil {
		return usagef("results: %v", err)
	}
	cfg, s, err := compareConfig(ctx, e, o.compareOptions, set)
	if err != nil {
		return err
	}
	title := o.title
	if title == "" && s != nil {
		title = s.Config.Name
	}
	base, err := reportBaseline(o, s, target)
	if err != nil {
		return err
	}
	v, err := compareSides(ctx, base, target, cfg)
	if err != nil {
		return err
	}
	if o.json != "" {
		js, err := report.JSON(v, verdictCode(v))
		if err != nil {
			return providerErr(err)
		}
		if err := writeOut(o.json, js); err != nil {
			return err
		}
	}
	if o.markdown != "" {
		if err := writeOut(o.markdown, []byte(report.Markdown(v, report.Options{Title: title}))); err != nil {
			return err
		}
	}
	if o.html != "" {
		var history []trend.Entry
		if o.history != "" {
			// report only reads a history: one that is not there is a
			// mistyped path, not a first run.
			if _, err := os.Stat(o.history); err != nil {
				return usageErr(fmt.Errorf("--history: %w", err))
			}
			if history, err = trend.Read(o.history); err != nil {
				return usageErr(fmt.Errorf("--history: %w", err))
			}
		}
		if err := writeHTML(ctx, v, o.html, report.HTMLOptions{Title: title, History: history}); err != nil {
			return err
		}
		fmt.Fprintf(e.Stdout, "wrote %s\n", o.html)
	}
	fmt.Fprintf(e.Stdout, "verdict %s: %s\n", v.Status, report.DropBidi(v.Reason))
	return nil
}

// reportBaseline is --baseline, else the gate.baseline of the suite s (nil
// without --config): a target of the same results file, or a results file of
// its own.
func reportBaseline(o reportOptions, s *suite.Suite, target gate.Side) (gate.Side, error) {
	if o.baseline != "" {
		b, err := gate.ParseSide(o.baseline)
		if err != nil {
			return b, usagef("--baseline: %v", err)
		}
		return b, nil
	}
	if s == nil {
		return gate.Side{}, usagef("name the baseline: --baseline BASE.jsonl[#target], or --config evalgate.yaml for its gate.baseline")
	}
	name := s.Config.Gate.Baseline
	if name == "" {
		return gate.Side{}, usagef("%s names no gate.baseline: give --baseline BASE.jsonl[#target]", s.Path)
	}
	if _, ok := s.Target(name); ok {
		return gate.Side{Path: target.Path, Target: name}, nil
	}
	b, err := gate.ParseSide(name)
	if err != nil {
		return b, usagef("%s gate.baseline: %v", s.Path, err)
	}
	b.Path = s.ResolvePath(b.Path)
	return b, nil
}

// writeHTML reads the verdict's pairs again and writes the HTML report.
func writeHTML(ctx context.Context, v *gate.Verdict, path string, opts report.HTMLOptions) error {
	pairs, err := gate.ReadPairs(ctx, v, 0)
	if err != nil {
		return usageErr(fmt.Errorf("html report: %w", err))
	}
	page, err := report.HTML(v, pairs, opts)
	if err != nil {
		return providerErr(err)
	}
	if err := os.WriteFile(path, page, 0o644); err != nil {
		return providerErr(fmt.Errorf("write html report: %w", err))
	}
	return nil
}

// writeOut writes a report to a file.
func writeOut(path string, body []byte) error {
	if err := os.WriteFile(path, body, 0o644); err != nil {
		return providerErr(fmt.Errorf("write report %s: %w", path, err))
	}
	return nil
}
