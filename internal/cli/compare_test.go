package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// exampleRun runs the bundled example once and returns its results file.
func exampleRun(t *testing.T) (dir, out string) {
	t.Helper()
	dir = copyExample(t)
	out = filepath.Join(dir, "run.jsonl")
	code, _, stderr := invoke(t, context.Background(), "run", "--config", filepath.Join(dir, "evalgate.yaml"), "--out", out, "--progress", "off")
	require.Equal(t, ExitPass, code, stderr)
	return dir, out
}

func TestCompare(t *testing.T) {
	t.Parallel()
	dir, out := exampleRun(t)
	cfg := filepath.Join(dir, "evalgate.yaml")

	code, stdout, stderr := invoke(t, context.Background(), "compare", "--baseline", out+"#source", "--target", out+"#nova-lite", "--config", cfg)
	assert.Equal(t, ExitPass, code, stderr)
	assert.Contains(t, stdout, "support-answers: pass")

	verdict := filepath.Join(dir, "verdict.json")
	code, _, stderr = invoke(t, context.Background(), "compare", "--baseline", out+"#source", "--target", out+"#nova-lite",
		"--criterion", "f1:max_drop=0", "--mode", "non_inferiority", "--format", "json", "--out", verdict)
	assert.Equal(t, ExitRegressed, code, "a zero margin cannot be shown in non_inferiority mode: %s", stderr)
	var v struct {
		Status   string `json:"status"`
		ExitCode int    `json:"exit_code"`
	}
	b, err := os.ReadFile(verdict)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &v))
	assert.Equal(t, ExitRegressed, v.ExitCode)
	assert.Contains(t, []string{"inconclusive", "regressed"}, v.Status)
}

func TestCompareBadInput(t *testing.T) {
	t.Parallel()
	dir, out := exampleRun(t)
	raw, err := os.ReadFile(out)
	require.NoError(t, err)
	truncated := filepath.Join(dir, "truncated.jsonl")
	require.NoError(t, os.WriteFile(truncated, raw[:len(raw)/2], 0o644))

	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"truncated baseline", []string{"--baseline", truncated + "#source", "--target", out + "#nova-lite"}, ExitUsage, "truncated"},
		{"unknown target", []string{"--baseline", out + "#nope", "--target", out + "#nova-lite"}, ExitUsage, "nope"},
		{"criterion on an unknown metric", []string{"--baseline", out + "#source", "--target", out + "#nova-lite", "--criterion", "f2:max_drop=0.05"}, ExitUsage, "f2"},
		{"missing target flag", []string{"--baseline", out + "#source"}, ExitUsage, "--target"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := invoke(t, context.Background(), append([]string{"compare"}, tc.args...)...)
			assert.Equal(t, tc.code, code, "stdout: %s\nstderr: %s", stdout, stderr)
			assert.Contains(t, stdout+stderr, tc.want)
		})
	}
}

// Issue 13, item 2: two runs of a dataset without an id column, one with its
// rows reversed, pair row-1 with row-1: different questions. compare refuses
// them (exit 2) and names the samples, unless told to compare anyway.
func TestCompareRefusesPairsOfDifferentSamples(t *testing.T) {
	t.Parallel()
	dir := copyExample(t)
	data := filepath.Join(dir, "data", "support.jsonl")
	raw, err := os.ReadFile(data)
	require.NoError(t, err)
	var rows []string
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m))
		delete(m, "sample_id")
		b, err := json.Marshal(m)
		require.NoError(t, err)
		rows = append(rows, string(b))
	}
	run := func(name string, rows []string) string {
		require.NoError(t, os.WriteFile(data, []byte(strings.Join(rows, "\n")+"\n"), 0o644))
		out := filepath.Join(dir, name+".jsonl")
		code, _, stderr := invoke(t, context.Background(), "run", "--config", filepath.Join(dir, "evalgate.yaml"), "--out", out, "--progress", "off", "--targets", "source")
		require.Equal(t, ExitPass, code, stderr)
		return out
	}
	inOrder := run("in-order", rows)
	reversed := slices.Clone(rows)
	slices.Reverse(reversed)
	rev := run("reversed", reversed)

	args := []string{"compare", "--baseline", inOrder + "#source", "--target", rev + "#source", "--criterion", "f1:max_drop=0.05"}
	code, stdout, stderr := invoke(t, context.Background(), args...)
	assert.Equal(t, ExitUsage, code, stdout)
	assert.Contains(t, stderr, "30 paired samples have a different input or reference in the baseline and the target (row-1, row-10, row-11")
	assert.Contains(t, stderr, "--allow-input-mismatch")

	code, stdout, stderr = invoke(t, context.Background(), append(args, "--allow-input-mismatch")...)
	assert.NotEqual(t, ExitUsage, code, stderr)
	assert.Contains(t, stdout, "paired on their row numbers")
}

