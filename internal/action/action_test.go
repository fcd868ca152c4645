package action

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sethvargo/go-githubactions"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/evalgate/evalgate/internal/gate"
	"github.com/evalgate/evalgate/internal/ghapi/ghapitest"
	"github.com/evalgate/evalgate/internal/trend"
)

// actionYAML is the part of action.yml the code must agree with.
type actionYAML struct {
	Inputs map[string]struct {
		Default  string `yaml:"default"`
		Required bool   `yaml:"required"`
	} `yaml:"inputs"`
	Outputs map[string]struct {
		Description string `yaml:"description"`
	} `yaml:"outputs"`
	Runs struct {
		Using string   `yaml:"using"`
		Args  []string `yaml:"args"`
	} `yaml:"runs"`
}

func readActionYAML(t *testing.T) actionYAML {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "action.yml"))
	require.NoError(t, err)
	var a actionYAML
	require.NoError(t, yaml.Unmarshal(b, &a))
	return a
}

// TestActionYAMLDeclaresWhatTheCodeReadsAndWrites ties action.yml to the
// code: the inputs it declares are the ones the code reads, with the same
// defaults (a docker:// step gets only the code's), and the outputs it
// declares are the ones a run writes.
func TestActionYAMLDeclaresWhatTheCodeReadsAndWrites(t *testing.T) {
	t.Parallel()
	a := readActionYAML(t)
	assert.Equal(t, "docker", a.Runs.Using)
	assert.Equal(t, []string{"gate"}, a.Runs.Args)

	var names []string
	for _, in := range Inputs {
		names = append(names, in.Name)
		decl, ok := a.Inputs[in.Name]
		if !assert.True(t, ok, "input %s is read by the code but not declared in action.yml", in.Name) {
			continue
		}
		assert.False(t, decl.Required, "input %s: every input has a default", in.Name)
		if in.Name == "github-token" {
			assert.Equal(t, "${{ github.token }}", decl.Default)
			continue
		}
		assert.Equal(t, in.Default, decl.Default, "input %s: action.yml's default and the code's differ", in.Name)
	}
	for name := range a.Inputs {
		assert.Contains(t, names, name, "action.yml declares input %s, which the code never reads", name)
	}
	var outs []string
	for name := range a.Outputs {
		outs = append(outs, name)
	}
	assert.ElementsMatch(t, Outputs, outs)

	// A run reads only declared inputs and writes every declared output.
	h := newHarness(t, "pull_request", "pull_request.json")
	h.setPRFiles("examples/support/prompts/answer.txt")
	_, err := h.run()
	require.NoError(t, err)
	h.read.Range(func(k, _ any) bool {
		name := strings.ToLower(strings.TrimPrefix(k.(string), "INPUT_"))
		assert.Contains(t, a.Inputs, name, "the code read %s, which action.yml does not declare", k)
		return true
	})
	var written []string
	for name := range h.outputsOf() {
		written = append(written, name)
	}
	assert.ElementsMatch(t, outs, written)
}

