package cli

// End-to-end regression tests for the faults of issue 10 about model calls:
// `evalgate run` against a mock OpenAI-compatible server, gated against a
// command target, read back from the files it writes.

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/results"
	"github.com/evalgate/evalgate/internal/suite"
)

// invokeEnv runs evalgate with the environment env.
func invokeEnv(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// rows is a dataset of n samples whose reference is "a".
func rows(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, `{"sample_id":"%d","question":"q%d","answer_ground_truth":"a"}`+"\n", i, i)
	}
	return b.String()
}

// gatedSuite is a suite comparing an OpenAI-compatible target at baseURL
// with a command baseline that always answers "a", on error_rate.
func gatedSuite(t *testing.T, n int, baseURL, targetExtra, runExtra string) string {
	t.Helper()
	dir := t.TempDir()
	base := script(t, dir, `echo '{"text":"a"}'`)
	targets := "  - {id: base, provider: command, model: app, prompt: p, command: [" + base + "]}\n" +
		"  - {id: model, provider: openai, model: m, prompt: p, base_url: \"" + baseURL + "\"" + targetExtra + "}\n"
	run := "  retries: 0\n  cache: false\n" + runExtra +
		"criteria:\n  - {metric: error_rate, max_error_rate: 0.02}\ngate: {baseline: base, target: model}\n"
	return filepath.Join(suiteDir(t, rows(n), targets, run), "evalgate.yaml")
}

func mockOpenAI(t *testing.T, respond func(w http.ResponseWriter)) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1-prefix/chat/completions" {
			http.Error(w, "no route", http.StatusNotFound)
			return
		}
		calls.Add(1)
		respond(w)
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func recordsOf(t *testing.T, cfg, target string) ([]results.Record, results.Summary) {
	t.Helper()
	_, recs, sum, err := results.ReadAll(filepath.Join(filepath.Dir(cfg), "out.jsonl"))
	require.NoError(t, err)
	var out []results.Record
	for _, r := range recs {
		if r.Target == target {
			out = append(out, r)
		}
	}
	return out, *sum
}

