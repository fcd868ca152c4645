// Package action is evalgate's GitHub Action: the publish step of the data
// flow. It reads the step's inputs and the event, finds the suites a pull
// request touched, chooses each one's baseline, has the suites run (by the
// Runner it is given), and publishes the outcome: the sticky pull-request
// comment, the tracking issue of scheduled runs, annotations, the step
// summary and the step's outputs.
//
// The runner's side of the step goes through go-githubactions (inputs,
// outputs, annotations, masks, the summary) and GitHub's REST API through
// ghapi (go-github).
package action

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/sethvargo/go-githubactions"

	"github.com/evalgate/evalgate/internal/gate"
	"github.com/evalgate/evalgate/internal/ghapi"
	"github.com/evalgate/evalgate/internal/report"
	"github.com/evalgate/evalgate/internal/results"
	"github.com/evalgate/evalgate/internal/trend"
)

// Runner runs one suite the way `evalgate run` does: results file, verdict
// and Markdown report. The error it returns carries its Class (see Error);
// the SuiteRun is nil only when nothing ran.
type Runner interface {
	RunSuite(ctx context.Context, req RunRequest) (*SuiteRun, error)
}

// RunRequest is one suite to run.
type RunRequest struct {
	// Config is the suite's config file.
	Config string
	// Root is the directory every file the suite names must resolve into
	// ("" for the workspace): the base revision's checkout.
	Root string
	// Out is the results file ("" for the suite's run.results).
	Out string
	// Targets limits the run to these target ids (all when empty).
	Targets []string
	// Baseline overrides gate.baseline: FILE#target ("" for the suite's own).
	Baseline string
	// Mode overrides gate.mode ("" for the suite's own).
	Mode string
	// Concurrency and Budget override run.concurrency and run.budget_usd
	// when positive.
	Concurrency int
	Budget      float64
	// Sequential is "true" or "false" to override run.sequential ("" for
	// the suite's own).
	Sequential string
	// Quiet turns progress lines off (the base revision's run).
	Quiet bool
	// History is the file of the suite's scheduled runs that a gated run
	// appends its verdict to ("" for none); HistoryRun names this run in it.
	History    string
	HistoryRun trend.Run
}

// SuiteRun is what running a suite produced.
type SuiteRun struct {
	// Verdict is nil when the suite was not compared with a baseline.
	Verdict *gate.Verdict
	// ResultsPath, ReportPath and HTMLPath are the results file, the
	// Markdown report and the HTML report ("" without a verdict).
	ResultsPath string
	ReportPath  string
	HTMLPath    string
	// Summary is the results' summary (records and errors per target).
	Summary results.Summary
	// GateSkipped says why a suite that names a baseline was not compared.
	GateSkipped string
}

// Deps is what the action needs of the process and of the rest of evalgate.
type Deps struct {
	// Getenv reads the step's environment (INPUT_*, GITHUB_*).
	Getenv func(string) string
	// Stdout receives the workflow commands (annotations, groups, masks).
	Stdout io.Writer
	// Runner runs the suites.
	Runner Runner
	// Version is evalgate's version, shown in the reports.
	Version string
	// Retry bounds the waits on GitHub's rate limits (defaults when zero).
	Retry ghapi.RetryPolicy
}

// Statuses the action adds to the gate's verdicts: a suite not run because
// the pull request touched none of its files, and a suite run without a
// baseline to compare with. Neither is ever reported as a pass.
const (
	statusSkipped = "skipped"
	statusUngated = "ungated"
)

// job is one run of the action.
type job struct {
	d         Deps
	out       console
	in        inputs
	ev        *event
	api       *ghapi.Client // nil without a token
	workspace string
	tmp       string
	// summary is the step summary, written at the end under the publish
	// problems, so that a missing comment is the first thing read.
	summary strings.Builder
	// problems are what could not be published on the pull request.
	problems []string
}

// Run is the action from start to end. The error it returns carries the
// Class the step ends with; nil is a pass (or nothing to gate: skipped).
func Run(ctx context.Context, d Deps) error {
	a := githubactions.New(githubactions.WithGetenv(d.Getenv), githubactions.WithWriter(d.Stdout))
	j := &job{d: d, out: console{a}}
	outs, err := j.run(ctx, a)
	if err != nil {
		// Nothing was gated: the step still says why everywhere a reader
		// looks (an annotation, the summary, the verdict output).
		j.out.errorf(where{title: "evalgate"}, "%v", err)
		j.summary.Reset()
		j.summary.WriteString(report.ActionFatal(err.Error()))
		j.writeSummary()
		j.writeOutputs(nil)
		return err
	}
	j.writeSummary()
	if err := j.writeOutputs(outs); err != nil {
		return err
	}
	return j.verdict(outs)
}