// Fault 3a: a suite name holding "-->" ended the marker's HTML comment, and
// the rest of the marker rendered as Markdown (a live mention, link, image).
func TestMarkersAreSafeForAnySuiteName(t *testing.T) {
	t.Parallel()
	const hostile = `x --> @octocat [click](https://evil.example) ![p](https://evil.example/p.png) <!-- "quoted"`
	h := newHarness(t, "pull_request", "pull_request.json")
	h.setName(hostile)
	h.setPRFiles("examples/support/prompts/answer.txt")
	h.runner.status = gate.StatusRegressed
	h.runner.err = &Error{Class: ClassRegressed, Err: assert.AnError}
	_, err := h.run()
	assert.Equal(t, ClassRegressed, ClassOf(err))

	cs := h.comments(42)
	require.Len(t, cs, 1)
	lines := strings.SplitN(cs[0].Body, "\n", 4)
	assert.Regexp(t, `^<!-- evalgate:report id=[0-9a-f]{16} -->$`, lines[0])
	assert.Equal(t, "<!-- evalgate:commit="+headSHA+" -->", lines[1])
	assert.NotContains(t, cs[0].Body, "-->\n@octocat", "the name is not in the marker")
	assert.NotContains(t, cs[0].Body, "@octocat", "the name is escaped where it is shown")
	assert.NotContains(t, cs[0].Body, "](https://evil")
	assert.Equal(t, 2, strings.Count(cs[0].Body, "-->"), "only the marker and the commit tag close a comment")

	// A second run finds the comment again by its marker: one comment.
	h.run()
	assert.Len(t, h.comments(42), 1)

	// The tracking issue's marker is built the same way.
	s := newHarness(t, "schedule", "schedule.json")
	s.setName(hostile)
	s.runner.status = gate.StatusRegressed
	s.runner.err = &Error{Class: ClassRegressed, Err: assert.AnError}
	s.run()
	s.srv.Lock()
	defer s.srv.Unlock()
	require.Len(t, s.srv.Issues, 1)
	for _, is := range s.srv.Issues {
		assert.Regexp(t, `^<!-- evalgate:tracking id=[0-9a-f]{16} -->\n`, is.Body)
		assert.NotContains(t, is.Body, "@octocat")
		assert.Equal(t, 1, strings.Count(is.Body, "-->"))
		assert.NotContains(t, is.Title, "\n")
	}
}

// Fault 3b: a run regressed, then the pull request stopped changing the
// suite's files; the next run was skipped and green while the comment still
// said "regressed". The comment must say which commit its verdict is for.
func TestStaleCommentSaysWhichCommitItsVerdictIsFor(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "pull_request", "pull_request.json")
	h.setPRFiles("examples/support/prompts/answer.txt")
	h.runner.status = gate.StatusRegressed
	h.runner.err = &Error{Class: ClassRegressed, Err: assert.AnError}
	_, err := h.run()
	require.Equal(t, ClassRegressed, ClassOf(err))
	require.Len(t, h.comments(42), 1)
	id := h.comments(42)[0].ID

	// A force-push: the pull request now changes README.md only.
	const second = "5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c"
	h.withPayload("pull_request.json", func(m map[string]any) {
		m["pull_request"].(map[string]any)["head"].(map[string]any)["sha"] = second
	})
	h.setPRFiles("README.md")
	out, err := h.run()
	require.NoError(t, err, "a skipped suite does not decide the check")
	assert.Contains(t, out, "suite support-answers not run")
	assert.Equal(t, "skipped", h.outputsOf()["verdict"])
	cs := h.comments(42)
	require.Len(t, cs, 1)
	assert.Equal(t, id, cs[0].ID, "the same comment, edited")
	body := cs[0].Body
	assert.Contains(t, body, "<!-- evalgate:commit="+headSHA+" -->", "the verdict's commit is kept")
	assert.Contains(t, body, "## ⏭️ evalgate: support-answers: not evaluated at 5c5c5c5")
	assert.Contains(t, body, "The report below is for commit 3b7e1f0 and no longer describes this pull request")
	assert.Contains(t, body, "<details><summary>Earlier report (commit 3b7e1f0)</summary>")
	assert.Contains(t, body, "## stub report: regressed")
	assert.NotContains(t, body[:strings.Index(body, "<details>")], "stub report", "the old verdict is folded, under the notice")

	// Another push that still leaves the suite alone: the notice moves on,
	// the earlier report is kept once, not folded twice.
	const third = "7d7d7d7d7d7d7d7d7d7d7d7d7d7d7d7d7d7d7d7d"
	h.withPayload("pull_request.json", func(m map[string]any) {
		m["pull_request"].(map[string]any)["head"].(map[string]any)["sha"] = third
	})
	_, _ = h.run()
	body = h.comments(42)[0].Body
	assert.Contains(t, body, "not evaluated at 7d7d7d7")
	assert.Equal(t, 1, strings.Count(body, "<details><summary>Earlier report (commit 3b7e1f0)"))
	assert.Equal(t, 1, strings.Count(body, "## stub report: regressed"))
	h.srv.Lock()
	defer h.srv.Unlock()
	assert.Equal(t, 1, h.srv.Calls["POST issues/{n}/comments"], "never a second comment")
}

