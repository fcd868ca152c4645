package cli

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// nobody is the uid and gid the binary drops to when the test runs as root,
// as the container runs as a non-root user.
const nobody = 65534

// reexecArg makes the test binary run cli.Main on the arguments after it.
const reexecArg = "__evalgate_main__"

// TestMain lets the test binary stand in for the evalgate binary, and for
// the pairwise judge of pairwise_test.go.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == reexecArg {
		os.Exit(Main(context.Background(), os.Args[2:], os.Getenv, os.Stdin, os.Stdout, os.Stderr))
	}
	if len(os.Args) > 2 && os.Args[1] == pairwiseJudgeArg {
		os.Exit(pairwiseJudge(os.Args[2], os.Stdin, os.Stdout))
	}
	os.Exit(m.Run())
}

// containerRun is one run of the program in a process of its own the way
// the Action's container runs it: only the variables the runner passes
// (INPUT_*, GITHUB_*), no HOME, the workspace as the working directory, and
// a non-root user when the test can switch to one. prepare may change the
// workspace after it is opened to every user.
type containerRun struct {
	code           int
	stdout, stderr string
	outputs        string
	summary        string
	ws             string
}

func runLikeTheContainer(t *testing.T, g *gateEnv, prepare func(ws string)) containerRun {
	t.Helper()
	// A tree every user can read and write: the user the binary runs as
	// must write the results into the workspace and the outputs.
	root, err := os.MkdirTemp("", "evalgate-container-")
	require.NoError(t, err)
	t.Cleanup(func() {
		chmodAll(root)
		os.RemoveAll(root)
	})
	// The test binary is the program: TestMain runs cli.Main when called
	// with reexecArg, exactly as cmd/evalgate's three-line main does.
	// It is copied where the unprivileged user can run it.
	self, err := os.Executable()
	require.NoError(t, err)
	exe, err := os.ReadFile(self)
	require.NoError(t, err)
	bin := filepath.Join(root, "evalgate")
	require.NoError(t, os.WriteFile(bin, exe, 0o755))

	ws := filepath.Join(root, "workspace")
	require.NoError(t, os.Rename(g.ws, ws))
	event, err := filepath.Abs(filepath.Join("..", "..", "testdata", "events", "pull_request.json"))
	require.NoError(t, err)
	files := filepath.Join(root, "file_commands")
	require.NoError(t, os.Mkdir(files, 0o777))
	tmp := filepath.Join(root, "tmp")
	require.NoError(t, os.Mkdir(tmp, 0o777))

	env := map[string]string{}
	for k, v := range g.vars {
		env[k] = v
	}
	env["GITHUB_WORKSPACE"] = ws
	env["GITHUB_EVENT_PATH"] = event
	env["GITHUB_OUTPUT"] = filepath.Join(files, "set_output")
	env["GITHUB_STEP_SUMMARY"] = filepath.Join(files, "step_summary")
	delete(env, "TMPDIR") // the container has its own /tmp
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, reexecArg, "gate")
	cmd.Dir = ws
	cmd.Env = nil
	for k, v := range env {
		if !strings.HasPrefix(k, "INPUT_") && !strings.HasPrefix(k, "GITHUB_") {
			t.Fatalf("the runner passes no %s", k)
		}
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Env = append(cmd.Env, "TMPDIR="+tmp)
	require.NoError(t, chmodAll(root))
	if os.Getuid() == 0 && runtime.GOOS == "linux" {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	}
	if prepare != nil {
		prepare(ws)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	r := containerRun{stdout: stdout.String(), stderr: stderr.String(), ws: ws}
	var exit *exec.ExitError
	if err != nil {
		require.ErrorAs(t, err, &exit, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
		r.code = exit.ExitCode()
	}
	b, _ := os.ReadFile(env["GITHUB_OUTPUT"])
	r.outputs = string(b)
	b, _ = os.ReadFile(env["GITHUB_STEP_SUMMARY"])
	r.summary = string(b)
	return r
}

// TestGateBinaryAsTheContainerRunsIt runs the program as the container does
// on a pull request that regresses.
func TestGateBinaryAsTheContainerRunsIt(t *testing.T) {
	if !slices.Contains(commandNames(), "gate") {
		t.Skip("gateCommand() is not in the command table yet (cli.go)")
	}
	t.Parallel()
	g := newGateEnv(t, "pull_request", "pull_request.json")
	g.srv.Lock() // the fake serves from other goroutines
	g.srv.PRFiles[42] = []string{"examples/support/prompts/answer.txt"}
	g.srv.Unlock()
	g.withArtifact(better(t, exampleResults(t)))

	r := runLikeTheContainer(t, g, nil)
	assert.Equal(t, ExitRegressed, r.code, "stderr:\n%s", r.stderr)
	assert.Contains(t, r.stdout, "::add-mask::"+ghToken)
	assert.Contains(t, r.stderr, "evalgate gate: verdict regressed")
	assert.Contains(t, r.outputs, "verdict<<_GitHubActionsFileCommandDelimeter_\nregressed\n")
	assert.Contains(t, r.summary, "support-answers: regressed")
	_, err := os.Stat(filepath.Join(r.ws, "examples", "support", ".evalgate", "results.jsonl"))
	assert.NoError(t, err, "the results are written into the workspace")
	g.srv.Lock()
	defer g.srv.Unlock()
	assert.Len(t, g.srv.Comments[42], 1)
}

// Fault 3c: as a user that may not write the workspace (uid 65534 on a
// root-owned checkout), the results cannot be written: exit 3, as the
// README's exit codes say, not 2; and the step still says why.
func TestGateBinaryOnAWorkspaceItCannotWrite(t *testing.T) {
	t.Parallel()
	g := newGateEnv(t, "push", "push.json")
	r := runLikeTheContainer(t, g, func(ws string) {
		require.NoError(t, os.Chmod(filepath.Join(ws, "examples", "support"), 0o555))
	})
	assert.Equal(t, ExitProvider, r.code, "stderr:\n%s", r.stderr)
	assert.Contains(t, r.stderr, "permission denied")
	assert.Contains(t, r.outputs, "verdict<<_GitHubActionsFileCommandDelimeter_\nerror\n")
	assert.Contains(t, r.summary, "permission denied")
	assert.Regexp(t, `::error file=examples/support/evalgate.yaml,title=evalgate%3A support-answers error::`, r.stdout)
}

// chmodAll opens a test tree to every user.
func chmodAll(root string) error {
	return filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		mode := os.FileMode(0o666)
		if info.IsDir() || info.Mode()&0o111 != 0 {
			mode = 0o777
		}
		return os.Chmod(p, mode)
	})
}
