package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/report"
	"github.com/evalgate/evalgate/internal/results"
)

// invokeWith is invoke with an environment and a standard error of the
// caller's choosing.
func invokeWith(ctx context.Context, env map[string]string, stderr interface{ Write([]byte) (int, error) }, args ...string) (int, string) {
	var out bytes.Buffer
	code := Main(ctx, args, func(k string) string { return env[k] }, strings.NewReader(""), &out, stderr)
	return code, out.String()
}

// panicsOnBar panics the first time the progress bar is drawn (a bug in the
// main goroutine of a run), and records what else is written.
type panicsOnBar struct {
	mu       sync.Mutex
	panicked bool
	buf      bytes.Buffer
}

func (p *panicsOnBar) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if bytes.HasPrefix(b, []byte("\r")) && !p.panicked {
		p.panicked = true
		panic("progress bug")
	}
	return p.buf.Write(b)
}

// Issue 10 item 1: a panic during a run ends it with the internal-error exit
// code and a short message, not a stack dump, and the results file is
// closed with what was finished and says why it stopped.
func TestPanicKeepsResultsAndExitsWithACode(t *testing.T) {
	t.Parallel()
	dir := copyExample(t)
	out := filepath.Join(dir, "out.jsonl")
	for _, debug := range []bool{false, true} {
		stderr := &panicsOnBar{}
		env := map[string]string{}
		if debug {
			env["EVALGATE_DEBUG"] = "1"
		}
		code, _ := invokeWith(context.Background(), env, stderr, "run", "--config", filepath.Join(dir, "evalgate.yaml"), "--out", out, "--progress", "bar", "--concurrency", "1")
		require.Equal(t, ExitInternal, code)
		msg := stderr.buf.String()
		assert.Contains(t, msg, "evalgate run: internal error: progress bug")
		assert.Equal(t, debug, strings.Contains(msg, "goroutine "), "the stack is printed only with EVALGATE_DEBUG: %s", msg)
		assert.Equal(t, !debug, strings.Contains(msg, "EVALGATE_DEBUG=1"))

		_, _, sum, err := results.ReadAll(out)
		require.NoError(t, err, "the results file is closed with its summary")
		assert.Equal(t, results.StatusIncomplete, sum.Status)
		assert.Equal(t, "evalgate stopped on an internal error", sum.Reason)
	}
}

// Issue 10 item 6: a second run on a results path that a run is writing
// fails at once with a usage error saying what to do.
func TestSecondRunOnTheSameResultsFails(t *testing.T) {
	t.Parallel()
	dir := copyExample(t)
	out := filepath.Join(dir, "out.jsonl")
	first, err := results.Create(out, results.Header{Suite: "first"})
	require.NoError(t, err)
	defer first.Discard()
	code, stdout, stderr := invoke(t, context.Background(), "run", "--config", filepath.Join(dir, "evalgate.yaml"), "--out", out, "--progress", "off")
	assert.Equal(t, ExitUsage, code, stdout)
	assert.Contains(t, stderr, "another evalgate run is writing this results file")
	assert.Contains(t, stderr, "give this one another file with --out")
}

// Issue 10 item 2: NaN and infinity in a number flag or a criterion are
// usage errors naming the flag; `compare --criterion f1:min=NaN` passed any
// target before.
func TestNonFiniteFlagsAreUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"run", "--budget", "NaN"}, "evalgate run: --budget NaN: give a finite number"},
		{[]string{"run", "--budget", "+Inf"}, "evalgate run: --budget +Inf: give a finite number"},
		{[]string{"compare", "--baseline", "a.jsonl", "--target", "b.jsonl", "--confidence", "nan"}, "--confidence NaN: give a finite number"},
		{[]string{"compare", "--baseline", "a.jsonl", "--target", "b.jsonl", "--criterion", "f1:min=NaN"}, `--criterion: criterion "f1:min=NaN": min: "NaN" is not a number`},
		{[]string{"compare", "--baseline", "a.jsonl", "--target", "b.jsonl", "--criterion", "f1:max_drop=inf"}, `max_drop: "inf" is not a margin`},
		{[]string{"compare", "--baseline", "a.jsonl", "--target", "b.jsonl", "--criterion", "error_rate:max_error_rate=NaN%"}, `max_error_rate: "NaN%" is not a percentage`},
		{[]string{"compare", "--baseline", "a.jsonl", "--target", "b.jsonl", "--agreement", "j=h@NaN"}, `threshold "NaN" is not a number`},
	}
	for _, tt := range tests {
		code, _, stderr := invoke(t, context.Background(), tt.args...)
		assert.Equal(t, ExitUsage, code, "%v: %s", tt.args, stderr)
		assert.Contains(t, stderr, tt.want, "%v", tt.args)
	}
}

// Issue 10 item 12: what evalgate prints (errors quoting a file name, a
// dataset cell or a server's message) reaches the terminal and the CI log
// without bidirectional controls.
func TestTerminalOutputHasNoBidiControls(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := invoke(t, context.Background(), "validate", "--config", filepath.Join(t.TempDir(), "gate\u202eyaml.exe"))
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, stderr, "gateyaml.exe: no such file", "the text stays, the controls go")
	assert.False(t, strings.ContainsFunc(stdout+stderr, report.IsBidiControl), "%q", stderr)
}

// cancelsOnProgress cancels the run the first time progress is printed:
// a signal arriving after the first record.
type cancelsOnProgress struct {
	mu     sync.Mutex
	cancel func()
	buf    bytes.Buffer
}

