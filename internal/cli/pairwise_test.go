package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	// The judge reads the request and prefers the answer that contains prefer,
	// wherever the (shuffled) order put it.
	judge := `#!/usr/bin/env python3
import json, sys
req = json.load(sys.stdin)
user = req["messages"][-1]["content"]
a = user.split("<answer_a>")[1].split("</answer_a>")[0]
choice = "A" if "` + prefer + `" in a else "B"
print(json.dumps({"text": json.dumps({"reasoning": "compared", "preference": choice}), "usage": {"input_tokens": 50, "output_tokens": 5}}))
`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "judge.py"), []byte(judge), 0o755))
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
  - {name: preference, type: pairwise, judge: {provider: command, command: [./judge.py], model: judge}}
criteria:
  - {metric: preference, min: 0.5}
gate: {baseline: old, target: new}
run: {results: out.jsonl, cache_dir: cache}
`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "evalgate.yaml"), []byte(cfg), 0o644))
	return dir
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
