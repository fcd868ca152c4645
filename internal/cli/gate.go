package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/evalgate/evalgate/internal/gate"
	"github.com/evalgate/evalgate/internal/ghaction"
	"github.com/evalgate/evalgate/internal/ghapi"
	"github.com/evalgate/evalgate/internal/report"
	"github.com/evalgate/evalgate/internal/results"
	"github.com/evalgate/evalgate/internal/suite"
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

// Baseline sources of the baseline input.
const (
	baselineAuto     = "auto"     // PR: artifact, else base revision; schedule: artifact; else: suite
	baselineArtifact = "artifact" // the base branch's results artifact, else the base revision
	baselineBase     = "base"     // evaluate the base revision in this job
	baselineSuite    = "suite"    // the suite's own gate.baseline
)

// Values of the fail-on input.
const (
	failOnRegressed    = "regressed"    // fail on a regression, an error or an incomplete run
	failOnInconclusive = "inconclusive" // also fail on an inconclusive verdict
	failOnError        = "error"        // report regressions, fail only on errors and incomplete runs
)

// verdictSkipped and verdictUngated extend the gate's verdicts for the
// Action: a suite not run because none of its files changed, and a suite run
// without a baseline to compare with. Neither is ever reported as a pass.
const (
	verdictSkipped = "skipped"
	verdictUngated = "ungated"
)

// gateInputs are the action's inputs, checked.
type gateInputs struct {
	configs     []string
	token       string
	baseline    string
	workflow    string
	mode        string
	comment     bool
	issue       bool
	force       bool
	budget      float64
	concurrency int
	failOn      string
}

// readInputs reads and checks the inputs; a mistake says what to write.
func readInputs(a *ghaction.Action) (gateInputs, error) {
	in := gateInputs{
		token:    a.GetInput("github-token"),
		baseline: orText(a.GetInput("baseline"), baselineAuto),
		workflow: a.GetInput("baseline-workflow"),
		mode:     a.GetInput("mode"),
		failOn:   orText(a.GetInput("fail-on"), failOnRegressed),
	}
	for _, f := range strings.FieldsFunc(orText(a.GetInput("config"), "evalgate.yaml"), func(r rune) bool { return r == '\n' || r == ',' }) {
		if f = strings.TrimSpace(f); f != "" {
			in.configs = append(in.configs, f)
		}
	}
	var errs []string
	boolean := func(name string, def bool) bool {
		v := a.GetInput(name)
		if v == "" {
			return def
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Sprintf("input %s: %q is not a boolean; write true or false", name, v))
		}
		return b
	}
	in.comment = boolean("comment", true)
	in.issue = boolean("issue", true)
	in.force = boolean("force", false)
	switch in.baseline {
	case baselineAuto, baselineArtifact, baselineBase, baselineSuite:
	default:
		if !strings.HasSuffix(strings.SplitN(in.baseline, "#", 2)[0], ".jsonl") {
			errs = append(errs, fmt.Sprintf("input baseline: %q: want auto, artifact, base, suite or a results file (.jsonl)", in.baseline))
		}
	}
	if in.mode != "" && in.mode != suite.ModeRegression && in.mode != suite.ModeNonInferiority {
		errs = append(errs, fmt.Sprintf("input mode: %q: want regression or non_inferiority%s", in.mode, suggest(in.mode, []string{suite.ModeRegression, suite.ModeNonInferiority})))
	}
	if in.failOn != failOnRegressed && in.failOn != failOnInconclusive && in.failOn != failOnError {
		errs = append(errs, fmt.Sprintf("input fail-on: %q: want regressed, inconclusive or error", in.failOn))
	}
	if v := a.GetInput("budget"); v != "" {
		b, err := strconv.ParseFloat(strings.TrimPrefix(v, "$"), 64)
		if err != nil || b < 0 {
			errs = append(errs, fmt.Sprintf("input budget: %q: want an amount in USD such as 5 or 2.50", v))
		}
		in.budget = b
	}
	if v := a.GetInput("concurrency"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			errs = append(errs, fmt.Sprintf("input concurrency: %q: want a whole number of calls >= 1", v))
		}
		in.concurrency = n
	}
	if len(errs) > 0 {
		return in, usagef("%s", strings.Join(errs, "; "))
	}
	return in, nil
}

// gateJob is the state of one gate run: the runtime, the event, the API.
type gateJob struct {
	e         *Env
	a         *ghaction.Action
	in        gateInputs
	gh        *ghaction.Context
	api       *ghapi.Client // nil without a token
	workspace string
	tmp       string
}

