package action

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/evalgate/evalgate/internal/gate"
	"github.com/evalgate/evalgate/internal/ghapi"
	"github.com/evalgate/evalgate/internal/report"
	"github.com/evalgate/evalgate/internal/suite"
)

// suiteOutcome is what became of one suite.
type suiteOutcome struct {
	name      string
	configRel string
	status    string // a gate.Status, statusSkipped or statusUngated
	reason    string
	class     Class
	err       error
	// results, report, html and history are workspace-relative.
	results string
	report  string
	html    string
	history string
	// trend is the history's Markdown (scheduled runs).
	trend      string
	commentURL string
	markdown   string
}

// gateSuite runs one suite through the gate and publishes its report.
func (j *job) gateSuite(ctx context.Context, configRel string, changed map[string]bool) *suiteOutcome {
	o := &suiteOutcome{name: configRel, configRel: configRel}
	configPath := filepath.Join(j.workspace, filepath.FromSlash(configRel))
	raw, err := os.ReadFile(configPath)
	if err != nil {
		return j.failed(o, usage(fmt.Errorf("suite config: %w", err)))
	}
	name, files, err := suite.Files(configRel, raw)
	if err != nil {
		return j.failed(o, usage(err))
	}
	if name != "" {
		o.name = name
	}
	pr := j.ev.pullRequest()
	marker := j.marker("report", o.name)
	// 1. Skip a suite none of whose files the pull request changes, and say
	// so on its earlier comment, which may hold a verdict that no longer
	// applies.
	if changed != nil && !slices.ContainsFunc(files, func(f string) bool { return changed[f] }) {
		o.status, o.reason = statusSkipped, "the pull request changes none of its files"
		j.out.noticef(where{title: "evalgate: " + o.name + " skipped", file: configRel},
			"suite %s not run: the pull request changes none of its files (%s); set the force input to run it anyway", o.name, strings.Join(files, ", "))
		if pr != nil && j.in.comment && j.api != nil {
			j.markStale(ctx, o, pr.GetNumber(), marker)
		}
		return o
	}
	j.out.a.Group("evalgate: suite " + o.name)
	defer j.out.a.EndGroup()
	s, err := suite.Load(configPath)
	if err != nil {
		return j.failed(o, usage(err))
	}
	// 2. On a pull request, say on it that the evaluation has started.
	var commentID int64
	blocked := error(nil)
	if pr != nil && j.in.comment && j.api != nil {
		body := commentBody(marker, j.ev.headSHA(), report.ActionPlaceholder(o.name, j.ev.headSHA(), j.ev.runURL()))
		c, err := j.api.UpsertComment(ctx, pr.GetNumber(), marker, body)
		if err != nil {
			blocked = err
		} else {
			commentID, o.commentURL = c.ID, c.HTMLURL
		}
	}
	// 3. Find the baseline.
	bl := j.baseline(ctx, s, configRel)
	// 4. Run and compare; a scheduled run appends to the suite's history.
	history := ""
	if j.ev.EventName == eventSchedule {
		history = j.history(ctx, o.name, configPath)
	}
	r, runErr := j.d.Runner.RunSuite(ctx, RunRequest{Config: configPath, Baseline: bl.override, Mode: j.in.mode,
		Concurrency: j.in.concurrency, Budget: j.in.budget, Sequential: j.in.sequential, History: history, HistoryRun: j.historyRun()})
	o.class, o.err = ClassOf(runErr), runErr
	switch {
	case r == nil:
		o.status, o.reason = string(gate.StatusError), errText(runErr)
	case r.Verdict != nil:
		o.status, o.reason = string(r.Verdict.Status), r.Verdict.Reason
		if o.class > ClassRegressed {
			o.status = string(gate.StatusError)
		}
	case runErr != nil:
		o.status, o.reason = string(gate.StatusError), runErr.Error()
		if o.class == ClassIncomplete {
			o.status = string(gate.StatusIncomplete)
		}
	default:
		o.status, o.reason = statusUngated, r.GateSkipped
		if o.reason == "" {
			o.reason = "the suite names no baseline (gate.baseline) and none was found"
		}
	}
	if o.status == string(gate.StatusError) && j.ev.fromFork() && j.ev.EventName == eventPullRequest {
		o.reason += " (this pull request comes from a fork: GitHub gives its workflow no secrets, so providers that need credentials cannot be called; a maintainer can run the gate with pull_request_target or after merging)"
	}
	if r != nil {
		o.results = j.rel(r.ResultsPath)
		if r.ReportPath != "" {
			o.report = j.rel(r.ReportPath)
		}
		if r.HTMLPath != "" {
			o.html = j.rel(r.HTMLPath)
		}
	}
	if _, err := os.Stat(history); history != "" && err == nil {
		o.history, o.trend = j.rel(history), j.trendMarkdown(history)
	}
	// 5. Annotate the criteria that failed.
	if r != nil && r.Verdict != nil {
		j.annotate(o, r.Verdict, raw)
	} else if o.status == string(gate.StatusError) || o.status == string(gate.StatusIncomplete) {
		j.out.errorf(where{title: "evalgate: " + o.name + " " + o.status, file: configRel}, "%s", o.reason)
	}
	// 6. Publish: the step summary always, the pull-request comment when the
	// token may write, the tracking issue on a schedule.
	o.markdown = j.render(o, bl)
	j.summary.WriteString(o.markdown + "\n")
	if pr != nil && j.in.comment && j.api != nil {
		j.comment(ctx, o, pr.GetNumber(), marker, commentID, blocked)
	}
	if j.ev.EventName == eventSchedule && j.in.issue {
		j.track(ctx, o)
	}
	return o
}

