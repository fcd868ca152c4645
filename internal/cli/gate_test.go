package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/evalgate/evalgate/internal/ghapi/ghapitest"
	"github.com/evalgate/evalgate/internal/golden"
)

const (
	exampleConfig = "examples/support/evalgate.yaml"
	baseSHA       = "9f1c2d3e4b5a69788796a5b4c3d2e1f0a9b8c7d6"
	ghToken       = "ghs_gatetesttoken0123456789"
)

// gateEnv is a job's environment: the runner's GITHUB_* variables and the
// step's INPUT_* ones, for the event fixture named.
type gateEnv struct {
	t       *testing.T
	ws      string
	vars    map[string]string
	srv     *ghapitest.Server
	outputs string
	summary string
}

// newGateEnv copies the bundled example into a workspace and points the
// runner's variables at the fake GitHub.
func newGateEnv(t *testing.T, event, fixture string) *gateEnv {
	t.Helper()
	ws := t.TempDir()
	copyExampleTo(t, filepath.Join(ws, "examples", "support"))
	files := t.TempDir()
	srv := ghapitest.New(t, "nimbus-drive", "support-bot")
	srv.Token = ghToken
	g := &gateEnv{t: t, ws: ws, srv: srv, outputs: filepath.Join(files, "output"), summary: filepath.Join(files, "summary")}
	g.vars = map[string]string{
		"GITHUB_ACTIONS":      "true",
		"GITHUB_EVENT_NAME":   event,
		"GITHUB_EVENT_PATH":   filepath.Join("..", "..", "testdata", "events", fixture),
		"GITHUB_REPOSITORY":   "nimbus-drive/support-bot",
		"GITHUB_WORKSPACE":    ws,
		"GITHUB_API_URL":      srv.APIURL(),
		"GITHUB_SERVER_URL":   "https://github.com",
		"GITHUB_RUN_ID":       "777",
		"GITHUB_WORKFLOW":     "evalgate",
		"GITHUB_WORKFLOW_REF": "nimbus-drive/support-bot/.github/workflows/evalgate.yml@refs/pull/42/merge",
		"GITHUB_REF_NAME":     "main",
		"GITHUB_OUTPUT":       g.outputs,
		"GITHUB_STEP_SUMMARY": g.summary,
		"TMPDIR":              t.TempDir(),
		"INPUT_CONFIG":        exampleConfig,
		"INPUT_GITHUB-TOKEN":  ghToken,
	}
	return g
}

// run runs the gate once and returns its exit code and standard output.
func (g *gateEnv) run() (int, string) {
	g.t.Helper()
	var out, errb bytes.Buffer
	e := &Env{Getenv: func(k string) string { return g.vars[k] }, Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb}
	err := runGate(context.Background(), e)
	if err != nil {
		out.WriteString("evalgate gate: " + err.Error() + "\n")
	}
	printed := strings.ReplaceAll(out.String()+errb.String(), "::add-mask::"+ghToken+"\n", "")
	assert.NotContains(g.t, printed, ghToken, "the token is printed only to mask it")
	return exitCode(err), out.String()
}

// outputsOf parses the GITHUB_OUTPUT file (heredoc format).
func (g *gateEnv) outputsOf() map[string]string {
	b, err := os.ReadFile(g.outputs)
	require.NoError(g.t, err)
	out := map[string]string{}
	re := regexp.MustCompile(`(?s)([\w-]+)<<_GitHubActionsFileCommandDelimeter_\n(.*?)\n_GitHubActionsFileCommandDelimeter_\n`)
	for _, m := range re.FindAllStringSubmatch(string(b), -1) {
		out[m[1]] = m[2]
	}
	return out
}

func (g *gateEnv) summaryText() string {
	b, _ := os.ReadFile(g.summary)
	return string(b)
}

func copyExampleTo(t *testing.T, dst string) {
	t.Helper()
	src := copyExample(t)
	require.NoError(t, os.MkdirAll(filepath.Dir(dst), 0o755))
	require.NoError(t, os.Rename(src, dst))
}