// suiteOutcome is what became of one suite.
type suiteOutcome struct {
	name       string
	configRel  string
	status     string // a gate.Status, verdictSkipped or verdictUngated
	reason     string
	code       int
	results    string // workspace-relative
	report     string // workspace-relative
	commentURL string
	markdown   string
}

// runGate is `evalgate gate` from start to end.
func runGate(ctx context.Context, e *Env) error {
	// 1. The runtime, inputs and event; the token is masked before anything
	// could print it.
	a := ghaction.New(ghaction.WithGetenv(e.Getenv), ghaction.WithWriter(e.Stdout))
	in, err := readInputs(a)
	if in.token != "" {
		a.AddMask(in.token)
	}
	if err != nil {
		return err
	}
	gh, err := a.Context()
	if err != nil {
		return usageErr(err)
	}
	switch gh.EventName {
	case ghaction.EventPullRequest, ghaction.EventPullRequestTarget, ghaction.EventPush, ghaction.EventSchedule,
		ghaction.EventWorkflowDispatch, ghaction.EventRelease:
	case "":
		return usagef("GITHUB_EVENT_NAME is not set: `evalgate gate` runs in a GitHub Actions step; use `evalgate run` elsewhere")
	default:
		return usagef("event %q is not supported: trigger the workflow on pull_request, pull_request_target, push, schedule, workflow_dispatch or release", gh.EventName)
	}
	j := &gateJob{e: e, a: a, in: in, gh: gh, workspace: orText(gh.Workspace, ".")}
	if in.token != "" && gh.Repository != "" {
		j.api, err = ghapi.New(ghapi.Options{APIURL: gh.APIURL, Token: in.token, Repository: gh.Repository})
		if err != nil {
			return usageErr(err)
		}
	}
	j.tmp, err = os.MkdirTemp(orText(e.Getenv("TMPDIR"), os.TempDir()), "evalgate-")
	if err != nil {
		return providerErr(fmt.Errorf("temporary directory: %w", err))
	}
	defer os.RemoveAll(j.tmp)

	// 2. Find the suites and, on a pull request, which of them changed.
	configs, err := j.findConfigs()
	if err != nil {
		return err
	}
	changed, err := j.changedFiles(ctx)
	if err != nil {
		return err
	}
	// 3. Run each suite that changed, compare, and publish its report.
	var outs []*suiteOutcome
	for _, cfg := range configs {
		outs = append(outs, j.gateSuite(ctx, cfg, changed))
	}
	// 4. Outputs and the step's outcome.
	return j.finish(outs)
}

// findConfigs expands the config input (paths or globs, relative to the
// workspace) into workspace-relative config paths.
func (j *gateJob) findConfigs() ([]string, error) {
	var out []string
	for _, pat := range j.in.configs {
		matches, err := filepath.Glob(filepath.Join(j.workspace, pat))
		if err != nil {
			return nil, usagef("input config: %q: %v", pat, err)
		}
		if len(matches) == 0 {
			return nil, usagef("input config: %q matches no file in the workspace %s; check the path, and that the workflow checks out the repository (actions/checkout) first", pat, j.workspace)
		}
		for _, m := range matches {
			rel, err := filepath.Rel(j.workspace, m)
			if err != nil || strings.HasPrefix(rel, "..") {
				return nil, usagef("input config: %s is outside the workspace", m)
			}
			if rel = filepath.ToSlash(rel); !slices.Contains(out, rel) {
				out = append(out, rel)
			}
		}
	}
	return out, nil
}

// changedFiles returns the files a pull request changed, or nil when every
// suite runs (not a pull request, the force input, or the files cannot be
// listed — running too much is safer than skipping a change).
func (j *gateJob) changedFiles(ctx context.Context) (map[string]bool, error) {
	pr := j.gh.PullRequest()
	if pr == nil || j.in.force {
		return nil, nil
	}
	if j.api == nil {
		j.a.Warningf(ghaction.CommandProperties{Title: "evalgate"}, "no github-token: cannot list the pull request's files, so every suite runs")
		return nil, nil
	}
	files, err := j.api.ChangedFiles(ctx, pr.Number)
	if err != nil {
		j.a.Warningf(ghaction.CommandProperties{Title: "evalgate"}, "cannot list the pull request's files (%v), so every suite runs", err)
		return nil, nil
	}
	set := map[string]bool{}
	for _, f := range files {
		set[f] = true
	}
	return set, nil
}