func TestReport(t *testing.T) {
	t.Parallel()
	dir, out := exampleRun(t)
	html, md, js := filepath.Join(dir, "r.html"), filepath.Join(dir, "r.md"), filepath.Join(dir, "r.json")
	// The baseline and the criteria from the suite; the target from the file.
	code, stdout, stderr := invoke(t, context.Background(), "report", "--config", filepath.Join(dir, "evalgate.yaml"),
		"--html", html, "--markdown", md, "--json", js, out+"#nova-lite")
	require.Equal(t, ExitPass, code, stderr)
	assert.Contains(t, stdout, "wrote "+html)
	assert.Contains(t, stdout, "verdict pass: all criteria passed")
	page, err := os.ReadFile(html)
	require.NoError(t, err)
	assert.Contains(t, string(page), `<meta http-equiv="Content-Security-Policy"`)
	assert.Equal(t, 30, strings.Count(string(page), `{"id":"kb-`), "a row per sample")
	for _, f := range []string{md, js} {
		_, err := os.Stat(f)
		assert.NoError(t, err, f)
	}

	// A regression is drawn, not turned into the exit code: compare gates.
	code, stdout, stderr = invoke(t, context.Background(), "report", "--baseline", out+"#source", "--criterion", "f1:max_drop=0",
		"--mode", "non_inferiority", "--html", html, out+"#nova-lite")
	assert.Equal(t, ExitPass, code, stderr)
	assert.Regexp(t, `verdict (regressed|inconclusive)`, stdout)

	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no output", []string{"--baseline", out + "#source", out + "#nova-lite"}, "--html FILE"},
		{"no baseline", []string{"--html", html, out + "#nova-lite"}, "--baseline BASE.jsonl"},
		{"no results", []string{"--html", html}, "want one results file"},
		{"unknown target", []string{"--html", html, "--baseline", out + "#source", out + "#nope"}, "nope"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := invoke(t, context.Background(), append([]string{"report"}, tc.args...)...)
			assert.Equal(t, ExitUsage, code, stdout)
			assert.Contains(t, stderr, tc.want)
		})
	}
}

// Scheduled runs append their verdict to a history; from the second run on,
// the HTML report draws each check over the runs.
func TestRunHistory(t *testing.T) {
	t.Parallel()
	dir := copyExample(t)
	history := filepath.Join(dir, "history.jsonl")
	out := filepath.Join(dir, "run.jsonl")
	for range 2 {
		code, _, stderr := invoke(t, context.Background(), "run", "--config", filepath.Join(dir, "evalgate.yaml"), "--out", out,
			"--progress", "off", "--history", history)
		require.Equal(t, ExitPass, code, stderr)
	}
	b, err := os.ReadFile(history)
	require.NoError(t, err)
	assert.Equal(t, 2, strings.Count(string(b), "\n"), "a line per run")
	assert.Contains(t, string(b), `"status":"pass"`)
	page, err := os.ReadFile(filepath.Join(dir, "run.report.html"))
	require.NoError(t, err)
	assert.Contains(t, string(page), `<div class="charts" id="trends">`)

	// report draws a history it is given, and refuses one that is not there.
	drawn := filepath.Join(dir, "drawn.html")
	code, _, stderr := invoke(t, context.Background(), "report", "--config", filepath.Join(dir, "evalgate.yaml"),
		"--history", history, "--html", drawn, out+"#nova-lite")
	require.Equal(t, ExitPass, code, stderr)
	page, err = os.ReadFile(drawn)
	require.NoError(t, err)
	assert.Contains(t, string(page), `<div class="charts" id="trends">`)
	code, _, stderr = invoke(t, context.Background(), "report", "--config", filepath.Join(dir, "evalgate.yaml"),
		"--history", history+".missing", "--html", drawn, out+"#nova-lite")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, stderr, "--history")

	// A broken history is a warning: the verdict stands and a new one starts.
	require.NoError(t, os.WriteFile(history, []byte("not json\n"), 0o644))
	code, _, stderr = invoke(t, context.Background(), "run", "--config", filepath.Join(dir, "evalgate.yaml"), "--out", out,
		"--progress", "off", "--history", history)
	require.Equal(t, ExitPass, code, stderr)
	assert.Contains(t, stderr, "history.jsonl line 1: not a history entry")
	b, err = os.ReadFile(history)
	require.NoError(t, err)
	assert.Equal(t, 1, strings.Count(string(b), "\n"))
}
