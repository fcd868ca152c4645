package ghaction

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// newTest returns an Action over env, writing commands to the returned buffer.
func newTest(env map[string]string) (*Action, *bytes.Buffer) {
	var buf bytes.Buffer
	return New(WithGetenv(func(k string) string { return env[k] }), WithWriter(&buf)), &buf
}

func TestGetInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		input, env, value, want string
	}{
		{"config", "INPUT_CONFIG", "evalgate.yaml", "evalgate.yaml"},
		{"github-token", "INPUT_GITHUB-TOKEN", "tok", "tok"},
		{"fail on", "INPUT_FAIL_ON", " regressed \n", "regressed"},
		{"config", "INPUT_OTHER", "x", ""},
	}
	for _, tt := range tests {
		t.Run(tt.input+"/"+tt.env, func(t *testing.T) {
			t.Parallel()
			a, _ := newTest(map[string]string{tt.env: tt.value})
			assert.Equal(t, tt.want, a.GetInput(tt.input))
		})
	}
}

var heredoc = regexp.MustCompile(`^(\w[\w-]*)<<(ghadelimiter_[0-9a-f]{32})\n((?s:.*?))\n(ghadelimiter_[0-9a-f]{32})\n$`)

func TestSetOutputHeredoc(t *testing.T) {
	t.Parallel()
	for _, value := range []string{"pass", "line one\nline two\n", "", "EOF\nname<<EOF\ninjected=1"} {
		t.Run(value, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "output")
			a, _ := newTest(map[string]string{"GITHUB_OUTPUT": path})
			require.NoError(t, a.SetOutput("verdict", value))
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			m := heredoc.FindStringSubmatch(string(b))
			require.NotNil(t, m, "%q", b)
			assert.Equal(t, "verdict", m[1])
			assert.Equal(t, value, m[3])
			assert.Equal(t, m[2], m[4])
		})
	}
}

func TestEnvFilesAppend(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := map[string]string{
		"GITHUB_OUTPUT":       filepath.Join(dir, "out"),
		"GITHUB_ENV":          filepath.Join(dir, "env"),
		"GITHUB_STEP_SUMMARY": filepath.Join(dir, "summary"),
	}
	a, _ := newTest(env)
	require.NoError(t, a.SetOutput("a", "1"))
	require.NoError(t, a.SetOutput("b", "2"))
	require.NoError(t, a.SetEnv("EVALGATE_VERDICT", "pass"))
	require.NoError(t, a.AddStepSummary("## one"))
	require.NoError(t, a.AddStepSummary("## two"))

	out, _ := os.ReadFile(env["GITHUB_OUTPUT"])
	assert.Equal(t, 2, strings.Count(string(out), "<<ghadelimiter_"))
	e, _ := os.ReadFile(env["GITHUB_ENV"])
	assert.True(t, strings.HasPrefix(string(e), "EVALGATE_VERDICT<<"))
	s, _ := os.ReadFile(env["GITHUB_STEP_SUMMARY"])
	assert.Equal(t, "## one\n## two\n", string(s))
}

func TestEnvFileErrors(t *testing.T) {
	t.Parallel()
	a, _ := newTest(nil)
	err := a.SetOutput("verdict", "pass")
	require.ErrorIs(t, err, ErrNoFile)
	assert.Contains(t, err.Error(), "GITHUB_OUTPUT is not set")
	require.ErrorIs(t, a.AddStepSummary("x"), ErrNoFile)

	a, _ = newTest(map[string]string{"GITHUB_OUTPUT": filepath.Join(t.TempDir(), "out")})
	assert.ErrorContains(t, a.SetOutput("bad\nname", "x"), "invalid name")
	assert.ErrorContains(t, a.SetOutput("k=v", "x"), "invalid name")
}

func TestCommands(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		do   func(a *Action)
		want string
	}{
		{"error with properties", func(a *Action) {
			a.Errorf(CommandProperties{Title: "f1: max_drop", File: "evalgate.yaml", Line: 12, Col: 5}, "drop %.2f > 0.05", 0.08)
		}, "::error title=f1%3A max_drop,file=evalgate.yaml,line=12,col=5::drop 0.08 > 0.05\n"},
		{"escapes data", func(a *Action) {
			a.Warningf(CommandProperties{}, "100%% done\r\nnext: line")
		}, "::warning::100%25 done%0D%0Anext: line\n"},
		{"escapes properties", func(a *Action) {
			a.Noticef(CommandProperties{Title: "a,b:c%\nd", File: "dir/a b.yaml"}, "m")
		}, "::notice title=a%2Cb%3Ac%25%0Ad,file=dir/a b.yaml::m\n"},
		{"group", func(a *Action) { a.Group("suite support-answers"); a.EndGroup() },
			"::group::suite support-answers\n::endgroup::\n"},
		{"mask each line", func(a *Action) { a.AddMask("ghs_secret\n\nsecond") },
			"::add-mask::ghs_secret\n::add-mask::second\n"},
		{"debug", func(a *Action) { a.Debugf("x=%d", 1) }, "::debug::x=1\n"},
		{"issue command sorted", func(a *Action) { a.IssueCommand("error", map[string]string{"line": "3", "file": "a"}, "x") },
			"::error file=a,line=3::x\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, buf := newTest(nil)
			tt.do(a)
			assert.Equal(t, tt.want, buf.String())
		})
	}
}

func TestInputEnv(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "INPUT_GITHUB-TOKEN", InputEnv("github-token"))
	assert.Equal(t, "INPUT_FAIL_ON", InputEnv("fail on"))
}