var (
	baselineOnce sync.Once
	baselineData []byte
	baselineErr  error
)

// exampleResults is the results file of the bundled example, run once.
func exampleResults(t *testing.T) []byte {
	t.Helper()
	baselineOnce.Do(func() {
		dir := copyExample(t)
		out := filepath.Join(dir, "base.jsonl")
		code, _, stderr := invoke(t, context.Background(), "run", "--config", filepath.Join(dir, "evalgate.yaml"), "--out", out, "--progress", "off")
		if code != ExitPass {
			baselineErr = &exitError{code, os.ErrInvalid}
			t.Log(stderr)
			return
		}
		baselineData, baselineErr = os.ReadFile(out)
	})
	require.NoError(t, baselineErr)
	return baselineData
}

// better returns results whose gated target scored perfectly, so that the
// real run regresses against them.
func better(t *testing.T, data []byte) []byte {
	var out bytes.Buffer
	for _, line := range bytes.Split(bytes.TrimRight(data, "\n"), []byte("\n")) {
		var m map[string]any
		require.NoError(t, json.Unmarshal(line, &m))
		if m["kind"] == "record" && m["target"] == "nova-lite" {
			scores := m["scores"].(map[string]any)
			scores["f1"], scores["rouge_l"] = 1.0, 1.0
		}
		b, _ := json.Marshal(m)
		out.Write(b)
		out.WriteByte('\n')
	}
	return out.Bytes()
}

// withArtifact gives the fake a successful run on main holding data as the
// suite's results artifact.
func (g *gateEnv) withArtifact(data []byte) {
	g.srv.Lock() // the fake serves from other goroutines
	g.srv.Runs = []ghapitest.Run{{ID: 555, Workflow: "evalgate.yml", Branch: "main", Status: "success", HeadSHA: baseSHA}}
	g.srv.Artifacts[555] = []ghapitest.Artifact{{ID: 5550, Name: "evalgate-results-support-answers",
		Zip: ghapitest.Zip(g.t, map[string]string{"results.jsonl": string(data)})}}
	g.srv.Unlock()
}

func TestGatePullRequestStickyComment(t *testing.T) {
	t.Parallel()
	g := newGateEnv(t, "pull_request", "pull_request.json")
	g.srv.Lock() // the fake serves from other goroutines
	g.srv.PRFiles[42] = []string{"README.md", "examples/support/prompts/answer.txt"}
	g.srv.Unlock()
	g.withArtifact(better(t, exampleResults(t)))

	code, out := g.run()
	assert.Equal(t, ExitRegressed, code, out)
	assert.Contains(t, out, "::add-mask::"+ghToken)
	assert.Contains(t, out, "::group::evalgate: suite support-answers\n")
	assert.Contains(t, out, "::endgroup::")
	assert.Regexp(t, `::error file=examples/support/evalgate.yaml,line=\d+,title=evalgate support-answers%3A f1 max_drop fail::drop`, out)

	g.srv.Lock()
	require.Len(t, g.srv.Comments[42], 1)
	first := g.srv.Comments[42][0]
	assert.Equal(t, 1, g.srv.Calls["POST issues/{n}/comments"], "the placeholder")
	assert.Equal(t, 1, g.srv.Calls["PATCH issues/comments/{n}"], "the placeholder replaced by the report")
	assert.Equal(t, 1, g.srv.Downloads)
	body := first.Body
	g.srv.Unlock()
	golden.Assert(t, body)

	o := g.outputsOf()
	assert.Equal(t, "regressed", o["verdict"])
	assert.Equal(t, "examples/support/.evalgate/results.jsonl", o["results-path"])
	assert.Equal(t, "examples/support/.evalgate/results.report.md", o["report-path"])
	assert.Equal(t, first.URL, o["comment-url"])
	assert.Equal(t, "evalgate-results-support-answers", o["artifact-name"])
	// The HTML report is in the workspace for the workflow to upload, and
	// the comment names its artifact and links the run's artifacts.
	assert.Equal(t, "examples/support/.evalgate/results.report.html", o["html-path"])
	assert.Equal(t, "evalgate-report-support-answers", o["html-artifact"])
	page, err := os.ReadFile(filepath.Join(g.ws, filepath.FromSlash(o["html-path"])))
	require.NoError(t, err)
	assert.Contains(t, string(page), "support-answers")
	assert.Regexp(t, `📊 The HTML report .* is the artifact \*\*evalgate-report-support-answers\*\* of the \[workflow run\]\(https://\S+/actions/runs/\d+#artifacts\)`, body)
	// The picture of each check's move toward its limit, in the comment and
	// the summary, with its text line.
	for _, md := range []string{body, g.summaryText()} {
		assert.Contains(t, md, "```mermaid\n")
		assert.Contains(t, md, "Move toward each limit as a share of its margin")
	}
	assert.JSONEq(t, `{"support-answers":"regressed"}`, o["verdicts"])
	assert.Contains(t, g.summaryText(), "support-answers: regressed")
	assert.NotContains(t, g.summaryText(), "evalgate:report", "the marker is for the comment only")

	// A second run (a new push to the pull request) edits the same comment.
	code, _ = g.run()
	assert.Equal(t, ExitRegressed, code)
	g.srv.Lock()
	defer g.srv.Unlock()
	assert.Len(t, g.srv.Comments[42], 1, "one comment per suite and workflow")
	assert.Equal(t, first.ID, g.srv.Comments[42][0].ID)
	assert.Equal(t, 1, g.srv.Calls["POST issues/{n}/comments"])
	assert.Equal(t, 3, g.srv.Calls["PATCH issues/comments/{n}"], "placeholder and report, edited in place")
}