// gateSuite runs one suite through the gate and publishes its report.
func (j *gateJob) gateSuite(ctx context.Context, configRel string, changed map[string]bool) *suiteOutcome {
	o := &suiteOutcome{name: configRel, configRel: configRel}
	configPath := filepath.Join(j.workspace, filepath.FromSlash(configRel))
	raw, err := os.ReadFile(configPath)
	if err != nil {
		return j.failed(o, usageErr(err))
	}
	name, files, err := suiteFiles(configRel, raw)
	if err != nil {
		return j.failed(o, usageErr(fmt.Errorf("%s: %w", configRel, err)))
	}
	if name != "" {
		o.name = name
	}
	// 1. Skip a suite none of whose files changed.
	if changed != nil && !slices.ContainsFunc(files, func(f string) bool { return changed[f] }) {
		o.status, o.reason = verdictSkipped, "none of its files changed in this pull request"
		j.a.Noticef(ghaction.CommandProperties{Title: "evalgate: " + o.name + " skipped", File: configRel}, "suite %s not run: none of its files (%s) changed; set the force input to run it anyway", o.name, strings.Join(files, ", "))
		return o
	}
	j.a.Group("evalgate: suite " + o.name)
	defer j.a.EndGroup()
	s, err := suite.Load(configPath)
	if err != nil {
		return j.failed(o, usageErr(err))
	}
	// 2. On a pull request, say on it that the evaluation has started.
	marker := fmt.Sprintf("<!-- evalgate:report suite=%q workflow=%q -->", o.name, j.workflowKey())
	var commentID int64
	commentBlocked := ""
	pr := j.gh.PullRequest()
	if pr != nil && j.in.comment && j.api != nil {
		c, err := j.api.UpsertComment(ctx, pr.Number, marker, marker+"\n"+placeholder(o.name, j.gh))
		switch {
		case err == nil:
			commentID, o.commentURL = c.ID, c.HTMLURL
		default:
			commentBlocked = err.Error()
		}
	}
	// 3. Find the baseline.
	bl := j.baseline(ctx, s, configRel)
	// 4. Run and compare.
	ro := runOptions{config: configPath, concurrency: j.in.concurrency, budget: j.in.budget, progress: "lines", baseline: bl.override, mode: j.in.mode}
	r, runErr := executeSuite(ctx, j.e, ro)
	o.code = exitCode(runErr)
	switch {
	case r == nil:
		o.status, o.reason = string(gate.StatusError), runErr.Error()
	case r.verdict != nil:
		o.status, o.reason = string(r.verdict.Status), r.verdict.Reason
		if o.code != ExitPass && o.code != ExitRegressed && o.code != ExitIncomplete {
			o.status = string(gate.StatusError)
		}
	case runErr != nil:
		o.status, o.reason = string(gate.StatusError), runErr.Error()
		if o.code == ExitIncomplete {
			o.status = string(gate.StatusIncomplete)
		}
	default:
		o.status, o.reason = verdictUngated, orText(r.gateSkipped, "the suite names no baseline (gate.baseline) and none was found")
	}
	if o.status == string(gate.StatusError) && j.gh.FromFork() && j.gh.EventName == ghaction.EventPullRequest {
		o.reason += " (this pull request comes from a fork: GitHub gives its workflow no secrets, so providers that need credentials cannot be called; a maintainer can run the gate with pull_request_target or after merging)"
	}
	if r != nil {
		o.results = j.rel(r.resultsPath)
		if r.reportPath != "" {
			o.report = j.rel(r.reportPath)
		}
	}
	// 5. Annotate the criteria that failed.
	if r != nil && r.verdict != nil {
		j.annotate(o, r.verdict, raw)
	} else if o.status == string(gate.StatusError) || o.status == string(gate.StatusIncomplete) {
		j.a.Errorf(ghaction.CommandProperties{Title: "evalgate: " + o.name + " " + o.status, File: configRel}, "%s", o.reason)
	}
	// 6. Publish: the step summary always, the pull-request comment when the
	// token may write, the tracking issue on a schedule.
	o.markdown = j.render(o, bl)
	if err := j.a.AddStepSummary(o.markdown); err != nil && !errors.Is(err, ghaction.ErrNoFile) {
		j.a.Warningf(ghaction.CommandProperties{Title: "evalgate"}, "step summary: %v", err)
	}
	if pr != nil && j.in.comment {
		j.comment(ctx, o, pr.Number, marker, commentID, commentBlocked)
	}
	if j.gh.EventName == ghaction.EventSchedule && j.in.issue {
		j.track(ctx, o)
	}
	return o
}