// Fault 3d: a pull_request event without a payload, or whose payload has no
// pull_request, was run as if it were not a pull request: exit 0, no comment,
// no warning.
func TestPullRequestEventWithoutItsPullRequestIsAnError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		edit func(h *harness)
		want string
	}{
		{"no GITHUB_EVENT_PATH", func(h *harness) { delete(h.vars, "GITHUB_EVENT_PATH") }, "event pull_request: GITHUB_EVENT_PATH is not set, so the pull request is unknown"},
		{"payload file missing", func(h *harness) { h.vars["GITHUB_EVENT_PATH"] = filepath.Join(h.t.TempDir(), "gone.json") }, "does not exist, so the pull request is unknown"},
		{"payload without pull_request", func(h *harness) { h.withPayload("push.json", func(map[string]any) {}) }, "has no pull_request, so the pull request is unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, "pull_request", "pull_request.json")
			h.setPRFiles("examples/support/prompts/answer.txt")
			tt.edit(h)
			out, err := h.run()
			assert.Equal(t, ClassUsage, ClassOf(err))
			assert.ErrorContains(t, err, tt.want)
			assertFatalReported(t, h, out, tt.want)
			assert.Empty(t, h.runner.reqs, "nothing is run blind")
		})
	}
}

// assertFatalReported checks fault 3f: a run that stops before any suite
// still writes an error annotation, the step summary and every output.
func assertFatalReported(t *testing.T, h *harness, out, want string) {
	t.Helper()
	assert.Regexp(t, `(?m)^::error title=evalgate::.*`+regexp.QuoteMeta(strings.ReplaceAll(want, "\n", "%0A")), out)
	assert.Contains(t, h.summaryText(), "## 🛑 evalgate: error")
	o := h.outputsOf()
	assert.Len(t, o, len(Outputs), "every output is written, empty or not")
	assert.Equal(t, "error", o["verdict"])
	assert.Equal(t, "{}", o["verdicts"])
}

// Fault 3f: fatal usage errors wrote no outputs, no step summary and no
// annotation (stderr only).
func TestFatalErrorsWriteOutputsSummaryAndAnnotation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, key, value, want string
	}{
		{"mode", "INPUT_MODE", "non-inferiority", `input mode: "non-inferiority": want regression or non_inferiority, did you mean "non_inferiority"?`},
		{"fail-on", "INPUT_FAIL-ON", "always", `input fail-on: "always"`},
		{"fail-on two levels", "INPUT_FAIL-ON", "regressed, error", "names more than one"},
		{"budget", "INPUT_BUDGET", "lots", "want an amount in USD"},
		{"concurrency", "INPUT_CONCURRENCY", "0", "input concurrency"},
		{"sequential", "INPUT_SEQUENTIAL", "yes", `input sequential: "yes": write true or false`},
		{"comment", "INPUT_COMMENT", "yes please", "write true or false"},
		{"baseline", "INPUT_BASELINE", "yesterday", "want auto, artifact, base, suite or a results file"},
		{"config", "INPUT_CONFIG", "missing.yaml", `"missing.yaml" matches no file in the workspace`},
		{"event", "GITHUB_EVENT_NAME", "issue_comment", `event "issue_comment" is not supported`},
		{"no event", "GITHUB_EVENT_NAME", "", "GITHUB_EVENT_NAME is not set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, "push", "push.json")
			h.vars[tt.key] = tt.value
			out, err := h.run()
			assert.Equal(t, ClassUsage, ClassOf(err), out)
			assert.ErrorContains(t, err, tt.want)
			assertFatalReported(t, h, out, tt.want)
		})
	}
}

