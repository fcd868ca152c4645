package cli

import (
	"context"
	"errors"
	"flag"
	"strings"

	"github.com/evalgate/evalgate/internal/action"
)

// gateCommand is the GitHub Action's entry point: every setting comes from
// the step's inputs (INPUT_*) and the github context (GITHUB_*).
func gateCommand() command {
	return command{
		name:    "gate",
		summary: "the GitHub Action: run the changed suites, compare with the base branch, report on the pull request",
		flags: func(fs *flag.FlagSet) func(context.Context, *Env, []string) error {
			return func(ctx context.Context, e *Env, args []string) error {
				if len(args) > 0 {
					return usagef("unexpected argument %q: the gate reads its settings from the action's inputs (INPUT_*)", args[0])
				}
				return runGate(ctx, e)
			}
		},
	}
}

// runGate runs the action with the run engine behind it.
func runGate(ctx context.Context, e *Env) error {
	err := action.Run(ctx, action.Deps{Getenv: e.Getenv, Stdout: e.Stdout, Runner: suiteRunner{e}, Version: Version})
	var ae *action.Error
	if errors.As(err, &ae) {
		return &exitError{classCodes[ae.Class], err}
	}
	return err
}

// classCodes are the exit codes of the action's outcome classes.
var classCodes = map[action.Class]int{
	action.ClassIncomplete: ExitIncomplete,
	action.ClassRegressed:  ExitRegressed,
	action.ClassInfra:      ExitProvider,
	action.ClassUsage:      ExitUsage,
}

// codeClass is the action's class of an exit code (classCodes inverted).
func codeClass(code int) action.Class {
	for class, c := range classCodes {
		if c == code {
			return class
		}
	}
	return action.ClassInfra
}

// suiteRunner runs the action's suites as `evalgate run` does.
type suiteRunner struct{ e *Env }

var _ action.Runner = suiteRunner{}

// RunSuite runs one suite; its error carries the class of its exit code.
func (r suiteRunner) RunSuite(ctx context.Context, req action.RunRequest) (*action.SuiteRun, error) {
	progress := "lines"
	if req.Quiet {
		progress = "off"
	}
	s, err := executeSuite(ctx, r.e, runOptions{config: req.Config, root: req.Root, out: req.Out, targets: strings.Join(req.Targets, ","),
		baseline: req.Baseline, mode: req.Mode, concurrency: req.Concurrency, budget: req.Budget, progress: progress})
	if err != nil {
		err = &action.Error{Class: codeClass(exitCode(err)), Err: err}
	}
	if s == nil {
		return nil, err
	}
	return &action.SuiteRun{Verdict: s.verdict, ResultsPath: s.resultsPath, ReportPath: s.reportPath,
		Summary: s.summary, GateSkipped: s.gateSkipped}, err
}