func (c *cancelsOnProgress) Write(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if bytes.HasPrefix(b, []byte("progress:")) {
		c.cancel()
	}
	return c.buf.Write(b)
}

// Issue 10 item 6: a run stopped by a signal keeps everything it finished:
// the results it wrote are put in place with an incomplete summary.
func TestStoppedRunKeepsWhatItFinished(t *testing.T) {
	t.Parallel()
	s := script(t, t.TempDir(), `echo '{"text":"a"}'`)
	dir := suiteDir(t, twoRows+`{"sample_id":"3","question":"q3","answer_ground_truth":"c"}`+"\n", commandTarget(s), "  concurrency: 1\n")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr := &cancelsOnProgress{cancel: cancel}
	code, _ := invokeWith(ctx, nil, stderr, "run", "--config", filepath.Join(dir, "evalgate.yaml"), "--progress", "lines")
	assert.Equal(t, ExitIncomplete, code, stderr.buf.String())
	_, recs, sum, err := results.ReadAll(filepath.Join(dir, "out.jsonl"))
	require.NoError(t, err)
	require.NotEmpty(t, recs, "the record finished before the signal is kept")
	require.NotNil(t, sum)
	assert.Equal(t, results.StatusIncomplete, sum.Status)
	assert.Equal(t, "cancelled", sum.Reason)
	assert.Less(t, len(recs), 3)
}

// Issue 10 item 16: on the command line, a suite in a git work tree may not
// name files outside it unless --allow-outside is given; with
// GITHUB_WORKSPACE set (GitHub Actions), not outside the workspace.
func TestSuiteFilesOutsideTheWorkTreeAreRefused(t *testing.T) {
	t.Parallel()
	repo := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(repo, ".git"), 0o755))
	outside := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(outside, "data.jsonl"), []byte(strings.ReplaceAll(twoRows, "}", `,"answer_source_llm":"a"}`)), 0o644))
	dir := filepath.Join(repo, "evals", "support")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	rel, err := filepath.Rel(dir, filepath.Join(outside, "data.jsonl"))
	require.NoError(t, err)
	cfg := "version: 1\nname: t\ndataset: {path: " + rel + "}\ntargets: [{id: a, provider: recorded, model: m}]\nmetrics: [f1]\n"
	config := filepath.Join(dir, "evalgate.yaml")
	require.NoError(t, os.WriteFile(config, []byte(cfg), 0o644))

	code, _, stderr := invoke(t, context.Background(), "validate", "--config", config)
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, stderr, "dataset.path "+rel+" resolves to "+filepath.Join(outside, "data.jsonl")+", outside the git work tree holding the config ("+repo+"); move the file into the repository, or pass --allow-outside")

	code, stdout, stderr := invoke(t, context.Background(), "validate", "--config", config, "--allow-outside")
	assert.Equal(t, ExitPass, code, stdout+stderr)

	// In GitHub Actions the workspace is the bound, whatever the git tree.
	var errb bytes.Buffer
	code, _ = invokeWith(context.Background(), map[string]string{"GITHUB_WORKSPACE": dir}, &errb, "run", "--config", config, "--progress", "off")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, errb.String(), "outside the workspace (GITHUB_WORKSPACE) ("+dir+"); in GitHub Actions a suite reads and writes only files of the checked-out repository")

	// A link inside the work tree to a file outside it is outside too.
	require.NoError(t, os.Symlink(filepath.Join(outside, "data.jsonl"), filepath.Join(dir, "data.jsonl")))
	require.NoError(t, os.WriteFile(config, []byte(strings.Replace(cfg, rel, "data.jsonl", 1)), 0o644))
	code, _, stderr = invoke(t, context.Background(), "run", "--config", config, "--progress", "off")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, stderr, "dataset.path data.jsonl resolves to "+filepath.Join(outside, "data.jsonl")+", outside the git work tree")
}

// The bundled example, in this repository's work tree, passes the check.
func TestBundledExampleIsInsideItsWorkTree(t *testing.T) {
	t.Parallel()
	config := filepath.Join("..", "..", "examples", "support", "evalgate.yaml")
	require.NotEmpty(t, gitWorkTree(config), "the test runs in a git work tree")
	code, stdout, stderr := invoke(t, context.Background(), "validate", "--config", config)
	assert.Equal(t, ExitPass, code, stdout+stderr)
}

// Issue 10 item 16, in the Action: a suite whose dataset lies outside
// GITHUB_WORKSPACE is an error of that suite; nothing is evaluated.
func TestGateRefusesFilesOutsideTheWorkspace(t *testing.T) {
	t.Parallel()
	g := newGateEnv(t, "push", "push.json")
	dir := filepath.Join(g.ws, "examples", "support")
	outside := filepath.Join(t.TempDir(), "support.jsonl")
	require.NoError(t, os.Rename(filepath.Join(dir, "data", "support.jsonl"), outside))
	config := filepath.Join(dir, "evalgate.yaml")
	raw, err := os.ReadFile(config)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(config, bytes.Replace(raw, []byte("path: data/support.jsonl"), []byte("path: "+outside), 1), 0o644))
	code, out := g.run()
	assert.Equal(t, ExitUsage, code, out)
	assert.Contains(t, out, "dataset.path "+outside+" resolves to "+outside+", outside the workspace (GITHUB_WORKSPACE)")
	_, err = os.Stat(filepath.Join(dir, ".evalgate", "results.jsonl"))
	assert.ErrorIs(t, err, os.ErrNotExist, "nothing was run")
}