// run reads the inputs and the event, then gates each suite.
func (j *job) run(ctx context.Context, a *githubactions.Action) ([]*suiteOutcome, error) {
	// 1. The inputs; the token is masked before anything could print it.
	in, err := readInputs(a)
	// The runner masks line by line: each line of a multi-line value is
	// masked on its own.
	for _, line := range strings.Split(in.token, "\n") {
		if strings.TrimSpace(line) != "" {
			a.AddMask(strings.TrimSpace(line))
		}
	}
	if err != nil {
		return nil, err
	}
	j.in = in
	// 2. The event: which pull request, which branch, which workflow.
	if j.ev, err = readEvent(a); err != nil {
		return nil, err
	}
	j.workspace = j.ev.Workspace
	if j.workspace == "" {
		j.workspace = "."
	}
	if in.token != "" && j.ev.Repository != "" {
		j.api, err = ghapi.New(ghapi.Options{APIURL: j.ev.APIURL, Token: in.token, Repository: j.ev.Repository, Retry: j.d.Retry})
		if err != nil {
			return nil, usage(err)
		}
	}
	tmpRoot := j.d.Getenv("TMPDIR")
	if tmpRoot == "" {
		tmpRoot = os.TempDir()
	}
	if j.tmp, err = os.MkdirTemp(tmpRoot, "evalgate-"); err != nil {
		return nil, infra(fmt.Errorf("temporary directory: %w", err))
	}
	defer os.RemoveAll(j.tmp)
	// 3. The suites and, on a pull request, the files it changed.
	configs, err := j.findConfigs()
	if err != nil {
		return nil, err
	}
	changed := j.changedFiles(ctx)
	if j.api == nil && j.ev.pullRequest() != nil && j.in.comment {
		j.problem("no github-token: the reports cannot be posted on the pull request; give the step `github-token: ${{ github.token }}` (a `docker://` step gets no default)")
	}
	// 4. Gate each suite and publish its report.
	var outs []*suiteOutcome
	for _, cfg := range configs {
		outs = append(outs, j.gateSuite(ctx, cfg, changed))
	}
	return outs, nil
}

// findConfigs expands the config input (paths or globs, relative to the
// workspace) into workspace-relative config paths.
func (j *job) findConfigs() ([]string, error) {
	var out []string
	for _, pat := range j.in.configs {
		matches, err := filepath.Glob(filepath.Join(j.workspace, pat))
		if err != nil {
			return nil, usage(fmt.Errorf("input config: %q: %w", pat, err))
		}
		if len(matches) == 0 {
			return nil, usage(fmt.Errorf("input config: %q matches no file in the workspace %s; check the path, and that the workflow checks out the repository (actions/checkout) first", pat, j.workspace))
		}
		for _, m := range matches {
			rel, err := filepath.Rel(j.workspace, m)
			if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
				return nil, usage(fmt.Errorf("input config: %s is outside the workspace", m))
			}
			if rel = filepath.ToSlash(rel); !slices.Contains(out, rel) {
				out = append(out, rel)
			}
		}
	}
	return out, nil
}

// changedFiles returns the files a pull request changes, or nil when every
// suite runs (not a pull request, the force input, or the files cannot be
// listed: running too much is safer than skipping a change).
func (j *job) changedFiles(ctx context.Context) map[string]bool {
	pr := j.ev.pullRequest()
	if pr == nil || j.in.force {
		return nil
	}
	if j.api == nil {
		j.out.warningf(where{title: "evalgate"}, "no github-token: cannot list the pull request's files, so every suite runs")
		return nil
	}
	files, err := j.api.ChangedFiles(ctx, pr.GetNumber())
	if err != nil {
		j.out.warningf(where{title: "evalgate"}, "cannot list the pull request's files (%v), so every suite runs", err)
		return nil
	}
	set := map[string]bool{}
	for _, f := range files {
		set[f] = true
	}
	return set
}

// problem records what could not be published on the pull request: an
// error annotation now, a line at the top of the step summary at the end.
func (j *job) problem(msg string) {
	j.problems = append(j.problems, msg)
	j.out.errorf(where{title: "evalgate: pull-request comment not posted"}, "%s", msg)
}

// writeSummary writes the step summary: the publish problems, then each
// suite's report.
func (j *job) writeSummary() {
	md := report.ActionProblems(j.problems) + j.summary.String()
	if md == "" {
		return
	}
	if err := j.out.addStepSummary(md); err != nil && !errors.Is(err, errNoFile) {
		j.out.warningf(where{title: "evalgate"}, "step summary: %v", err)
	}
}