// Issue 10, item 3: a server answering 200 with no choices no longer passes
// the gate; with allow_empty the empty answers are valid.
func TestRunEmptyAnswersFailTheGate(t *testing.T) {
	t.Parallel()
	srv, _ := mockOpenAI(t, func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"choices":[]}`))
	})
	cfg := gatedSuite(t, 8, srv.URL+"/v1-prefix", "", "")
	code, stdout, stderr := invokeEnv(t, nil, "run", "--config", cfg, "--progress", "off")
	assert.Equal(t, ExitRegressed, code, "stdout: %s\nstderr: %s", stdout, stderr)
	assert.Contains(t, stderr, "error_rate")
	recs, _ := recordsOf(t, cfg, "model")
	require.Len(t, recs, 8)
	for _, r := range recs {
		require.NotNil(t, r.Error)
		assert.Equal(t, "empty", r.Error.Kind)
		assert.Empty(t, r.Scores)
	}

	cfg = gatedSuite(t, 8, srv.URL+"/v1-prefix", ", allow_empty: true", "")
	code, stdout, stderr = invokeEnv(t, nil, "run", "--config", cfg, "--progress", "off")
	assert.Equal(t, ExitPass, code, "stdout: %s\nstderr: %s", stdout, stderr)
	recs, _ = recordsOf(t, cfg, "model")
	for _, r := range recs {
		assert.Nil(t, r.Error)
	}
}

// Issue 10, item 4: an outage of the model service is not a regression:
// the run is incomplete (exit 4) when some calls could not be evaluated, and
// an infrastructure failure (exit 3) once the service failed ten calls in a
// row; never exit 1 from error_rate.
func TestRunOutageIsIncompleteNotRegressed(t *testing.T) {
	t.Parallel()
	srv, calls := mockOpenAI(t, func(w http.ResponseWriter) {
		http.Error(w, "upstream connect error", http.StatusBadGateway)
	})
	cfg := gatedSuite(t, 6, srv.URL+"/v1-prefix", "", "")
	code, stdout, stderr := invokeEnv(t, nil, "run", "--config", cfg, "--progress", "off")
	assert.Equal(t, ExitIncomplete, code, "stdout: %s\nstderr: %s", stdout, stderr)
	assert.Contains(t, stdout+stderr, "6 of 12 calls could not be evaluated")
	assert.NotContains(t, stderr, "regressed")
	_, sum := recordsOf(t, cfg, "model")
	assert.Equal(t, results.StatusIncomplete, sum.Status)
	assert.EqualValues(t, 6, calls.Load())

	cfg = gatedSuite(t, 40, srv.URL+"/v1-prefix", "", "  concurrency: 1\n")
	code, stdout, stderr = invokeEnv(t, nil, "run", "--config", cfg, "--progress", "off")
	assert.Equal(t, ExitProvider, code, "stdout: %s\nstderr: %s", stdout, stderr)
	assert.Contains(t, stderr, "failed 10 calls in a row")
	_, sum = recordsOf(t, cfg, "model")
	assert.Equal(t, results.StatusIncomplete, sum.Status, "the results are closed with what ran")
	assert.Less(t, sum.Targets[1].Records, 40, "the run stopped instead of failing every call")
}

// Issue 10, item 9: a key the server echoes in an error body is in neither
// the results nor anything printed.
func TestRunRedactsEchoedKeys(t *testing.T) {
	t.Parallel()
	const key = "sk-evalgate-e2e-0123456789abcdef"
	srv, _ := mockOpenAI(t, func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = fmt.Fprintf(w, `{"error":{"message":"header Authorization: Bearer %s is malformed","code":"bad_header"}}`, key)
	})
	cfg := gatedSuite(t, 3, srv.URL+"/v1-prefix", ", api_key_env: MY_MODEL_KEY", "")
	code, stdout, stderr := invokeEnv(t, map[string]string{"MY_MODEL_KEY": key}, "run", "--config", cfg, "--progress", "lines")
	assert.NotEqual(t, ExitPass, code)
	recs, _ := recordsOf(t, cfg, "model")
	require.Len(t, recs, 3)
	assert.Contains(t, recs[0].Error.Message, "Bearer [redacted]")
	filepath.WalkDir(filepath.Dir(cfg), func(p string, d os.DirEntry, err error) error {
		require.NoError(t, err)
		if !d.IsDir() {
			b, err := os.ReadFile(p)
			require.NoError(t, err)
			assert.NotContains(t, string(b), key, "written to %s", p)
		}
		return nil
	})
	assert.NotContains(t, stdout, key)
	assert.NotContains(t, stderr, key)
}

// Issue 10, item 11: a command target's program never sees the job's GitHub
// token; it gets the variables its target lists.
func TestRunCommandEnvironment(t *testing.T) {
	t.Parallel()
	env := map[string]string{"PATH": "/usr/bin:/bin", "GITHUB_TOKEN": "ghs_jobtoken0123456789", "INPUT_GITHUB-TOKEN": "ghs_jobtoken0123456789", "APP_MODE": "strict"}
	dir := t.TempDir()
	s := script(t, dir, `cat >/dev/null; if env | grep -q ghs_jobtoken; then echo '{"text":"leaked"}'; else echo "{\"text\":\"clean $APP_MODE\"}"; fi`)
	target := "  - {id: app, provider: command, model: app, prompt: p, command: [" + s + "], env: [APP_MODE]}\n"
	cfg := filepath.Join(suiteDir(t, twoRows, target, ""), "evalgate.yaml")
	code, _, stderr := invokeEnv(t, env, "run", "--config", cfg, "--progress", "off")
	require.Equal(t, ExitPass, code, stderr)
	recs, _ := recordsOf(t, cfg, "app")
	require.Len(t, recs, 2)
	for _, r := range recs {
		assert.Equal(t, "clean strict", r.Output)
	}

	target = "  - {id: app, provider: command, model: app, prompt: p, command: [" + s + "], env: [GITHUB_TOKEN]}\n"
	cfg = filepath.Join(suiteDir(t, twoRows, target, ""), "evalgate.yaml")
	code, _, stderr = invokeEnv(t, env, "run", "--config", cfg, "--progress", "off")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, stderr, `target "app": env: GITHUB_TOKEN is never passed to a program`)
}

// The redactor knows the suite's own api_key_env settings, a judge's nested
// in its metric among them, and a command target's credential variables.
func TestRedactorKnowsTheSuitesKeys(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	target := "  - {id: app, provider: command, model: app, prompt: p, command: [./x], env: [APP_API_KEY, APP_MODE]}\n" +
		"  - {id: oa, provider: openai, model: m, prompt: p, base_url: \"http://127.0.0.1:1/v1\", api_key_env: TARGET_KEY}\n"
	cfg := "version: 1\nname: t\ndataset: {path: data.jsonl}\nprompts:\n  p: {user: \"Q: {{question}}\"}\ntargets:\n" + target +
		"metrics:\n  - f1\n  - {name: correctness, judge: {provider: openai, model: j, base_url: \"http://127.0.0.1:1/v1\", api_key_env: JUDGE_KEY}}\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "data.jsonl"), []byte(twoRows), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "evalgate.yaml"), []byte(cfg), 0o644))
	s, err := suite.Load(filepath.Join(dir, "evalgate.yaml"))
	require.NoError(t, err)
	env := map[string]string{"TARGET_KEY": "target-key-0123", "JUDGE_KEY": "judge-key-0123", "APP_API_KEY": "app-key-0123",
		"APP_MODE": "strict-mode", "AWS_SESSION_TOKEN": "aws-session-0123", "INPUT_GITHUB-TOKEN": "ghs_0123456789"}
	red := newRedactor(&Env{Getenv: func(k string) string { return env[k] }}, s)
	got := red.RedactMessage("target-key-0123 judge-key-0123 app-key-0123 aws-session-0123 ghs_0123456789 strict-mode")
	assert.Equal(t, "[redacted] [redacted] [redacted] [redacted] [redacted] strict-mode", got, "APP_MODE is not a credential")
}