// Fault 3e: a missing token or an unreachable API degraded to exit 0 with
// warnings only, silently breaking the comment on a pull request.
func TestPublishFailuresOnAPullRequestAreErrors(t *testing.T) {
	t.Parallel()
	closed := httptest.NewServer(nil)
	closed.Close()
	tests := []struct {
		name    string
		edit    func(h *harness)
		problem string
	}{
		{"no token", func(h *harness) { delete(h.vars, "INPUT_GITHUB-TOKEN") }, "no github-token: the reports cannot be posted on the pull request"},
		{"API unreachable", func(h *harness) { h.vars["GITHUB_API_URL"] = closed.URL + ghapitest.Prefix }, "the report of support-answers is in the job summary, not on the pull request: github: list comments of #42"},
		{"token not allowed", func(h *harness) { h.srv.Lock(); h.srv.ReadOnly = true; h.srv.Unlock() }, "give the job `permissions: pull-requests: write`"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, "pull_request", "pull_request.json")
			h.setPRFiles("examples/support/prompts/answer.txt")
			tt.edit(h)
			out, err := h.run()
			require.NoError(t, err, "the verdict (a pass) decides the exit code")
			assert.Contains(t, out, "::error title=evalgate%3A pull-request comment not posted::")
			assert.Contains(t, out, tt.problem)
			summary := h.summaryText()
			assert.True(t, strings.HasPrefix(summary, "> [!CAUTION]\n> **evalgate could not publish on the pull request**"), summary)
			assert.Contains(t, summary, "## stub report: pass", "the report is still in the summary")
			assert.Equal(t, "pass", h.outputsOf()["verdict"])
			assert.Empty(t, h.outputsOf()["comment-url"])

			// fail-on may add publish: the step then fails.
			h.vars["INPUT_FAIL-ON"] = "regressed, publish"
			_, err = h.run()
			assert.Equal(t, ClassInfra, ClassOf(err))
			assert.ErrorContains(t, err, "(fail-on: publish)")
		})
	}

	// A regression still fails the step, comment or not.
	h := newHarness(t, "pull_request", "pull_request.json")
	delete(h.vars, "INPUT_GITHUB-TOKEN")
	h.runner.status = gate.StatusRegressed
	h.runner.err = &Error{Class: ClassRegressed, Err: assert.AnError}
	_, err := h.run()
	assert.Equal(t, ClassRegressed, ClassOf(err))
}

// A fork's pull request gets a read-only token by GitHub's rule: the
// report goes to the summary with a warning, not an error.
func TestForkReadOnlyTokenIsAWarning(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "pull_request", "pull_request_fork.json")
	h.srv.Lock()
	h.srv.ReadOnly = true
	h.srv.PRFiles[43] = []string{"examples/support/evalgate.yaml"}
	h.srv.Unlock()
	out, err := h.run()
	require.NoError(t, err)
	assert.Contains(t, out, "::warning title=evalgate%3A no pull-request comment::the report of support-answers is in the job summary")
	assert.NotContains(t, out, "::error")
	assert.False(t, strings.HasPrefix(h.summaryText(), "> [!CAUTION]"))
}

// Fault 3g: every tracking-issue failure said "give the job permissions:
// issues: write", even when the token was not the problem; and the close
// comment read "is pass again".
func TestTrackingIssueMessages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		edit     func(h *harness)
		want     string
		wantHint bool
	}{
		{"read-only token", func(h *harness) { h.srv.ReadOnly = true }, "github: create issue: 403 Forbidden: Resource not accessible by integration", true},
		{"bad credentials", func(h *harness) { h.srv.Token = "another" }, "github: list open issues: 401 Unauthorized: Bad credentials", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, "schedule", "schedule.json")
			h.vars["INPUT_BASELINE"] = "suite"
			h.runner.status = gate.StatusRegressed
			h.runner.err = &Error{Class: ClassRegressed, Err: assert.AnError}
			h.srv.Lock()
			tt.edit(h)
			h.srv.Unlock()
			out, _ := h.run()
			assert.Contains(t, out, "::warning title=evalgate%3A tracking issue::"+tt.want)
			assert.Equal(t, tt.wantHint, strings.Contains(out, "issues: write"), out)
		})
	}

	h := newHarness(t, "schedule", "schedule.json")
	h.vars["INPUT_BASELINE"] = "suite"
	h.runner.status = gate.StatusRegressed
	h.runner.err = &Error{Class: ClassRegressed, Err: assert.AnError}
	h.run()
	h.runner.status, h.runner.err = gate.StatusPass, nil
	_, err := h.run()
	require.NoError(t, err)
	h.srv.Lock()
	defer h.srv.Unlock()
	require.Len(t, h.srv.Issues, 1)
	for n, is := range h.srv.Issues {
		assert.Equal(t, "closed", is.State)
		require.Len(t, h.srv.Comments[n], 1)
		assert.Equal(t, "Suite support-answers passes again in the [scheduled run](https://github.com/nimbus-drive/support-bot/actions/runs/777); closing.\n", h.srv.Comments[n][0].Body)
	}
}

