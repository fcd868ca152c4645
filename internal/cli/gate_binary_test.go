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

// TestMain lets the test binary stand in for the evalgate binary.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == reexecArg {
		os.Exit(Main(context.Background(), os.Args[2:], os.Getenv, os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// TestGateBinaryAsTheContainerRunsIt runs the program in a process of its
// own the way the Action's container runs it: only the variables the runner passes
// (INPUT_*, GITHUB_*), no HOME, the workspace as the working directory, and a
// non-root user when the test can switch to one.
func TestGateBinaryAsTheContainerRunsIt(t *testing.T) {
	if !slices.Contains(commandNames(), "gate") {
		t.Skip("gateCommand() is not in the command table yet (cli.go)")
	}
	t.Parallel()
	// A tree every user can read and write: the user the binary runs as
	// must write the results into the workspace and the outputs.
	root, err := os.MkdirTemp("", "evalgate-container-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(root) })
	// The test binary is the program: TestMain runs cli.Main when called
	// with reexecArg, exactly as cmd/evalgate's three-line main does.
	// It is copied where the unprivileged user can run it.
	self, err := os.Executable()
	require.NoError(t, err)
	exe, err := os.ReadFile(self)
	require.NoError(t, err)
	bin := filepath.Join(root, "evalgate")
	require.NoError(t, os.WriteFile(bin, exe, 0o755))

	g := newGateEnv(t, "pull_request", "pull_request.json")
	ws := filepath.Join(root, "workspace")
	require.NoError(t, os.Rename(g.ws, ws))
	event, err := filepath.Abs(filepath.Join("..", "..", "testdata", "events", "pull_request.json"))
	require.NoError(t, err)
	files := filepath.Join(root, "file_commands")
	require.NoError(t, os.Mkdir(files, 0o777))
	tmp := filepath.Join(root, "tmp")
	require.NoError(t, os.Mkdir(tmp, 0o777))
	g.srv.Lock() // the fake serves from other goroutines
	g.srv.PRFiles[42] = []string{"examples/support/prompts/answer.txt"}
	g.srv.Unlock()
	g.withArtifact(better(t, exampleResults(t)))

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
	if cmd.Env = append(cmd.Env, "TMPDIR="+tmp); os.Getuid() == 0 && runtime.GOOS == "linux" {
		require.NoError(t, chmodAll(root))
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	assert.Equal(t, ExitRegressed, exit.ExitCode(), "stderr:\n%s", stderr.String())
	assert.Contains(t, stdout.String(), "::add-mask::"+ghToken)
	assert.Contains(t, stderr.String(), "evalgate gate: verdict regressed")

	outputs, err := os.ReadFile(env["GITHUB_OUTPUT"])
	require.NoError(t, err)
	assert.Contains(t, string(outputs), "verdict<<_GitHubActionsFileCommandDelimeter_\n")
	assert.Contains(t, string(outputs), "\nregressed\n")
	summary, err := os.ReadFile(env["GITHUB_STEP_SUMMARY"])
	require.NoError(t, err)
	assert.Contains(t, string(summary), "support-answers: regressed")
	_, err = os.Stat(filepath.Join(ws, "examples", "support", ".evalgate", "results.jsonl"))
	assert.NoError(t, err, "the results are written into the workspace")
	g.srv.Lock()
	defer g.srv.Unlock()
	assert.Len(t, g.srv.Comments[42], 1)
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
