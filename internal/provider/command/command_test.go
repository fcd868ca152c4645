package command

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/provider"
)

// script writes a shell script and returns a provider running it.
func script(t *testing.T, body string) *Command {
	t.Helper()
	p := filepath.Join(t.TempDir(), "model.sh")
	require.NoError(t, os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755))
	c, err := New([]string{p}, "", nil)
	require.NoError(t, err)
	return c
}

func req() provider.Request {
	return provider.Request{Model: "app", SampleID: "s1", Fields: map[string]string{"question": "hi"},
		Messages: []provider.Message{{Role: provider.RoleUser, Content: "hi"}}}
}

func TestCommandReadsReply(t *testing.T) {
	t.Parallel()
	// The program sees the request on stdin: echo the sample id back.
	c := script(t, `id=$(sed -n 's/.*"sample_id":"\([^"]*\)".*/\1/p'); printf '{"text":"answer for %s","usage":{"input_tokens":5,"output_tokens":7},"latency_ms":12.5,"stop_reason":"end_turn"}' "$id"`)
	resp, err := c.Complete(context.Background(), req())
	require.NoError(t, err)
	assert.Equal(t, "answer for s1", resp.Text)
	assert.Equal(t, provider.Usage{InputTokens: 5, OutputTokens: 7}, resp.Usage)
	assert.Equal(t, 12500*time.Microsecond, resp.Latency)
	assert.Equal(t, "end_turn", resp.StopReason)
}

func TestCommandFailures(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		body string
		kind provider.ErrorKind
		want string
	}{
		{"exits non-zero", "echo 'Traceback: boom' >&2; exit 3", provider.KindOther, "exited with status 3; stderr ends: Traceback: boom"},
		{"invalid JSON", "echo 'not json'", provider.KindOther, `printed invalid JSON`},
		{"empty output", "true", provider.KindEmpty, "printed nothing"},
		{"reports throttling", `echo '{"error":{"kind":"throttled","message":"slow down"}}'`, provider.KindThrottled, "reported: slow down"},
		{"escape sequences in stderr", `printf '\033[31mred\r' >&2; exit 1`, provider.KindOther, "stderr ends:  [31mred"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := script(t, tc.body).Complete(context.Background(), req())
			require.Error(t, err)
			assert.Equal(t, tc.kind, provider.KindOf(err))
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "\x1b")
		})
	}
}

func TestCommandThatHangsIsKilled(t *testing.T) {
	t.Parallel()
	// The child sleep must die with the script: its own process group is killed.
	c := script(t, "sleep 30 & wait")
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Complete(ctx, req())
	require.Error(t, err)
	assert.Equal(t, provider.KindTransient, provider.KindOf(err))
	assert.Contains(t, err.Error(), "did not answer in time")
	assert.Less(t, time.Since(start), 10*time.Second, "the hung program must be killed, not waited for")
}

func TestNewNeedsAProgram(t *testing.T) {
	t.Parallel()
	_, err := New(nil, "", nil)
	require.ErrorContains(t, err, "no program given")
}

// Issue 10, item 11: a program gets a minimal environment and the variables
// its target lists, never the CI job's GitHub token.
func TestProgramGetsAMinimalEnvironment(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"PATH": "/usr/bin:/bin", "HOME": "/home/runner", "LANG": "C.UTF-8",
		"GITHUB_TOKEN": "ghs_jobtoken0123456789", "INPUT_GITHUB-TOKEN": "ghs_jobtoken0123456789",
		"AWS_SECRET_ACCESS_KEY": "aws-secret-0123456789", "APP_KEY": "app-key-value",
	}
	getenv := func(k string) string { return env[k] }
	vars, err := Environ(getenv, []string{"APP_KEY", "UNSET_VAR"})
	require.NoError(t, err)
	assert.Equal(t, []string{"PATH=/usr/bin:/bin", "HOME=/home/runner", "LANG=C.UTF-8", "APP_KEY=app-key-value"}, vars)

	p := filepath.Join(t.TempDir(), "model.sh")
	// The program prints its whole environment as its answer.
	require.NoError(t, os.WriteFile(p, []byte("#!/bin/sh\ncat >/dev/null\nprintf '{\"text\": \"%s\"}' \"$(env | sort | tr '\\n' ' ')\"\n"), 0o755))
	c, err := New([]string{p}, "", vars)
	require.NoError(t, err)
	resp, err := c.Complete(context.Background(), req())
	require.NoError(t, err)
	assert.Contains(t, resp.Text, "APP_KEY=app-key-value")
	assert.Contains(t, resp.Text, "HOME=/home/runner")
	assert.NotContains(t, resp.Text, "ghs_jobtoken")
	assert.NotContains(t, resp.Text, "aws-secret")

	for _, name := range []string{"GITHUB_TOKEN", "INPUT_GITHUB-TOKEN", "github_token"} {
		_, err := Environ(getenv, []string{name})
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), "never passed to a program")
	}
	_, err = Environ(getenv, []string{"A=B"})
	assert.ErrorContains(t, err, "not a variable name")
}

// Issue 10, item 3: a program that prints nothing gave no answer: an error
// of kind empty, not a crash and not an answer.
func TestProgramThatPrintsNothingIsAnEmptyAnswer(t *testing.T) {
	t.Parallel()
	_, err := script(t, `cat >/dev/null; echo "no model today" >&2`).Complete(context.Background(), req())
	require.Error(t, err)
	assert.Equal(t, provider.KindEmpty, provider.KindOf(err))
	assert.Contains(t, err.Error(), "printed nothing")
	assert.Contains(t, err.Error(), "no model today")
}