// failed records a suite that could not be run at all.
func (j *gateJob) failed(o *suiteOutcome, err error) *suiteOutcome {
	o.status, o.reason, o.code = string(gate.StatusError), err.Error(), exitCode(err)
	j.a.Errorf(ghaction.CommandProperties{Title: "evalgate: " + o.name, File: o.configRel}, "%s", o.reason)
	o.markdown = fmt.Sprintf("## 🛑 evalgate: %s\n\n%s\n", report.Inline(o.name), report.Inline(o.reason))
	if err := j.a.AddStepSummary(o.markdown); err != nil && !errors.Is(err, ghaction.ErrNoFile) {
		j.a.Warningf(ghaction.CommandProperties{Title: "evalgate"}, "step summary: %v", err)
	}
	return o
}

// workflowKey tells apart the reports of two workflows on one pull request.
func (j *gateJob) workflowKey() string {
	return orText(j.gh.WorkflowFile(), j.gh.Workflow)
}

func (j *gateJob) rel(p string) string {
	if r, err := filepath.Rel(j.workspace, p); err == nil && !strings.HasPrefix(r, "..") {
		return filepath.ToSlash(r)
	}
	return p
}

func placeholder(name string, gh *ghaction.Context) string {
	sha := ""
	if pr := gh.PullRequest(); pr != nil {
		sha = " of " + short(pr.Head.SHA)
	}
	run := ""
	if u := gh.RunURL(); u != "" {
		run = fmt.Sprintf(" ([workflow run](%s))", u)
	}
	return fmt.Sprintf("## ⏳ evalgate: %s\n\nEvaluating the changes%s... This comment is updated when the run finishes%s.\n", report.Inline(name), sha, run)
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

// render is the suite's report with what the reader needs around it: the
// baseline used and the run.
func (j *gateJob) render(o *suiteOutcome, bl baselineChoice) string {
	var b strings.Builder
	switch {
	case o.report != "":
		md, err := os.ReadFile(filepath.Join(j.workspace, filepath.FromSlash(o.report)))
		if err == nil {
			b.Write(bytes.TrimRight(md, "\n"))
			b.WriteString("\n")
			break
		}
		fallthrough
	default:
		icon := map[string]string{verdictUngated: "ℹ️", string(gate.StatusIncomplete): "⏸️"}[o.status]
		b.WriteString(fmt.Sprintf("## %s evalgate: %s: %s\n\n%s\n", orText(icon, "🛑"), report.Inline(o.name), o.status, report.Inline(o.reason)))
	}
	b.WriteString("\n")
	if len(bl.notes) > 0 {
		b.WriteString("> [!NOTE]\n")
		for _, n := range bl.notes {
			b.WriteString("> " + report.Inline(n) + "\n")
		}
		b.WriteString("\n")
	}
	b.WriteString("<sub>Baseline: " + report.Inline(bl.desc))
	if u := j.gh.RunURL(); u != "" {
		b.WriteString(fmt.Sprintf(" · [workflow run](%s)", u))
	}
	b.WriteString(" · evalgate " + report.Inline(Version) + "</sub>\n")
	return b.String()
}

// comment replaces the placeholder with the report, or says where the
// report went when the token may not comment.
func (j *gateJob) comment(ctx context.Context, o *suiteOutcome, number int, marker string, id int64, blocked string) {
	if j.api == nil {
		blocked = "no github-token"
	}
	if blocked == "" {
		body := marker + "\n" + o.markdown
		var c *ghapi.Comment
		var err error
		if id != 0 {
			c, err = j.api.EditComment(ctx, id, body)
		} else {
			c, err = j.api.UpsertComment(ctx, number, marker, body)
		}
		if err == nil {
			o.commentURL = c.HTMLURL
			return
		}
		blocked = err.Error()
	}
	o.commentURL = ""
	hint := ""
	if j.gh.FromFork() {
		hint = " This pull request comes from a fork, whose workflow token is read-only."
	}
	j.a.Warningf(ghaction.CommandProperties{Title: "evalgate: no pull-request comment"}, "the report of %s is in the job summary, not on the pull request: %s.%s Give the job `permissions: pull-requests: write` (and, for forks, use pull_request_target) to get the comment.", o.name, blocked, hint)
}

// track opens or updates the tracking issue of a scheduled run that did not
// pass, and closes it when the suite passes again.
func (j *gateJob) track(ctx context.Context, o *suiteOutcome) {
	if j.api == nil {
		j.a.Warningf(ghaction.CommandProperties{Title: "evalgate"}, "no github-token: the scheduled run cannot open a tracking issue")
		return
	}
	marker := fmt.Sprintf("<!-- evalgate:tracking suite=%q workflow=%q -->", o.name, j.workflowKey())
	var err error
	switch o.status {
	case string(gate.StatusPass), verdictSkipped, verdictUngated:
		found, ferr := j.api.FindIssue(ctx, marker)
		if ferr != nil || found == nil {
			err = ferr
			break
		}
		err = j.api.CloseIssue(ctx, found.GetNumber(), fmt.Sprintf("Suite %s is %s again in the scheduled run %s.", report.Inline(o.name), o.status, j.gh.RunURL()))
	case string(gate.StatusInconclusive):
		if o.code == ExitPass {
			return
		}
		fallthrough
	default:
		title := fmt.Sprintf("evalgate: suite %s is %s in the scheduled run", o.name, o.status)
		_, err = j.api.UpsertIssue(ctx, marker, title, marker+"\n"+o.markdown, []string{"evalgate"})
	}
	if err != nil {
		j.a.Warningf(ghaction.CommandProperties{Title: "evalgate: tracking issue"}, "%v (give the job `permissions: issues: write`)", err)
	}
}

// annotate writes an error annotation, on the criterion's line of the config,
// for each check that keeps the verdict from passing, and a warning for the
// rest that did not pass.
func (j *gateJob) annotate(o *suiteOutcome, v *gate.Verdict, config []byte) {
	for _, c := range v.Criteria {
		if c.Status == gate.CheckPass {
			continue
		}
		p := ghaction.CommandProperties{
			Title: fmt.Sprintf("evalgate %s: %s %s %s", o.name, c.Metric, c.Check, c.Status),
			File:  o.configRel, Line: criterionLine(config, c.Metric),
		}
		if c.Blocks() {
			j.a.Errorf(p, "%s (%s): %s", c.Bound, c.Mode, c.Reason)
		} else {
			j.a.Warningf(p, "%s (%s): %s", c.Bound, c.Mode, c.Reason)
		}
	}
}

// criterionLine is the line of the config where the criterion on metric is
// written (0 when not found: the annotation then points at the file).
func criterionLine(config []byte, metric string) int {
	re := regexp.MustCompile(`metric:\s*["']?` + regexp.QuoteMeta(metric) + `["']?\s*[,}\n]`)
	loc := re.FindIndex(config)
	if loc == nil {
		return 0
	}
	return bytes.Count(config[:loc[0]], []byte("\n")) + 1
}

// finish writes the outputs and turns the suites' outcomes into the exit
// code.
func (j *gateJob) finish(outs []*suiteOutcome) error {
	overall := overallStatus(outs)
	var resultsPaths, reports, urls, artifacts []string
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
		if o.commentURL != "" {
			urls = append(urls, o.commentURL)
		}
	}
	js, _ := json.Marshal(verdicts)
	for _, kv := range [][2]string{
		{"verdict", overall},
		{"verdicts", string(js)},
		{"results-path", strings.Join(resultsPaths, "\n")},
		{"report-path", strings.Join(reports, "\n")},
		{"comment-url", strings.Join(urls, "\n")},
		{"artifact-name", strings.Join(artifacts, "\n")},
	} {
		if err := j.a.SetOutput(kv[0], kv[1]); err != nil && !errors.Is(err, ghaction.ErrNoFile) {
			return providerErr(fmt.Errorf("output %s: %w", kv[0], err))
		}
	}
	code := ExitPass
	for _, o := range outs {
		c := o.code
		if o.status == string(gate.StatusInconclusive) && j.in.failOn == failOnInconclusive {
			c = max(c, ExitRegressed)
		}
		if c == ExitRegressed && j.in.failOn == failOnError {
			j.a.Warningf(ghaction.CommandProperties{Title: "evalgate: " + o.name}, "%s %s; not failing the step (fail-on: error)", o.name, o.status)
			c = ExitPass
		}
		if codeRank(c) > codeRank(code) {
			code = c
		}
	}
	if code == ExitPass {
		return nil
	}
	return outcome(code, "verdict %s: %s", overall, summarize(outs))
}

