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
		more:    gateEnvHelp,
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

// gateEnvHelp lists what the gate reads instead of flags: the action's
// inputs (action.yml; a test keeps the two in step) and the github context.
const gateEnvHelp = `
Settings (environment; in GitHub Actions set by the step's with: inputs):
  INPUT_CONFIG             suite configs: one path, several (newlines or commas), or globs (default evalgate.yaml)
  INPUT_GITHUB-TOKEN       token for the GitHub API: comments, artifacts, changed files, issues (masked)
  INPUT_BASELINE           auto (default), artifact, base, suite, or a results FILE[#target]
  INPUT_BASELINE-WORKFLOW  the workflow file whose runs upload the baseline artifact (default: this one)
  INPUT_MODE               regression or non_inferiority (overrides gate.mode)
  INPUT_COMMENT            true (default) or false: one sticky comment per suite on the pull request
  INPUT_ISSUE              true (default) or false: a tracking issue per failing suite on scheduled runs
  INPUT_FORCE              true or false (default): run every suite, not only those the change touches
  INPUT_BUDGET             stop new model calls past this many USD (overrides run.budget_usd)
  INPUT_CONCURRENCY        model calls in flight at once (overrides run.concurrency)
  INPUT_SEQUENTIAL         true or false: stop calling once the verdict is settled (overrides run.sequential)
  INPUT_FAIL-ON            regressed (default), inconclusive or error, optionally with publish

GitHub context read: GITHUB_EVENT_NAME, GITHUB_EVENT_PATH, GITHUB_REPOSITORY, GITHUB_SHA,
GITHUB_WORKSPACE, GITHUB_API_URL, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY and the other GITHUB_*
variables the runner sets. Exit codes as for run: 0 pass, 1 regressed, 2 usage, 3 provider, 4 incomplete.
`

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
		baseline: req.Baseline, mode: req.Mode, concurrency: req.Concurrency, budget: req.Budget, sequential: req.Sequential, progress: progress,
		history: req.History, historyRun: req.HistoryRun})
	if err != nil {
		err = &action.Error{Class: codeClass(exitCode(err)), Err: err}
	}
	if s == nil {
		return nil, err
	}
	return &action.SuiteRun{Verdict: s.verdict, ResultsPath: s.resultsPath, ReportPath: s.reportPath, HTMLPath: s.htmlPath,
		Summary: s.summary, GateSkipped: s.gateSkipped}, err
}
