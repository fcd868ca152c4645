package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/metric/judge"
	"github.com/evalgate/evalgate/internal/results"
)

// pairwiseSuite writes a suite whose baseline answers "OLD" and whose target
// answers "NEW", judged pairwise by a program that prefers answers containing
// prefer.
func pairwiseSuite(t *testing.T, prefer string) string {
	t.Helper()
	dir := t.TempDir()
	var rows strings.Builder
	for i := range 40 {
		fmt.Fprintf(&rows, `{"sample_id":"q%d","question":"question %d","answer_ground_truth":"a"}`+"\n", i, i)
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "data.jsonl"), []byte(rows.String()), 0o644))
	for _, name := range []string{"OLD", "NEW"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, strings.ToLower(name)+".sh"),
			[]byte("#!/bin/sh\ncat >/dev/null\necho '{\"text\":\""+name+" answer\"}'\n"), 0o755))
	}
	// The judge is this test binary (TestMain runs pairwiseJudge): no
	// interpreter on PATH is needed.
	self, err := os.Executable()
	require.NoError(t, err)
	cfg := `version: 1
name: pw
dataset: {path: data.jsonl}
prompts:
  p: {user: "Q: {{question}}"}
targets:
  - {id: old, provider: command, model: old, prompt: p, command: [./old.sh]}
  - {id: new, provider: command, model: new, prompt: p, command: [./new.sh]}
metrics:
  - f1
  - {name: preference, type: pairwise, judge: {provider: command, command: [` + self + `, ` + pairwiseJudgeArg + `, ` + prefer + `], model: judge}}
criteria:
  - {metric: preference, min: 0.5}
gate: {baseline: old, target: new}
run: {results: out.jsonl, cache_dir: cache}
`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "evalgate.yaml"), []byte(cfg), 0o644))
	return dir
}

// pairwiseJudgeArg makes the test binary a command-provider judge that
// prefers the answer containing the argument after it.
const pairwiseJudgeArg = "__evalgate_pairwise_judge__"

// pairwiseJudge reads a command-provider request and prefers the answer that
// contains prefer, wherever the (shuffled) order put it.
func pairwiseJudge(prefer string, in io.Reader, out io.Writer) int {
	var req struct {
		Messages []struct{ Content string } `json:"messages"`
	}
	if err := json.NewDecoder(in).Decode(&req); err != nil || len(req.Messages) == 0 {
		fmt.Fprintln(os.Stderr, "pairwise judge: bad request:", err)
		return 1
	}
	user := req.Messages[len(req.Messages)-1].Content
	_, a, _ := strings.Cut(user, "<answer_a>")
	a, _, _ = strings.Cut(a, "</answer_a>")
	choice := "B"
	if strings.Contains(a, prefer) {
		choice = "A"
	}
	text, _ := json.Marshal(map[string]string{"reasoning": "compared", "preference": choice})
	reply, _ := json.Marshal(map[string]any{"text": string(text), "usage": map[string]int{"input_tokens": 50, "output_tokens": 5}})
	fmt.Fprintln(out, string(reply))
	return 0
}

func TestRunJudgesPairwisePreference(t *testing.T) {
	t.Parallel()
	tests := []struct {
		prefer string
		code   int
		want   string
	}{
		{"NEW", ExitPass, "pairwise preference: target preferred 40, baseline 0"},
		{"OLD", ExitRegressed, "pairwise preference: target preferred 0, baseline 40"},
	}
	for _, tc := range tests {
		t.Run("judge prefers "+tc.prefer, func(t *testing.T) {
			t.Parallel()
			dir := pairwiseSuite(t, tc.prefer)
			code, stdout, stderr := invoke(t, context.Background(), "run", "--config", filepath.Join(dir, "evalgate.yaml"), "--progress", "off")
			assert.Equal(t, tc.code, code, "stdout: %s\nstderr: %s", stdout, stderr)
			assert.Contains(t, stdout, tc.want)
			md, err := os.ReadFile(filepath.Join(dir, "out.report.md"))
			require.NoError(t, err)
			assert.Contains(t, string(md), "preference")
		})
	}
}

func TestPairsFromRecords(t *testing.T) {
	t.Parallel()
	rec := func(id string, repeat int, out string, failed bool) results.Record {
		r := results.Record{SampleID: id, Repeat: repeat, Output: out, Input: "q " + id, Reference: "ref " + id}
		if failed {
			r.Error = &results.RecordError{Kind: "other", Message: "x"}
		}
		return r
	}
	base := []results.Record{rec("b", 0, "B-b0", false), rec("a", 0, "B-a0", false), rec("a", 1, "B-a1", false), rec("c", 0, "B-c0", true), rec("d", 0, "B-d0", false)}
	target := []results.Record{rec("a", 1, "T-a1", false), rec("a", 0, "T-a0", false), rec("b", 0, "T-b0", true), rec("c", 0, "T-c0", false), rec("e", 0, "T-e0", false)}
	pairs, dropped := pairsFromRecords(base, target)
	assert.Equal(t, []judge.Pair{
		{SampleID: "a", Repeat: 0, Question: "q a", Reference: "ref a", Baseline: "B-a0", Target: "T-a0"},
		{SampleID: "a", Repeat: 1, Question: "q a", Reference: "ref a", Baseline: "B-a1", Target: "T-a1"},
	}, pairs)
	assert.Equal(t, 4, dropped, "b and c failed on one side, d and e are on one side only")
}