// codeRank orders exit codes by how much they must be seen: errors first,
// then a regression, then an incomplete run.
func codeRank(code int) int {
	return map[int]int{ExitPass: 0, ExitIncomplete: 1, ExitRegressed: 2, ExitProvider: 3, ExitUsage: 4}[code]
}

// overallStatus is the most severe of the suites' verdicts; "skipped" only
// when no suite ran.
func overallStatus(outs []*suiteOutcome) string {
	order := []string{string(gate.StatusError), string(gate.StatusRegressed), string(gate.StatusIncomplete),
		string(gate.StatusInconclusive), verdictUngated, string(gate.StatusPass), verdictSkipped}
	best := len(order)
	for _, o := range outs {
		if i := slices.Index(order, o.status); i >= 0 && i < best {
			best = i
		}
	}
	if best == len(order) {
		return verdictSkipped
	}
	return order[best]
}

func summarize(outs []*suiteOutcome) string {
	var parts []string
	for _, o := range outs {
		if o.status != verdictSkipped {
			parts = append(parts, fmt.Sprintf("%s %s (%s)", o.name, o.status, o.reason))
		}
	}
	return strings.Join(parts, "; ")
}

// ArtifactName is the name of the artifact that holds a suite's results on
// the default branch: the upload step must use it for the gate to find it.
func ArtifactName(suiteName string) string {
	clean := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '-'
	}, suiteName)
	return "evalgate-results-" + clean
}

