// Package command evaluates any program as a model: a RAG pipeline, an agent,
// a whole application. Each call runs the program with the request as JSON on
// stdin and reads the response as JSON from stdout.
package command

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"syscall"
	"time"
	"unicode"

	"github.com/evalgate/evalgate/internal/excerpt"
	"github.com/evalgate/evalgate/internal/provider"
)

// Name is the provider's name in evalgate.yaml.
const Name = "command"

// maxOutput bounds what a program may print: a reply, not a data dump.
const maxOutput = 64 << 20

// Reply is what the program prints on stdout. Only text is required.
type Reply struct {
	Text       string         `json:"text"`
	Usage      provider.Usage `json:"usage"`
	LatencyMS  *float64       `json:"latency_ms,omitempty"`
	TTFTMS     *float64       `json:"ttft_ms,omitempty"`
	StopReason string         `json:"stop_reason,omitempty"`
	// Error lets the program report a classified failure: kind is one of
	// throttled, transient, auth, invalid_request, other.
	Error *struct {
		Kind    string `json:"kind"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// Command runs one program per call.
type Command struct {
	argv []string
	dir  string
	env  []string
}

// New returns a provider running argv in dir with exactly the environment
// env (build it with Environ); the program inherits nothing else.
func New(argv []string, dir string, env []string) (*Command, error) {
	if len(argv) == 0 || argv[0] == "" {
		return nil, errors.New("command: no program given (set command: [program, args...])")
	}
	if env == nil {
		// exec.Cmd reads a nil Env as "inherit everything".
		env = []string{}
	}
	return &Command{argv: argv, dir: dir, env: env}, nil
}

// Endpoint identifies the program for the response cache's key: its
// arguments and directory. (The environment's values are left out: they may
// be credentials.)
func (c *Command) Endpoint() string {
	b, _ := json.Marshal(struct {
		Argv []string `json:"argv"`
		Dir  string   `json:"dir"`
	}{c.argv, c.dir})
	return string(b)
}

// BaseEnv are the variables every program gets from evalgate's environment
// (when set): what a program needs to find its interpreter, write temporary
// files and decode text, and nothing that grants access to anything.
var BaseEnv = []string{"PATH", "HOME", "USER", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR"}

// neverPassed are the credentials of the CI job itself: a program under
// evaluation has no business with the token that writes to the repository.
var neverPassed = []string{"GITHUB_TOKEN", "INPUT_GITHUB-TOKEN", "INPUT_GITHUB_TOKEN",
	"ACTIONS_RUNTIME_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN"}

// Environ is the environment of a program: BaseEnv and the variables named
// in pass (a target's env: list), with their values from getenv. Unset
// variables are left out. Naming the job's GitHub token is an error.
func Environ(getenv func(string) string, pass []string) ([]string, error) {
	env := []string{}
	seen := map[string]bool{}
	for _, name := range append(append([]string{}, BaseEnv...), pass...) {
		if name == "" || strings.ContainsAny(name, "=\x00") {
			return nil, fmt.Errorf("env: %q is not a variable name", name)
		}
		for _, never := range neverPassed {
			if strings.EqualFold(name, never) {
				return nil, fmt.Errorf("env: %s is never passed to a program (it is the CI job's own credential); give the program a token of its own under another name", name)
			}
		}
		if seen[name] {
			continue
		}
		seen[name] = true
		if getenv == nil {
			continue // no environment given: the program gets none
		}
		if v := getenv(name); v != "" {
			env = append(env, name+"="+v)
		}
	}
	return env, nil
}

// Complete runs the program for one request. The per-call timeout comes from
// ctx: when it expires the program and its children are killed.
func (c *Command) Complete(ctx context.Context, req provider.Request) (provider.Response, error) {
	in, err := json.Marshal(req)
	if err != nil {
		return provider.Response{}, provider.Errorf(provider.KindOther, Name, "encode request: %v", err)
	}
	var run runResult
	for try := 1; ; try++ {
		run = c.runOnce(ctx, in)
		// "text file busy": the program was just written and another fork of
		// this process still holds it open for a moment (golang.org/issue/22315).
		if !errors.Is(run.err, syscall.ETXTBSY) || try == 5 || ctx.Err() != nil {
			break
		}
		time.Sleep(time.Duration(try) * 10 * time.Millisecond)
	}
	stdout, stderr, wall, err := &run.stdout, &run.stderr, run.wall, run.err
	if ctx.Err() != nil {
		return provider.Response{}, &provider.Error{Kind: provider.KindTransient, Provider: Name,
			Err: fmt.Errorf("%s did not answer in time and was killed: %w", c.argv[0], ctx.Err())}
	}
	if stdout.overflow {
		return provider.Response{}, provider.Errorf(provider.KindOther, Name, "%s printed more than %d MB", c.argv[0], maxOutput>>20)
	}
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return provider.Response{}, provider.Errorf(provider.KindOther, Name,
				"%s exited with status %d%s", c.argv[0], ee.ExitCode(), stderr.describe())
		}
		return provider.Response{}, provider.Errorf(provider.KindOther, Name, "run %s: %v", c.argv[0], err)
	}
	if len(bytes.TrimSpace(stdout.buf.Bytes())) == 0 {
		// No answer at all, as a model that returns no choices: the
		// target's failure. (An empty answer that is valid is printed as
		// {"text": ""} and allowed with allow_empty.)
		return provider.Response{}, provider.Errorf(provider.KindEmpty, Name,
			"%s exited 0 but printed nothing; it must print one object like {\"text\": \"...\"}%s", c.argv[0], stderr.describe())
	}
	var r Reply
	dec := json.NewDecoder(bytes.NewReader(stdout.buf.Bytes()))
	if err := dec.Decode(&r); err != nil {
		return provider.Response{}, provider.Errorf(provider.KindOther, Name,
			"%s printed invalid JSON (%v); it must print one object like {\"text\": \"...\"}; stdout began %q%s",
			c.argv[0], err, Sanitize(excerpt.Of(stdout.buf.String(), 80)), stderr.describe())
	}
	if r.Error != nil {
		return provider.Response{}, provider.Errorf(provider.ParseErrorKind(r.Error.Kind), Name, "%s reported: %s", c.argv[0], Sanitize(r.Error.Message))
	}
	resp := provider.Response{Text: r.Text, Usage: r.Usage, Latency: wall, StopReason: r.StopReason}
	// A program that measures its own latency (without process start-up) knows better.
	if r.LatencyMS != nil && *r.LatencyMS >= 0 {
		resp.Latency = time.Duration(*r.LatencyMS * float64(time.Millisecond))
	}
	if r.TTFTMS != nil && *r.TTFTMS >= 0 {
		resp.TTFT = time.Duration(*r.TTFTMS * float64(time.Millisecond))
	}
	return resp, nil
}

// runResult is one run of the program.
type runResult struct {
	stdout limitedBuffer
	stderr tailBuffer
	wall   time.Duration
	err    error
}

// runOnce runs the program once with in on its stdin.
func (c *Command) runOnce(ctx context.Context, in []byte) runResult {
	r := runResult{stdout: limitedBuffer{max: maxOutput}}
	cmd := exec.CommandContext(ctx, c.argv[0], c.argv[1:]...)
	cmd.Dir = c.dir
	cmd.Env = c.env
	cmd.Stdin = bytes.NewReader(in)
	cmd.Stdout = &r.stdout
	cmd.Stderr = &r.stderr
	// Its own process group, so that a timeout kills the program's children
	// too (a shell script's model call would otherwise outlive it).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	start := time.Now()
	r.err = cmd.Run()
	r.wall = time.Since(start)
	return r
}

type limitedBuffer struct {
	buf      bytes.Buffer
	max      int
	overflow bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if b.buf.Len()+len(p) > b.max {
		b.overflow = true
		return 0, io.ErrShortWrite
	}
	return b.buf.Write(p)
}

// tailBuffer keeps the last bytes of stderr: the end of a traceback says why.
type tailBuffer struct{ b []byte }

const stderrTail = 2048

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > stderrTail {
		t.b = t.b[len(t.b)-stderrTail:]
	}
	return len(p), nil
}

func (t *tailBuffer) describe() string {
	s := strings.TrimSpace(string(t.b))
	if s == "" {
		return ""
	}
	return "; stderr ends: " + Sanitize(s)
}

// Sanitize makes untrusted program output safe for a log line: control
// characters (terminal escapes, carriage returns) become spaces.
func Sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return ' '
		}
		return r
	}, s)
}