// An ungated night (no baseline found) is no news for an open issue: it is
// neither closed nor updated.
func TestUngatedNightLeavesTheTrackingIssueAlone(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "schedule", "schedule.json")
	h.vars["INPUT_BASELINE"] = "suite"
	h.runner.status = gate.StatusRegressed
	h.runner.err = &Error{Class: ClassRegressed, Err: assert.AnError}
	h.run()
	h.runner.status, h.runner.err, h.runner.gateSkipped = "", nil, "no baseline"
	_, err := h.run()
	require.NoError(t, err)
	assert.Equal(t, "ungated", h.outputsOf()["verdict"])
	h.srv.Lock()
	defer h.srv.Unlock()
	require.Len(t, h.srv.Issues, 1)
	for _, is := range h.srv.Issues {
		assert.Equal(t, "open", is.State)
	}
	assert.Equal(t, 1, h.srv.Calls["POST issues"])
	assert.Zero(t, h.srv.Calls["PATCH issues/{n}"])
}

// go-githubactions v1.3.0 writes outputs with a fixed heredoc delimiter: a
// value holding it could set other outputs, so it is refused.
func TestOutputHoldingTheDelimiterIsRefused(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "output")
	h := newHarness(t, "push", "push.json")
	h.vars["GITHUB_OUTPUT"] = file
	c := consoleFor(h)
	err := c.setOutput("verdict", "pass\n"+fileDelimiter+"\nverdict<<"+fileDelimiter+"\nforged")
	assert.ErrorContains(t, err, "holds the file-command delimiter")
	_, statErr := os.Stat(file)
	assert.True(t, os.IsNotExist(statErr), "nothing written")
	require.NoError(t, c.setOutput("verdict", "a\nb"))
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"verdict": "a\nb"}, parseOutputs(string(b)))
}

// go-githubactions panics when it cannot write a file command; the action
// reports it instead.
func TestUnwritableOutputFileIsAnErrorNotAPanic(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "push", "push.json")
	h.vars["GITHUB_OUTPUT"] = t.TempDir() // a directory: cannot be opened for writing
	h.vars["INPUT_BASELINE"] = "suite"
	_, err := h.run()
	assert.Equal(t, ClassInfra, ClassOf(err))
	assert.ErrorContains(t, err, "output verdict: GITHUB_OUTPUT")
}

func consoleFor(h *harness) console {
	return console{githubactions.New(githubactions.WithGetenv(func(k string) string { return h.vars[k] }), githubactions.WithWriter(&strings.Builder{}))}
}

func TestCriterionLine(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(filepath.Join("..", "..", exampleConfig))
	require.NoError(t, err)
	lines := strings.Split(string(raw), "\n")
	n := criterionLine(raw, "f1")
	require.Positive(t, n)
	assert.Contains(t, lines[n-1], "{metric: f1, max_drop: 0.05}")
	assert.Zero(t, criterionLine(raw, "nonexistent"))
}

// Fault 3h: README's docker:// snippet omitted github-token, and action.yml's
// defaults do not apply to a docker:// step.
func TestReadmeDockerSnippetPassesTheToken(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	require.NoError(t, err)
	_, section, ok := strings.Cut(string(b), "### Pinning a prebuilt image")
	require.True(t, ok)
	m := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindStringSubmatch(section)
	require.NotNil(t, m)
	var steps []struct {
		Uses string            `yaml:"uses"`
		With map[string]string `yaml:"with"`
	}
	require.NoError(t, yaml.Unmarshal([]byte(m[1]), &steps))
	require.Len(t, steps, 1)
	assert.True(t, strings.HasPrefix(steps[0].Uses, "docker://"))
	assert.Equal(t, "${{ github.token }}", steps[0].With["github-token"])
	for k := range steps[0].With {
		if k != "args" {
			assert.True(t, slices.ContainsFunc(Inputs, func(in Input) bool { return in.Name == k }), "README's snippet sets unknown input %s", k)
		}
	}
}