func TestGateSkipsUnchangedSuites(t *testing.T) {
	t.Parallel()
	g := newGateEnv(t, "pull_request", "pull_request.json")
	g.srv.Lock() // the fake serves from other goroutines
	g.srv.PRFiles[42] = []string{"README.md", "src/app.py"}
	g.srv.Unlock()
	code, out := g.run()
	assert.Equal(t, ExitPass, code, out)
	assert.Contains(t, out, "::notice file=examples/support/evalgate.yaml,title=evalgate%3A support-answers skipped::suite support-answers not run")
	o := g.outputsOf()
	assert.Equal(t, "skipped", o["verdict"], "never reported as a pass")
	assert.JSONEq(t, `{"support-answers":"skipped"}`, o["verdicts"])
	assert.Empty(t, o["results-path"])
	assert.Empty(t, g.srv.Comments[42])

	// The force input runs it anyway; without a baseline artifact, the base
	// revision is evaluated (here identical: a pass).
	g.vars["INPUT_FORCE"] = "true"
	g.srv.Lock() // the fake serves from other goroutines
	g.srv.Contents[baseSHA] = exampleTree(t)
	g.srv.Unlock()
	code, out = g.run()
	assert.Equal(t, ExitPass, code, out)
	assert.Equal(t, "pass", g.outputsOf()["verdict"])
	assert.Contains(t, out, "evaluating the base revision 9f1c2d3")
	assert.Contains(t, g.summaryText(), "the base revision 9f1c2d3, evaluated in this job")
	assert.Contains(t, g.summaryText(), `no artifact &quot;evalgate-results-support-answers&quot;`)
}

// exampleTree is the example's files as the contents API serves them at the
// base revision, with the target's answers made longer: a changed baseline.
func exampleTree(t *testing.T) map[string]string {
	files := map[string]string{}
	src := filepath.Join("..", "..", "examples", "support")
	for _, f := range []string{"evalgate.yaml", "data/support.jsonl", "prompts/answer.txt", "cassettes/nova-lite.jsonl"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		require.NoError(t, err)
		files["examples/support/"+f] = string(b)
	}
	return files
}