func errText(err error) string {
	if err == nil {
		return "the suite did not run"
	}
	return err.Error()
}

// failed records a suite that could not be run at all.
func (j *job) failed(o *suiteOutcome, err error) *suiteOutcome {
	o.status, o.reason, o.class, o.err = string(gate.StatusError), err.Error(), ClassOf(err), err
	j.out.errorf(where{title: "evalgate: " + o.name, file: o.configRel}, "%s", o.reason)
	o.markdown = report.ActionMarkdown(report.ActionSuite{Name: o.name, Status: o.status, Reason: o.reason,
		Commit: j.ev.headSHA(), RunURL: j.ev.runURL(), Version: j.d.Version})
	j.summary.WriteString(o.markdown + "\n")
	return o
}

// marker is the hidden line that finds a suite's comment (kind "report") or
// tracking issue (kind "tracking") again. It holds a hash of the suite's name
// and the workflow, never the name itself: a name is written by whoever opens
// the pull request, and a "-->" in it would end the HTML comment and turn the
// rest into Markdown (a live mention, link or image).
func (j *job) marker(kind, suiteName string) string {
	sum := sha256.Sum256([]byte(suiteName + "\x00" + j.ev.workflowKey()))
	return fmt.Sprintf("<!-- evalgate:%s id=%s -->", kind, hex.EncodeToString(sum[:8]))
}

// commitTag records in a comment the commit its verdict is for; it is read
// back when a later run finds the verdict stale.
func commitTag(sha string) string {
	return "<!-- evalgate:commit=" + hexOnly(sha) + " -->"
}

var commitTagRE = regexp.MustCompile(`<!-- evalgate:commit=([0-9a-f]*) -->\n?`)

func hexOnly(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' || r >= 'a' && r <= 'f' {
			return r
		}
		return -1
	}, strings.ToLower(s))
}

// commentBody is a comment: the marker, the commit and the Markdown.
func commentBody(marker, sha, markdown string) string {
	return marker + "\n" + commitTag(sha) + "\n" + markdown
}

// markStale rewrites the earlier comment of a suite the pull request no
// longer touches: the check is green (the suite is skipped), and a comment
// still saying "regressed" would contradict it. The earlier report is kept,
// folded, with the commit it is for.
func (j *job) markStale(ctx context.Context, o *suiteOutcome, number int, marker string) {
	prev, err := j.api.FindComment(ctx, number, marker)
	if err != nil {
		j.problem(fmt.Sprintf("the earlier comment of %s could not be read to mark it out of date: %v", o.name, err))
		return
	}
	if prev == nil {
		return
	}
	head := j.ev.headSHA()
	body := prev.GetBody()
	earlier := ""
	if m := commitTagRE.FindStringSubmatch(body); m != nil {
		earlier = m[1]
	}
	if earlier == hexOnly(head) {
		return
	}
	earlierReport, ok := report.EarlierReport(body)
	if !ok {
		earlierReport = strings.TrimPrefix(commitTagRE.ReplaceAllString(strings.TrimPrefix(body, marker), ""), "\n")
	}
	// The commit tag keeps naming the commit the verdict is for.
	md := report.ActionStale(o.name, head, earlier, earlierReport, j.ev.runURL())
	c, err := j.api.EditComment(ctx, prev.GetID(), marker+"\n"+commitTag(earlier)+"\n"+md)
	if err != nil {
		j.commentFailed(o, err)
		return
	}
	o.commentURL = c.HTMLURL
}