// suiteFiles returns the suite's name and the files it consists of, relative
// to the repository root: the config and every file it names (dataset,
// prompt files, cassettes, schema files, a command's program when it is a
// path). It reads the YAML loosely, so that it works on a config of another
// revision that this build could not load.
func suiteFiles(configRel string, raw []byte) (string, []string, error) {
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return "", nil, err
	}
	name, _ := doc["name"].(string)
	dir := path.Dir(configRel)
	files := []string{configRel}
	add := func(v any) {
		p, ok := v.(string)
		if !ok || p == "" || path.IsAbs(p) {
			return
		}
		f := path.Join(dir, filepath.ToSlash(p))
		if !strings.HasPrefix(f, "../") && !slices.Contains(files, f) {
			files = append(files, f)
		}
	}
	if ds, ok := doc["dataset"].(map[string]any); ok {
		add(ds["path"])
	}
	if prompts, ok := doc["prompts"].(map[string]any); ok {
		for _, p := range prompts {
			switch p := p.(type) {
			case string:
				add(p)
			case map[string]any:
				add(p["system_file"])
				add(p["user_file"])
			}
		}
	}
	if targets, ok := doc["targets"].([]any); ok {
		for _, t := range targets {
			if t, ok := t.(map[string]any); ok {
				add(t["cassette"])
				if cmd, ok := t["command"].([]any); ok && len(cmd) > 0 {
					if p, ok := cmd[0].(string); ok && strings.Contains(p, "/") {
						add(p)
					}
				}
			}
		}
	}
	if metrics, ok := doc["metrics"].([]any); ok {
		for _, m := range metrics {
			if m, ok := m.(map[string]any); ok {
				add(m["schema_file"])
			}
		}
	}
	slices.Sort(files[1:])
	return name, files, nil
}

// gatedTarget is the target a suite gates: gate.target, else the only
// target that is not the baseline.
func gatedTarget(s *suite.Suite) string {
	if s.Config.Gate.Target != "" {
		return s.Config.Gate.Target
	}
	var ids []string
	for _, t := range s.Config.Targets {
		if t.ID != s.Config.Gate.Baseline {
			ids = append(ids, t.ID)
		}
	}
	if len(ids) == 1 {
		return ids[0]
	}
	return ""
}

// acceptBaseline checks that a baseline results file is of this suite, was
// run on the same dataset and metrics, and holds the gated target.
func acceptBaseline(s *suite.Suite, target string) func([]byte) error {
	return func(data []byte) error {
		rd, err := results.NewReader(bytes.NewReader(data), "artifact")
		if err != nil {
			return fmt.Errorf("not a results file: %v", err)
		}
		h := rd.Header()
		rd.Close()
		switch {
		case h.Suite != s.Config.Name:
			return fmt.Errorf("suite %q, not %q", h.Suite, s.Config.Name)
		case h.SuiteHash != s.Hash():
			return fmt.Errorf("the suite changed since (dataset or metrics differ)")
		case !slices.ContainsFunc(h.Targets, func(t results.TargetInfo) bool { return t.ID == target }):
			return fmt.Errorf("no target %q in it", target)
		}
		return nil
	}
}
