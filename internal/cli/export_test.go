package cli

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/golden"
)

func TestExportSeedCSV(t *testing.T) {
	t.Parallel()
	dir, out := exampleRun(t)
	code, stdout, stderr := invoke(t, context.Background(), "export", "--config", filepath.Join(dir, "evalgate.yaml"), "--results", out)
	require.Equal(t, ExitPass, code, stderr)
	golden.Assert(t, stdout)

	rows, err := csv.NewReader(strings.NewReader(stdout)).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 31, "a header and the 30 samples")
	col := map[string]int{}
	for i, c := range rows[0] {
		col[c] = i
	}
	for _, c := range []string{"sample_id", "answer_source_llm", "latency_source_llm", "answer_target_llm", "latency_target_llm", "f1_target_llm"} {
		assert.Contains(t, col, c)
	}
	assert.NotContains(t, col, "llm_judge_score_source_llm_target_llm", "a source-only score is not the target's")
	assert.Less(t, col["answer_source_llm"], col["answer_target_llm"], "the target's columns follow the source's")
}

func TestExportJUnit(t *testing.T) {
	t.Parallel()
	dir, res := exampleRun(t)
	out := filepath.Join(dir, "junit.xml")
	code, _, stderr := invoke(t, context.Background(), "export", "--config", filepath.Join(dir, "evalgate.yaml"), "--results", res, "--format", "junit", "--per-sample", "--out", out)
	require.Equal(t, ExitPass, code, stderr)
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	golden.Assert(t, string(b))
	assert.Equal(t, 30, strings.Count(string(b), `classname="support-answers.samples"`))
}

func TestExportErrors(t *testing.T) {
	t.Parallel()
	dir, res := exampleRun(t)
	cfg := filepath.Join(dir, "evalgate.yaml")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--format", "xlsx"}, `--format "xlsx": want csv or junit`},
		{[]string{"--per-sample"}, "--per-sample and --baseline go with --format junit"},
		{[]string{"--target", "nope"}, `--target "nope": no such target`},
		{[]string{"--results", filepath.Join(dir, "missing.jsonl")}, "missing.jsonl"}, // the last --results wins
	} {
		code, _, stderr := invoke(t, context.Background(), append([]string{"export", "--config", cfg, "--results", res}, tc.args...)...)
		assert.Equal(t, ExitUsage, code, tc.args)
		assert.Contains(t, stderr, tc.want)
	}
}