func TestGateForkReadOnlyToken(t *testing.T) {
	t.Parallel()
	g := newGateEnv(t, "pull_request", "pull_request_fork.json")
	g.srv.Lock() // the fake serves from other goroutines
	g.srv.ReadOnly = true
	g.srv.PRFiles[43] = []string{"examples/support/evalgate.yaml"}
	g.srv.Unlock()
	g.withArtifact(exampleResults(t))
	code, out := g.run()
	assert.Equal(t, ExitPass, code, out)
	assert.Contains(t, out, "::warning title=evalgate%3A no pull-request comment::the report of support-answers is in the job summary")
	assert.Contains(t, out, "comes from a fork")
	o := g.outputsOf()
	assert.Equal(t, "pass", o["verdict"])
	assert.Empty(t, o["comment-url"])
	assert.Contains(t, g.summaryText(), "support-answers: pass")
	assert.Empty(t, g.srv.Comments[43])
}

func TestGateScheduledRegressionTrackingIssue(t *testing.T) {
	t.Parallel()
	g := newGateEnv(t, "schedule", "schedule.json")
	g.vars["GITHUB_WORKFLOW_REF"] = "nimbus-drive/support-bot/.github/workflows/nightly.yml@refs/heads/main"
	g.vars["INPUT_BASELINE-WORKFLOW"] = "evalgate.yml"
	g.withArtifact(better(t, exampleResults(t)))

	for night := 1; night <= 2; night++ {
		code, out := g.run()
		assert.Equal(t, ExitRegressed, code, out)
	}
	g.srv.Lock()
	require.Len(t, g.srv.Issues, 1, "one tracking issue, updated")
	var issue *ghapitest.Issue
	for _, is := range g.srv.Issues {
		issue = is
	}
	assert.Equal(t, "evalgate: suite support-answers is regressed in the scheduled run", issue.Title)
	assert.Regexp(t, `^<!-- evalgate:tracking id=[0-9a-f]{16} -->\n`, issue.Body)
	assert.Equal(t, []string{"evalgate"}, issue.Labels)
	assert.Equal(t, 1, g.srv.Calls["POST issues"])
	assert.Equal(t, 1, g.srv.Calls["PATCH issues/{n}"])
	g.srv.Unlock()

	// The next night passes: the issue is closed with a comment.
	g.withArtifact(exampleResults(t))
	code, out := g.run()
	assert.Equal(t, ExitPass, code, out)
	g.srv.Lock()
	defer g.srv.Unlock()
	assert.Equal(t, "closed", issue.State)
	require.Len(t, g.srv.Comments[issue.Number], 1)
	assert.Contains(t, g.srv.Comments[issue.Number][0].Body, "Suite support-answers passes again in the [scheduled run](https://github.com/nimbus-drive/support-bot/actions/runs/777)")
}

func TestGateFailOnError(t *testing.T) {
	t.Parallel()
	g := newGateEnv(t, "schedule", "schedule.json")
	g.vars["INPUT_FAIL-ON"] = "error"
	g.vars["INPUT_ISSUE"] = "false"
	g.withArtifact(better(t, exampleResults(t)))
	code, out := g.run()
	assert.Equal(t, ExitPass, code, out)
	assert.Contains(t, out, "not failing the step (fail-on: error)")
	assert.Equal(t, "regressed", g.outputsOf()["verdict"])
	assert.Empty(t, g.srv.Issues)
}

func TestGatePushUsesSuiteBaselineAndModeInput(t *testing.T) {
	t.Parallel()
	g := newGateEnv(t, "release", "release.json")
	g.vars["INPUT_MODE"] = "non_inferiority"
	code, out := g.run()
	// The example's target is not shown within f1's margin by 30 samples:
	// in non_inferiority mode, that does not pass.
	assert.Equal(t, ExitRegressed, code, out)
	o := g.outputsOf()
	assert.Equal(t, "inconclusive", o["verdict"])
	assert.Contains(t, g.summaryText(), "mode non_inferiority")
	assert.Contains(t, g.summaryText(), "the suite's gate.baseline \\(source\\)")
	assert.Zero(t, g.srv.Calls["GET actions/workflows/evalgate.yml/runs"])
}