func TestLinkCache(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	head, base := filepath.Join(dir, "head", "cache"), filepath.Join(dir, "base", "cache")
	require.NoError(t, os.MkdirAll(base, 0o755))
	require.NoError(t, linkCache(head, base))
	target, err := os.Readlink(base)
	require.NoError(t, err)
	assert.Equal(t, head, target, "the base's cache is the head's")

	// A base path under a regular file cannot be made: the error says where.
	file := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	err = linkCache(head, filepath.Join(file, "cache"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), file)
}

// A scheduled run fetches the history its workflow's last successful run
// uploaded, appends itself (through the engine), and shows the trend in the
// tracking issue and the summary; the first run starts a history.
func TestScheduledRunKeepsAHistory(t *testing.T) {
	t.Parallel()
	var earlier []trend.Entry
	for i, f1 := range []float64{0.81, 0.80, 0.82} {
		v := &gate.Verdict{Status: gate.StatusPass, Criteria: []gate.CriterionResult{{Metric: "f1", Check: "max_drop", Target: gate.Num(f1)}}}
		earlier = trend.Append(earlier, trend.FromVerdict(v, trend.Run{ID: int64(600 + i)}, time.Date(2026, 11, 27+i, 3, 17, 0, 0, time.UTC)))
	}
	file := filepath.Join(t.TempDir(), "history.jsonl")
	require.NoError(t, trend.Write(file, earlier))
	data, err := os.ReadFile(file)
	require.NoError(t, err)

	h := newHarness(t, "schedule", "schedule.json")
	h.vars["INPUT_BASELINE"] = "suite"
	h.runner.status, h.runner.f1 = gate.StatusRegressed, 0.64
	h.runner.err = &Error{Class: ClassRegressed, Err: assert.AnError}
	h.srv.Lock()
	h.srv.Runs = []ghapitest.Run{{ID: 602, Workflow: "evalgate.yml", Branch: "main", Status: "success", HeadSHA: headSHA}}
	h.srv.Artifacts[602] = []ghapitest.Artifact{{ID: 6020, Name: "evalgate-history-support-answers",
		Zip: ghapitest.Zip(t, map[string]string{"history.jsonl": string(data)})}}
	h.srv.Unlock()
	_, _ = h.run()

	o := h.outputsOf()
	assert.Equal(t, "examples/support/.evalgate/history.jsonl", o["history-path"])
	assert.Equal(t, "evalgate-history-support-answers", o["history-artifact"])
	got, err := trend.Read(filepath.Join(h.ws, filepath.FromSlash(o["history-path"])))
	require.NoError(t, err)
	require.Len(t, got, 4, "the earlier runs and this one")
	assert.Equal(t, "https://github.com/nimbus-drive/support-bot/actions/runs/777", got[3].URL)
	h.srv.Lock()
	require.Len(t, h.srv.Issues, 1)
	for _, is := range h.srv.Issues {
		assert.Contains(t, is.Body, "### Trend over the last 4 scheduled runs")
		assert.Contains(t, is.Body, "| f1 max\\_drop | `█▇█▁` | 0.810 | 0.640 | −0.180 at the run of [2026-11-30](https://github.com/nimbus-drive/support-bot/actions/runs/777) |")
	}
	h.srv.Unlock()
	assert.Contains(t, h.summaryText(), "### Trend over the last 4 scheduled runs")

	// The first scheduled run: no history to fetch; it starts one.
	first := newHarness(t, "schedule", "schedule.json")
	first.vars["INPUT_BASELINE"] = "suite"
	out, err := first.run()
	require.NoError(t, err)
	assert.Contains(t, out, "::notice title=evalgate%3A support-answers history::no earlier history")
	got, err = trend.Read(filepath.Join(first.ws, "examples", "support", ".evalgate", "history.jsonl"))
	require.NoError(t, err)
	assert.Len(t, got, 1)
	assert.NotContains(t, first.summaryText(), "Trend")
}