// writeOutputs sets the step's outputs (all of them, empty when no suite
// ran, so that later steps can test them).
func (j *job) writeOutputs(outs []*suiteOutcome) error {
	var resultsPaths, reports, urls, artifacts, htmls, htmlArtifacts, histories, historyArtifacts []string
	verdicts := map[string]string{}
	for _, o := range outs {
		verdicts[o.name] = o.status
		if o.results != "" {
			resultsPaths = append(resultsPaths, o.results)
			artifacts = append(artifacts, ArtifactName(o.name))
		}
		if o.report != "" {
			reports = append(reports, o.report)
		}
		if o.html != "" {
			htmls = append(htmls, o.html)
			htmlArtifacts = append(htmlArtifacts, HTMLArtifactName(o.name))
		}
		if o.history != "" {
			histories = append(histories, o.history)
			historyArtifacts = append(historyArtifacts, HistoryArtifactName(o.name))
		}
		if o.commentURL != "" {
			urls = append(urls, o.commentURL)
		}
	}
	overall := string(gate.StatusError)
	if outs != nil {
		overall = overallStatus(outs)
	}
	js, err := json.Marshal(verdicts)
	if err != nil {
		return infra(fmt.Errorf("output verdicts: %w", err))
	}
	values := map[string]string{
		"verdict":          overall,
		"verdicts":         string(js),
		"results-path":     strings.Join(resultsPaths, "\n"),
		"report-path":      strings.Join(reports, "\n"),
		"comment-url":      strings.Join(urls, "\n"),
		"artifact-name":    strings.Join(artifacts, "\n"),
		"html-path":        strings.Join(htmls, "\n"),
		"html-artifact":    strings.Join(htmlArtifacts, "\n"),
		"history-path":     strings.Join(histories, "\n"),
		"history-artifact": strings.Join(historyArtifacts, "\n"),
	}
	for _, name := range Outputs {
		if err := j.out.setOutput(name, values[name]); err != nil && !errors.Is(err, errNoFile) {
			return infra(fmt.Errorf("output %s: %w", name, err))
		}
	}
	return nil
}

// verdict turns the suites' outcomes and the fail-on input into how the
// step ends.
func (j *job) verdict(outs []*suiteOutcome) error {
	worst := classPass
	var worstErr error
	for _, o := range outs {
		c := o.class
		if o.status == string(gate.StatusInconclusive) && j.in.failOn == failOnInconclusive {
			c = max(c, ClassRegressed)
		}
		if c == ClassRegressed && j.in.failOn == failOnError {
			j.out.warningf(where{title: "evalgate: " + o.name}, "%s %s; not failing the step (fail-on: error)", o.name, o.status)
			c = classPass
		}
		if c > worst {
			worst, worstErr = c, o.err
		}
	}
	if j.in.failOnPublish && len(j.problems) > 0 && worst < ClassInfra {
		return &Error{Class: ClassInfra, Err: fmt.Errorf("the report could not be published on the pull request (fail-on: publish): %s", strings.Join(j.problems, "; "))}
	}
	if worst == classPass {
		return nil
	}
	return &Error{Class: worst, Err: fmt.Errorf("verdict %s: %s", overallStatus(outs), summarize(outs)), cause: worstErr}
}

// overallStatus is the most severe of the suites' verdicts; "skipped" only
// when no suite ran.
func overallStatus(outs []*suiteOutcome) string {
	order := []string{string(gate.StatusError), string(gate.StatusRegressed), string(gate.StatusIncomplete),
		string(gate.StatusInconclusive), statusUngated, string(gate.StatusPass), statusSkipped}
	best := len(order)
	for _, o := range outs {
		if i := slices.Index(order, o.status); i >= 0 && i < best {
			best = i
		}
	}
	if best == len(order) {
		return statusSkipped
	}
	return order[best]
}

func summarize(outs []*suiteOutcome) string {
	var parts []string
	for _, o := range outs {
		if o.status != statusSkipped {
			parts = append(parts, fmt.Sprintf("%s %s (%s)", o.name, o.status, o.reason))
		}
	}
	return strings.Join(parts, "; ")
}

// ArtifactName is the name of the artifact that holds a suite's results on
// the default branch: the upload step must use it for the gate to find it.
func ArtifactName(suiteName string) string {
	return "evalgate-results-" + artifactSafe(suiteName)
}

// HTMLArtifactName is the name under which a workflow uploads a suite's HTML
// report: the comment links the run's artifacts and names this one.
func HTMLArtifactName(suiteName string) string {
	return "evalgate-report-" + artifactSafe(suiteName)
}

// artifactSafe keeps the characters an artifact name may hold.
func artifactSafe(suiteName string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '-'
	}, suiteName)
}