func (j *job) rel(p string) string {
	if r, err := filepath.Rel(j.workspace, p); err == nil && !strings.HasPrefix(r, "..") {
		return filepath.ToSlash(r)
	}
	return p
}

// render is the suite's report with what the reader needs around it.
func (j *job) render(o *suiteOutcome, bl baselineChoice) string {
	s := report.ActionSuite{Name: o.name, Status: o.status, Reason: o.reason, Notes: bl.notes, Baseline: bl.desc,
		Commit: j.ev.headSHA(), RunURL: j.ev.runURL(), Version: j.d.Version}
	if o.report != "" {
		md, err := os.ReadFile(filepath.Join(j.workspace, filepath.FromSlash(o.report)))
		if err == nil {
			s.Report = string(md)
		}
	}
	if o.html != "" {
		s.HTMLArtifact = HTMLArtifactName(o.name)
	}
	s.Trend = o.trend
	return report.ActionMarkdown(s)
}

// comment replaces the placeholder with the report, or says where the
// report went when the token may not comment.
func (j *job) comment(ctx context.Context, o *suiteOutcome, number int, marker string, id int64, blocked error) {
	if blocked == nil {
		body := commentBody(marker, j.ev.headSHA(), o.markdown)
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
		blocked = err
	}
	o.commentURL = ""
	j.commentFailed(o, blocked)
}

// commentFailed says that a suite's comment could not be posted. A fork's
// read-only token is expected (GitHub's rule, documented): a warning. Anything
// else breaks the promise of a comment on every pull request: an error
// annotation and a line at the top of the summary.
func (j *job) commentFailed(o *suiteOutcome, err error) {
	if j.ev.fromFork() && errors.Is(err, ghapi.ErrNoPermission) {
		j.out.warningf(where{title: "evalgate: no pull-request comment"},
			"the report of %s is in the job summary, not on the pull request: %v. This pull request comes from a fork, whose workflow token is read-only; use pull_request_target to get the comment.", o.name, err)
		return
	}
	hint := ""
	if errors.Is(err, ghapi.ErrNoPermission) {
		hint = "; give the job `permissions: pull-requests: write`"
	}
	j.problem(fmt.Sprintf("the report of %s is in the job summary, not on the pull request: %v%s", o.name, err, hint))
}

// track opens or updates the tracking issue of a scheduled run that did not
// pass, and closes it when the suite passes again.
func (j *job) track(ctx context.Context, o *suiteOutcome) {
	if j.api == nil {
		j.out.warningf(where{title: "evalgate: tracking issue"}, "no github-token: the scheduled run cannot open a tracking issue")
		return
	}
	marker := j.marker("tracking", o.name)
	var err error
	switch o.status {
	case string(gate.StatusPass):
		found, ferr := j.api.FindIssue(ctx, marker)
		if ferr != nil || found == nil {
			err = ferr
			break
		}
		err = j.api.CloseIssue(ctx, found.GetNumber(), report.ActionIssueClosed(o.name, j.ev.runURL()))
	case statusUngated, statusSkipped:
		// Nothing was compared: no news either way for an open issue.
		return
	case string(gate.StatusInconclusive):
		if o.class == classPass {
			return
		}
		fallthrough
	default:
		title := fmt.Sprintf("evalgate: suite %s is %s in the scheduled run", oneLine(o.name), o.status)
		_, err = j.api.UpsertIssue(ctx, marker, title, marker+"\n"+o.markdown, []string{"evalgate"})
	}
	if err == nil {
		return
	}
	hint := ""
	if errors.Is(err, ghapi.ErrNoPermission) {
		hint = " (give the job `permissions: issues: write`)"
	}
	j.out.warningf(where{title: "evalgate: tracking issue"}, "%v%s", err, hint)
}

// oneLine keeps a name on one line (an issue title).
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// annotate writes an error annotation, on the criterion's line of the config,
// for each check that keeps the verdict from passing, and a warning for the
// rest that did not pass.
func (j *job) annotate(o *suiteOutcome, v *gate.Verdict, config []byte) {
	for _, c := range v.Criteria {
		if c.Status == gate.CheckPass {
			continue
		}
		w := where{title: fmt.Sprintf("evalgate %s: %s %s %s", o.name, c.Metric, c.Check, c.Status),
			file: o.configRel, line: criterionLine(config, c.Metric)}
		if c.Blocks() {
			j.out.errorf(w, "%s (%s): %s", c.Bound, c.Mode, c.Reason)
		} else {
			j.out.warningf(w, "%s (%s): %s", c.Bound, c.Mode, c.Reason)
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