// A wrong input is a usage error: exit 2 (the inputs themselves are checked
// in internal/action).
func TestGateInputErrorExitsUsage(t *testing.T) {
	t.Parallel()
	g := newGateEnv(t, "push", "push.json")
	g.vars["INPUT_MODE"] = "non-inferiority"
	code, out := g.run()
	assert.Equal(t, ExitUsage, code, out)
	assert.Contains(t, out, `input mode: "non-inferiority": want regression or non_inferiority, did you mean "non_inferiority"?`)
	assert.Equal(t, "error", g.outputsOf()["verdict"])
}

// workflowInputs are the inputs docs/workflows/<file> gives the action's
// step, as the runner would pass them (INPUT_*).
func workflowInputs(t *testing.T, file string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "workflows", file))
	require.NoError(t, err)
	var w struct {
		Jobs map[string]struct {
			Steps []struct {
				Uses string            `yaml:"uses"`
				With map[string]string `yaml:"with"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	require.NoError(t, yaml.Unmarshal(b, &w))
	for _, j := range w.Jobs {
		for _, s := range j.Steps {
			if strings.HasPrefix(s.Uses, "evalgate/evalgate@") {
				vars := map[string]string{}
				for k, v := range s.With {
					vars["INPUT_"+strings.ToUpper(k)] = v
				}
				return vars
			}
		}
	}
	t.Fatalf("%s has no evalgate step", file)
	return nil
}

// Item 4: the release gate of docs/workflows/release-gate.yml, with its own
// inputs, on a published release and on a version tag (real payloads):
// the target must be shown non-inferior to production, the default branch's
// latest results artifact, or the step fails and the deploy job never runs;
// a suite too small to show it blocks the release too.
func TestReleaseGateWorkflow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, event, fixture, ref string
		production                func(t *testing.T) []byte
		code                      int
		verdict                   string
	}{
		// The example's 30 samples cannot show non-inferiority (0 errors in
		// 30 calls do not show an error rate under 2%): a release that
		// matches production is blocked as not shown within its margins,
		// which is what release gating on a small suite must do.
		{"release, production matched", "release", "release.json", "v2.0.0", exampleResults, ExitRegressed, "inconclusive"},
		{"tag, production matched", "push", "push_tag.json", "v2.0.0", exampleResults, ExitRegressed, "inconclusive"},
		{"release, production better", "release", "release.json", "v2.0.0", func(t *testing.T) []byte { return better(t, exampleResults(t)) }, ExitRegressed, "regressed"},
		{"tag, production better", "push", "push_tag.json", "v2.0.0", func(t *testing.T) []byte { return better(t, exampleResults(t)) }, ExitRegressed, "regressed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := newGateEnv(t, tt.event, tt.fixture)
			for k, v := range workflowInputs(t, "release-gate.yml") {
				g.vars[k] = v
			}
			g.vars["INPUT_CONFIG"] = exampleConfig // the workflow's evalgate.yaml is the example here
			g.vars["GITHUB_REF_NAME"] = tt.ref     // a tag, not the branch the baseline comes from
			g.vars["GITHUB_WORKFLOW_REF"] = "nimbus-drive/support-bot/.github/workflows/release-gate.yml@refs/tags/v2.0.0"
			g.withArtifact(tt.production(t))

			code, out := g.run()
			assert.Equal(t, tt.code, code, out)
			o := g.outputsOf()
			assert.Equal(t, tt.verdict, o["verdict"])
			summary := g.summaryText()
			assert.Contains(t, summary, "mode non_inferiority")
			assert.Contains(t, summary, "Baseline: evalgate-results-support-answers of main at 9f1c2d3")
			g.srv.Lock()
			defer g.srv.Unlock()
			assert.Equal(t, 1, g.srv.Calls["GET actions/workflows/evalgate.yml/runs"], "production: the pull-request workflow's runs on main")
			assert.Equal(t, 1, g.srv.Downloads)
			assert.Empty(t, g.srv.Comments, "comment: false")
		})
	}
}
