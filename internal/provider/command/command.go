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

// New returns a provider running argv in dir with the environment env; nil
// env means the program inherits evalgate's environment, as a CI step would
// (a RAG pipeline needs its own credentials).
func New(argv []string, dir string, env []string) (*Command, error) {
	if len(argv) == 0 || argv[0] == "" {
		return nil, errors.New("command: no program given (set command: [program, args...])")
	}
	return &Command{argv: argv, dir: dir, env: env}, nil
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
