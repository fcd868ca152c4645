package action

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
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/fixture"
	"github.com/evalgate/evalgate/internal/gate"
	"github.com/evalgate/evalgate/internal/ghapi"
	"github.com/evalgate/evalgate/internal/ghapi/ghapitest"
	"github.com/evalgate/evalgate/internal/trend"
)

const (
	exampleConfig = "examples/support/evalgate.yaml"
	ghToken       = "ghs_actiontesttoken0123456789"
	headSHA       = "3b7e1f0a2c4d6e8f0a1b3c5d7e9f1a3b5c7d9e1f" // pull_request.json's head
)

// stubRunner stands in for the run engine: it returns the verdict it is
// given, with a report file, and records what it was asked.
type stubRunner struct {
	mu     sync.Mutex
	status gate.Status
	err    error
	// gateSkipped, when set, makes the run ungated (no verdict).
	gateSkipped string
	// f1 is the target's f1 the run appends to the history, as the
	// engine's run --history does.
	f1   float64
	reqs []RunRequest
}

func (r *stubRunner) RunSuite(_ context.Context, req RunRequest) (*SuiteRun, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs = append(r.reqs, req)
	dir := filepath.Join(filepath.Dir(req.Config), ".evalgate")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	res, rep := filepath.Join(dir, "results.jsonl"), filepath.Join(dir, "results.report.md")
	if err := os.WriteFile(res, []byte("{}\n"), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(rep, []byte("## stub report: "+string(r.status)+"\n"), 0o644); err != nil {
		return nil, err
	}
	if r.gateSkipped != "" {
		return &SuiteRun{ResultsPath: res, GateSkipped: r.gateSkipped}, r.err
	}
	if req.History != "" {
		h, err := trend.Read(req.History)
		if err != nil {
			return nil, err
		}
		v := &gate.Verdict{Status: r.status, Criteria: []gate.CriterionResult{{Metric: "f1", Check: "max_drop", Target: gate.Num(r.f1)}}}
		if err := trend.Write(req.History, trend.Append(h, trend.FromVerdict(v, req.HistoryRun, time.Date(2026, 11, 30, 3, 17, 0, 0, time.UTC)))); err != nil {
			return nil, err
		}
	}
	html := filepath.Join(dir, "results.report.html")
	if err := os.WriteFile(html, []byte("<!DOCTYPE html>\n"), 0o644); err != nil {
		return nil, err
	}
	return &SuiteRun{Verdict: &gate.Verdict{Status: r.status, Reason: "stub " + string(r.status)}, ResultsPath: res, ReportPath: rep, HTMLPath: html}, r.err
}

// harness is one job's environment: the runner's GITHUB_* variables and
// the step's INPUT_* ones, a workspace with the bundled example, the fake
// GitHub, and a stub engine.
type harness struct {
	t       *testing.T
	ws      string
	vars    map[string]string
	srv     *ghapitest.Server
	runner  *stubRunner
	outputs string
	summary string
	// read records the INPUT_* variables the code asked for.
	read sync.Map
}

func newHarness(t *testing.T, event, payload string) *harness {
	t.Helper()
	ws := t.TempDir()
	fixture.CopyDir(t, filepath.Join("..", "..", "examples", "support"), filepath.Join(ws, "examples", "support"))
	files := t.TempDir()
	srv := ghapitest.New(t, "nimbus-drive", "support-bot")
	srv.Token = ghToken
	h := &harness{t: t, ws: ws, srv: srv, runner: &stubRunner{status: gate.StatusPass},
		outputs: filepath.Join(files, "output"), summary: filepath.Join(files, "summary")}
	h.vars = map[string]string{
		"GITHUB_ACTIONS":      "true",
		"GITHUB_EVENT_NAME":   event,
		"GITHUB_EVENT_PATH":   eventPath(t, payload),
		"GITHUB_REPOSITORY":   "nimbus-drive/support-bot",
		"GITHUB_WORKSPACE":    ws,
		"GITHUB_API_URL":      srv.APIURL(),
		"GITHUB_SERVER_URL":   "https://github.com",
		"GITHUB_RUN_ID":       "777",
		"GITHUB_WORKFLOW":     "evalgate",
		"GITHUB_WORKFLOW_REF": "nimbus-drive/support-bot/.github/workflows/evalgate.yml@refs/pull/42/merge",
		"GITHUB_REF_NAME":     "main",
		"GITHUB_OUTPUT":       h.outputs,
		"GITHUB_STEP_SUMMARY": h.summary,
		"TMPDIR":              t.TempDir(),
		"INPUT_CONFIG":        exampleConfig,
		"INPUT_GITHUB-TOKEN":  ghToken,
	}
	return h
}

func eventPath(t *testing.T, fixture string) string {
	p, err := filepath.Abs(filepath.Join("..", "..", "testdata", "events", fixture))
	require.NoError(t, err)
	return p
}

// run runs the action once and returns its standard output and error.
func (h *harness) run() (string, error) {
	h.t.Helper()
	var out bytes.Buffer
	getenv := func(k string) string {
		if strings.HasPrefix(k, "INPUT_") {
			h.read.Store(k, true)
		}
		return h.vars[k]
	}
	err := Run(context.Background(), Deps{Getenv: getenv, Stdout: &out, Runner: h.runner, Version: "test",
		Retry: ghapi.RetryPolicy{Sleep: func(context.Context, time.Duration) error { return nil }}})
	printed := strings.ReplaceAll(out.String(), "::add-mask::"+ghToken+"\n", "")
	if err != nil {
		printed += err.Error()
	}
	assert.NotContains(h.t, printed, ghToken, "the token is printed only to mask it")
	return out.String(), err
}

// outputsOf parses the GITHUB_OUTPUT file.
func (h *harness) outputsOf() map[string]string {
	b, err := os.ReadFile(h.outputs)
	require.NoError(h.t, err)
	return parseOutputs(string(b))
}

var outputRE = regexp.MustCompile(`(?s)([\w-]+)<<` + fileDelimiter + `\n(.*?)\n` + fileDelimiter + `\n`)

func parseOutputs(s string) map[string]string {
	out := map[string]string{}
	for _, m := range outputRE.FindAllStringSubmatch(s, -1) {
		out[m[1]] = m[2]
	}
	return out
}

func (h *harness) summaryText() string {
	b, _ := os.ReadFile(h.summary)
	return string(b)
}

// setName renames the example suite.
func (h *harness) setName(name string) {
	p := filepath.Join(h.ws, filepath.FromSlash(exampleConfig))
	b, err := os.ReadFile(p)
	require.NoError(h.t, err)
	quoted, _ := json.Marshal(name)
	b = regexp.MustCompile(`(?m)^name: .*$`).ReplaceAll(b, []byte("name: "+string(quoted)))
	require.NoError(h.t, os.WriteFile(p, b, 0o644))
}

// withPayload writes a copy of the fixture with edit applied to its JSON and
// points GITHUB_EVENT_PATH at it.
func (h *harness) withPayload(fixture string, edit func(map[string]any)) {
	b, err := os.ReadFile(eventPath(h.t, fixture))
	require.NoError(h.t, err)
	var m map[string]any
	require.NoError(h.t, json.Unmarshal(b, &m))
	edit(m)
	b, err = json.Marshal(m)
	require.NoError(h.t, err)
	p := filepath.Join(h.t.TempDir(), fixture)
	require.NoError(h.t, os.WriteFile(p, b, 0o644))
	h.vars["GITHUB_EVENT_PATH"] = p
}

func (h *harness) setPRFiles(files ...string) {
	h.srv.Lock() // the fake serves from other goroutines
	h.srv.PRFiles[42] = files
	h.srv.Unlock()
}

func (h *harness) comments(n int) []ghapitest.Comment {
	h.srv.Lock()
	defer h.srv.Unlock()
	var out []ghapitest.Comment
	for _, c := range h.srv.Comments[n] {
		out = append(out, *c)
	}
	return out
}
