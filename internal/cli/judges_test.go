package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/metric"
	"github.com/evalgate/evalgate/internal/metric/judge"
	"github.com/evalgate/evalgate/internal/run"
	"github.com/evalgate/evalgate/internal/suite"
)

// judgeScript writes a command-provider judge that logs each request it gets
// to calls.log and answers with reply; it returns the suite directory.
func judgeScript(t *testing.T, reply string) string {
	t.Helper()
	dir := t.TempDir()
	script := "#!/bin/sh\ncat >> calls.log\necho >> calls.log\ncat <<'JSON'\n" + reply + "\nJSON\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "judge.sh"), []byte(script), 0o755))
	return dir
}

func judgeCalls(t *testing.T, dir string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "calls.log"))
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

func TestBuildJudgeCallsThroughTheRunCaller(t *testing.T) {
	t.Parallel()
	dir := judgeScript(t, `{"text": "{\"reasoning\": \"cites the policy\", \"score\": 4}", "usage": {"input_tokens": 1000, "output_tokens": 100}}`)
	s := &suite.Suite{Dir: dir, Path: filepath.Join(dir, "evalgate.yaml")}
	s.Config.Dataset.Fields = map[string]string{suite.RoleContext: "kb"}
	cache, err := run.OpenCache(filepath.Join(dir, "cache"))
	require.NoError(t, err)
	caller := run.NewCaller(run.Options{Cache: cache})
	spec := metric.Spec{Name: "grounded", Type: "faithfulness", BaseDir: dir, Options: map[string]any{
		"judge": map[string]any{"provider": "command", "command": []any{"./judge.sh"}, "concurrency": 2,
			"pricing": map[string]any{"input_per_mtok": 3, "output_per_mtok": 15}},
	}}
	m, closeJudge, err := buildJudge(t.Context(), &Env{}, s, spec, caller, newLimiters(4))
	require.NoError(t, err)
	defer closeJudge()
	assert.Equal(t, "grounded", m.Info().Name)

	in := metric.Input{Output: "Five business days.", Question: "Refund time?", Fields: map[string]string{"kb": "Refunds take five business days."}}
	for range 2 {
		sc, err := m.Score(t.Context(), in)
		require.NoError(t, err)
		assert.Equal(t, 0.75, sc.Value)
		assert.Equal(t, 4.0, *sc.Raw)
		assert.Equal(t, "cites the policy", sc.Detail)
		require.NotNil(t, sc.CostUSD)
		assert.InDelta(t, 0.0045, *sc.CostUSD, 1e-12)
	}
	calls := judgeCalls(t, dir)
	require.Len(t, calls, 1, "the second identical score comes from the cache")
	assert.Contains(t, calls[0], "Refunds take five business days.", "the suite's context column is sent")
	assert.Contains(t, calls[0], `"temperature":0`)
	assert.InDelta(t, 0.0045, caller.Spent(), 1e-12, "judge calls count against the run's budget")
}

func TestBuildPairwise(t *testing.T) {
	t.Parallel()
	dir := judgeScript(t, `{"text": "{\"preference\": \"tie\"}"}`)
	s := &suite.Suite{Dir: dir}
	spec := metric.Spec{Name: "preference", Type: "pairwise", Options: map[string]any{
		"judge": map[string]any{"provider": "command", "command": []any{"./judge.sh"}},
	}}
	p, closeJudge, err := buildPairwise(t.Context(), &Env{}, s, spec, run.NewCaller(run.Options{}), newLimiters(4))
	require.NoError(t, err)
	defer closeJudge()
	res, err := p.Compare(t.Context(), []judge.Pair{{SampleID: "a", Baseline: "x", Target: "y"}})
	require.NoError(t, err)
	assert.Equal(t, 1, res.Ties)
	assert.Equal(t, 0.5, res.WinRate)
	assert.Nil(t, res.CostUSD, "a command judge without pricing has an unknown cost")
}

func TestBuildJudgeBadConfig(t *testing.T) {
	t.Parallel()
	s := &suite.Suite{Dir: t.TempDir()}
	caller := run.NewCaller(run.Options{})
	tests := []struct {
		name string
		spec metric.Spec
		err  string
	}{
		{"no judge", metric.Spec{Name: "correctness"}, "needs a judge"},
		{"recorded judge", metric.Spec{Name: "correctness", Options: map[string]any{"judge": map[string]any{"provider": "recorded", "model": "m"}}}, "cannot be a recorded provider"},
		{"unknown embedding provider", metric.Spec{Name: "rel", Type: "answer_relevancy", Options: map[string]any{
			"judge":     map[string]any{"provider": "command", "command": []any{"true"}},
			"embedding": map[string]any{"provider": "cohere", "model": "embed"},
		}}, `embedding provider "cohere"`},
		{"bad option", metric.Spec{Name: "correctness", Options: map[string]any{
			"judge": map[string]any{"provider": "command", "command": []any{"true"}}, "scale": []any{1, 3},
		}}, `unknown option "scale"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := buildJudge(t.Context(), &Env{Getenv: func(string) string { return "" }}, s, tt.spec, caller, newLimiters(4))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.err)
			assert.Equal(t, ExitUsage, exitCode(err))
		})
	}
}
