package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evalgate/evalgate/internal/fixture"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/results"
)

// invoke runs evalgate with args and returns the exit code, stdout and stderr.
func invoke(t *testing.T, ctx context.Context, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := map[string]string{}
	code := Main(ctx, args, func(k string) string { return env[k] }, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// copyExample copies examples/support into a temporary directory, so that
// tests write their results and cache there.
func copyExample(t *testing.T) string { t.Helper(); return copyExampleDir(t, "support") }

// copyExampleDir copies examples/<name> into a temporary directory.
func copyExampleDir(t *testing.T, name string) string {
	t.Helper()
	dst := t.TempDir()
	fixture.CopyDir(t, filepath.Join("..", "..", "examples", name), dst)
	return dst
}

func TestRunBundledExample(t *testing.T) {
	t.Parallel()
	dir := copyExample(t)
	out := filepath.Join(dir, "out.jsonl")
	code, stdout, stderr := invoke(t, context.Background(), "run", "--config", filepath.Join(dir, "evalgate.yaml"), "--out", out, "--progress", "off")
	require.Equal(t, ExitPass, code, "stderr: %s", stderr)
	assert.Contains(t, stdout, "suite support-answers: complete")
	assert.Contains(t, stdout, "nova-lite")

	h, recs, sum, err := results.ReadAll(out)
	require.NoError(t, err)
	assert.Equal(t, "support-answers", h.Suite)
	require.Len(t, h.Targets, 2)
	assert.True(t, h.Targets[0].Priced && h.Targets[1].Priced)
	assert.Len(t, recs, 60)
	require.NotNil(t, sum)
	assert.Equal(t, results.StatusComplete, sum.Status)
	for _, r := range recs {
		assert.Nil(t, r.Error, "%s/%s", r.Target, r.SampleID)
		assert.Contains(t, r.Scores, "f1")
		assert.NotEmpty(t, r.Cluster)
		require.NotNil(t, r.CostUSD)
		// The logged judge and SME scores describe the source's answers only.
		_, judged := r.Scores["human_score_source_llm"]
		assert.Equal(t, r.Target == "source", judged, "%s/%s", r.Target, r.SampleID)
	}

	// The suite names a baseline, so the run is gated: verdict, report, JSON.
	assert.Contains(t, stdout, "verdict: PASS")
	// 30 samples are too few for a 0.05 margin on f1: said first.
	assert.Contains(t, stdout, "CAUTION: The suite is too small for")
	md, err := os.ReadFile(filepath.Join(dir, "out.report.md"))
	require.NoError(t, err)
	assert.Contains(t, string(md), "support-answers: pass")
	assert.Contains(t, string(md), "kb-002", "the most regressed sample is shown")
	assert.Contains(t, string(md), "Judge vs human agreement")
	// The HTML report is written next to the Markdown, with every pair.
	assert.Contains(t, stdout, "html report: "+filepath.Join(dir, "out.report.html"))
	page, err := os.ReadFile(filepath.Join(dir, "out.report.html"))
	require.NoError(t, err)
	assert.Contains(t, string(page), `<h1>support-answers <span class="badge s-pass"`)
	assert.Contains(t, string(page), `"id":"kb-030"`)
	assert.NotContains(t, stdout, "lack a score on one side", "a metric scored for one target only is not reported as missing")
	var v struct {
		Status   string `json:"status"`
		ExitCode int    `json:"exit_code"`
		Pairs    int    `json:"pairs"`
	}
	js, err := os.ReadFile(filepath.Join(dir, "out.verdict.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(js, &v))
	assert.Equal(t, "pass", v.Status)
	assert.Equal(t, 30, v.Pairs)
}

// A run without a baseline shows how sure each mean is, not the mean alone.
func TestRunWithoutABaselineShowsIntervals(t *testing.T) {
	t.Parallel()
	dir := copyExample(t)
	out := filepath.Join(dir, "out.jsonl")
	code, stdout, stderr := invoke(t, context.Background(), "run", "--config", filepath.Join(dir, "evalgate.yaml"), "--out", out, "--progress", "off", "--targets", "nova-lite")
	require.Equal(t, ExitPass, code, "stderr: %s", stderr)
	assert.NotContains(t, stdout, "verdict:")
	assert.Contains(t, stdout, "means with 95% intervals (no baseline to compare with):")
	assert.Regexp(t, `nova-lite: f1 0\.668 \[0\.[0-9]+, 0\.[0-9]+\]`, stdout)
}

func TestRunGateRegressesWithExitOne(t *testing.T) {
	t.Parallel()
	dir := copyExample(t)
	cfgPath := filepath.Join(dir, "evalgate.yaml")
	cfg, err := os.ReadFile(cfgPath)
	require.NoError(t, err)
	// The same answers at a price that breaks the cost criterion.
	strict := strings.Replace(string(cfg), "    region: us-east-1\n", "    region: us-east-1\n    pricing: {input_per_mtok: 10, output_per_mtok: 30}\n", 1)
	require.NotEqual(t, string(cfg), strict)
	require.NoError(t, os.WriteFile(cfgPath, []byte(strict), 0o644))
	code, stdout, stderr := invoke(t, context.Background(), "run", "--config", cfgPath, "--out", filepath.Join(dir, "o.jsonl"), "--progress", "off")
	assert.Equal(t, ExitRegressed, code, stderr)
	assert.Contains(t, stdout, "verdict: REGRESSED")
	assert.Contains(t, stderr, "cost_per_1k")
}

func TestHelpAndUnknownCommand(t *testing.T) {
	t.Parallel()
	code, stdout, _ := invoke(t, context.Background(), "--help")
	assert.Equal(t, ExitPass, code)
	assert.Contains(t, stdout, "run ")
	assert.Contains(t, stdout, "Exit codes")

	code, _, stderr := invoke(t, context.Background(), "rnu")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, stderr, `did you mean "run"?`)

	code, stdout, _ = invoke(t, context.Background(), "run", "--help")
	assert.Equal(t, ExitPass, code)
	assert.Contains(t, stdout, "-budget")

	code, _, _ = invoke(t, context.Background())
	assert.Equal(t, ExitUsage, code)
}

func TestSchemaCommandPrintsJSONSchema(t *testing.T) {
	t.Parallel()
	code, stdout, _ := invoke(t, context.Background(), "schema")
	require.Equal(t, ExitPass, code)
	assert.Contains(t, stdout, `"$schema"`)
	assert.Contains(t, stdout, `"targets"`)
}

// suiteDir writes a suite with a dataset and extra target keys.
func suiteDir(t *testing.T, dataset, targetYAML, runYAML string) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "data.jsonl"), []byte(dataset), 0o644))
	cfg := "version: 1\nname: t\ndataset: {path: data.jsonl}\nprompts:\n  p: {user: \"Q: {{question}}\"}\ntargets:\n" + targetYAML +
		"metrics: [f1]\nrun:\n  results: out.jsonl\n" + runYAML
	require.NoError(t, os.WriteFile(filepath.Join(dir, "evalgate.yaml"), []byte(cfg), 0o644))
	return dir
}

const twoRows = `{"sample_id":"1","question":"q1","answer_ground_truth":"a"}
{"sample_id":"2","question":"q2","answer_ground_truth":"b"}
`

func script(t *testing.T, dir, body string) string {
	t.Helper()
	p := filepath.Join(dir, "model.sh")
	require.NoError(t, os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755))
	return p
}

// commandTarget is a target that runs the script at path. Its timeout is far
// beyond any answer's time on a loaded machine: a test whose script answers
// must not fail because the script started slowly.
func commandTarget(path string) string { return commandTargetWithin(path, "60s") }

// commandTargetWithin is commandTarget with a call timeout, for a script that
// hangs: a hang outlasts any timeout, so the outcome does not depend on it.
func commandTargetWithin(path, timeout string) string {
	return "  - {id: app, provider: command, model: app, prompt: p, command: [" + path + "], timeout: " + timeout + "}\n"
}

func TestRunBadInputs(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		dataset string
		script  string
		runYAML string
		timeout string // of a script that hangs
		code    int
		want    string
	}{
		{name: "empty dataset", dataset: "", script: `echo '{"text":"a"}'`, code: ExitUsage, want: "no samples"},
		{name: "binary dataset", dataset: "\x00\x01\x02PK\x03\x04", script: `echo '{"text":"a"}'`, code: ExitUsage, want: "data.jsonl"},
		{name: "duplicate ids", dataset: twoRows + `{"sample_id":"1","question":"q3"}` + "\n", script: `echo '{"text":"a"}'`, code: ExitUsage, want: `duplicate sample ids`},
		{name: "row without the prompt's field", dataset: twoRows + `{"sample_id":"3","query":"q3"}` + "\n", script: `echo '{"text":"a"}'`, code: ExitUsage, want: `line 3 (sample 3) has no field "question" that prompt "p" uses`},
		{name: "command exits non-zero", dataset: twoRows, script: "echo boom >&2; exit 2", runYAML: "  retries: 0\n", code: ExitProvider, want: "every call failed"},
		{name: "command prints invalid JSON", dataset: twoRows, script: "echo '<html>'", runYAML: "  retries: 0\n", code: ExitProvider, want: "every call failed"},
		{name: "command hangs", dataset: twoRows, script: "sleep 20", runYAML: "  retries: 1\n", timeout: "300ms", code: ExitProvider, want: "every call failed"},
		{name: "cache dir cannot be made", dataset: twoRows, script: `echo '{"text":"a"}'`, runYAML: "  cache_dir: data.jsonl/cache\n", code: ExitUsage, want: "set run.cache_dir to a writable directory"},
		{name: "nothing evaluated before the deadline", dataset: twoRows, script: "sleep 1; echo '{\"text\":\"a\"}'", runYAML: "  deadline: 1ms\n", code: ExitIncomplete, want: "nothing was evaluated"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			s := script(t, dir, tc.script)
			target := commandTarget(s)
			if tc.timeout != "" {
				target = commandTargetWithin(s, tc.timeout)
			}
			dir = suiteDir(t, tc.dataset, target, tc.runYAML)
			code, _, stderr := invoke(t, context.Background(), "run", "--config", filepath.Join(dir, "evalgate.yaml"), "--progress", "off")
			assert.Equal(t, tc.code, code, "stderr: %s", stderr)
			assert.Contains(t, stderr, tc.want)
		})
	}
}

func TestRunKeepsRecordsWhenSomeCallsFail(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// Fails for sample 2 only: the run completes and the good record is kept.
	s := script(t, dir, `if grep -q '"sample_id":"2"'; then exit 1; fi; echo '{"text":"a"}'`)
	dir = suiteDir(t, twoRows, commandTarget(s), "  retries: 0\n")
	code, stdout, stderr := invoke(t, context.Background(), "run", "--config", filepath.Join(dir, "evalgate.yaml"), "--progress", "off")
	assert.Equal(t, ExitPass, code, stderr)
	assert.Contains(t, stdout, "app")
	_, recs, sum, err := results.ReadAll(filepath.Join(dir, "out.jsonl"))
	require.NoError(t, err)
	require.Len(t, recs, 2)
	assert.Equal(t, 1, sum.Targets[0].Errors)
}

func TestRunCancelledBeforeStartKeepsPreviousResults(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := script(t, dir, `echo '{"text":"a"}'`)
	dir = suiteDir(t, twoRows, commandTarget(s), "")
	code, _, stderr := invoke(t, context.Background(), "run", "--config", filepath.Join(dir, "evalgate.yaml"), "--progress", "off")
	require.Equal(t, ExitPass, code, stderr)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	code, _, stderr = invoke(t, ctx, "run", "--config", filepath.Join(dir, "evalgate.yaml"), "--progress", "off")
	assert.Equal(t, ExitIncomplete, code, stderr)
	assert.Contains(t, stderr, "context canceled")
	_, recs, sum, err := results.ReadAll(filepath.Join(dir, "out.jsonl"))
	require.NoError(t, err)
	assert.Len(t, recs, 2, "a run cancelled before it evaluated anything leaves the previous results as they were")
	require.NotNil(t, sum)
	assert.Equal(t, results.StatusComplete, sum.Status)
}

func TestValidateReportsConfigErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "data.jsonl"), []byte(twoRows), 0o644))
	cfg := "version: 1\nname: t\ndataset: {path: data.jsonl}\ntargets:\n  - {id: a, provider: recorded, model: m, temprature: 0}\nmetrics: [f1]\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "evalgate.yaml"), []byte(cfg), 0o644))
	code, _, stderr := invoke(t, context.Background(), "validate", "--config", filepath.Join(dir, "evalgate.yaml"))
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, stderr, "evalgate.yaml:5")
	assert.Contains(t, stderr, "temprature")
}

// One dataset problem is "1 problem", not "1 problems" (issue 13, item 8).
func TestValidateCountsProblemsInWords(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dup := `{"sample_id": "a", "question": "q1", "answer_ground_truth": "x", "answer_source_llm": "x"}
{"sample_id": "a", "question": "q2", "answer_ground_truth": "y", "answer_source_llm": "y"}
`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "data.jsonl"), []byte(dup), 0o644))
	cfg := "version: 1\nname: t\ndataset: {path: data.jsonl}\ntargets:\n  - {id: a, provider: recorded, model: m}\nmetrics: [f1]\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "evalgate.yaml"), []byte(cfg), 0o644))
	code, stdout, stderr := invoke(t, context.Background(), "validate", "--config", filepath.Join(dir, "evalgate.yaml"))
	assert.Equal(t, ExitUsage, code, stdout)
	assert.Contains(t, stderr, ": 1 problem to fix before running")
}

// The schema committed at the repository root (which the example's
// yaml-language-server line points at) is what `evalgate schema` prints.
func TestCommittedSchemaIsCurrent(t *testing.T) {
	t.Parallel()
	code, stdout, _ := invoke(t, context.Background(), "schema")
	require.Equal(t, ExitPass, code)
	committed, err := os.ReadFile(filepath.Join("..", "..", "evalgate.schema.json"))
	require.NoError(t, err)
	assert.True(t, stdout == string(committed), "evalgate.schema.json is stale; regenerate with: go run ./cmd/evalgate schema > evalgate.schema.json")
}

func TestModelsListsAndFilters(t *testing.T) {
	t.Parallel()
	code, stdout, _ := invoke(t, context.Background(), "models", "--provider", "bedrock", "nova")
	require.Equal(t, ExitPass, code)
	assert.Contains(t, stdout, "amazon.nova-lite-v1:0")
	assert.NotContains(t, stdout, "gpt-4o")
	code, _, stderr := invoke(t, context.Background(), "models", "no-such-model")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, stderr, "no model in the catalog matches")
}

func TestRunWithAJudgeMetric(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	answer := script(t, dir, `echo '{"text":"Reset it in Settings.","usage":{"input_tokens":10,"output_tokens":5}}'`)
	judgePath := filepath.Join(dir, "judge.sh")
	// The judge answers with prose around fenced JSON, as real judges do.
	require.NoError(t, os.WriteFile(judgePath, []byte("#!/bin/sh\nprintf '%s' '{\"text\":\"Here is my grade:\\n```json\\n{\\\"score\\\": 4, \\\"reasoning\\\": \\\"mostly right\\\"}\\n```\",\"usage\":{\"input_tokens\":200,\"output_tokens\":20}}'\n"), 0o755))
	target := commandTarget(answer)
	cfg := "version: 1\nname: t\ndataset: {path: data.jsonl}\nprompts:\n  p: {user: \"Q: {{question}}\"}\ntargets:\n" + target +
		"metrics:\n  - f1\n  - {name: correctness, judge: {provider: command, command: [" + judgePath + "], model: judge-model, pricing: {input_per_mtok: 1, output_per_mtok: 1}}}\n" +
		"run:\n  results: out.jsonl\n  cache_dir: cache\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "data.jsonl"), []byte(twoRows), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "evalgate.yaml"), []byte(cfg), 0o644))
	code, stdout, stderr := invoke(t, context.Background(), "run", "--config", filepath.Join(dir, "evalgate.yaml"), "--progress", "off")
	require.Equal(t, ExitPass, code, stderr)
	assert.Contains(t, stdout, "correctness")
	assert.Contains(t, stdout, "judging: 400 in / 40 out tokens, $0.0004")
	_, recs, sum, err := results.ReadAll(filepath.Join(dir, "out.jsonl"))
	require.NoError(t, err)
	require.Len(t, recs, 2)
	for _, r := range recs {
		require.Empty(t, r.ScoreErrors)
		assert.InDelta(t, 0.75, r.Scores["correctness"], 1e-9, "4 on the 1..5 scale")
		assert.Equal(t, 4.0, r.Raw["correctness"])
		assert.Equal(t, "mostly right", r.Details["correctness"])
		require.NotNil(t, r.JudgeUsage)
		assert.Equal(t, 200, r.JudgeUsage.InputTokens)
		require.NotNil(t, r.JudgeCostUSD)
		assert.InDelta(t, 220/1e6, *r.JudgeCostUSD, 1e-12)
	}
	require.NotNil(t, sum.Targets[0].JudgeCostUSD)
	assert.InDelta(t, 440/1e6, *sum.Targets[0].JudgeCostUSD, 1e-12)
}

func TestMetricTargetsMustNameTargets(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "data.jsonl"), []byte(twoRows), 0o644))
	cfg := "version: 1\nname: t\ndataset: {path: data.jsonl}\ntargets:\n  - {id: source, provider: recorded, model: m}\n" +
		"metrics:\n  - {name: sme, type: imported, field: human_score_source_llm, min: 1, max: 5, targets: [sorce]}\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "evalgate.yaml"), []byte(cfg), 0o644))
	code, _, stderr := invoke(t, context.Background(), "validate", "--config", filepath.Join(dir, "evalgate.yaml"))
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, stderr, "evalgate.yaml:7")
	assert.Contains(t, stderr, "'sorce' is not a target of this suite")
	assert.Contains(t, stderr, "did you mean 'source'")
}

func TestGateAgreementPairsNamedMetrics(t *testing.T) {
	t.Parallel()
	dir := copyExample(t)
	cfgPath := filepath.Join(dir, "evalgate.yaml")
	cfg, err := os.ReadFile(cfgPath)
	require.NoError(t, err)
	renamed := strings.NewReplacer(
		"{name: llm_judge_score_source_llm,", "{name: judge,",
		"{name: human_score_source_llm,", "{name: sme,",
		"  monthly_calls: 50000\n", "  monthly_calls: 50000\n  agreement:\n    - {judge: judge, human: sme}\n",
	).Replace(string(cfg))
	require.NoError(t, os.WriteFile(cfgPath, []byte(renamed), 0o644))
	code, _, stderr := invoke(t, context.Background(), "run", "--config", cfgPath, "--out", filepath.Join(dir, "o.jsonl"), "--progress", "off")
	require.Equal(t, ExitPass, code, stderr)
	md, err := os.ReadFile(filepath.Join(dir, "o.report.md"))
	require.NoError(t, err)
	assert.Contains(t, string(md), "| judge | sme | source | 30 |")

	typo := strings.Replace(renamed, "{judge: judge, human: sme}", "{judge: judge, human: smee}", 1)
	require.NoError(t, os.WriteFile(cfgPath, []byte(typo), 0o644))
	code, _, stderr = invoke(t, context.Background(), "validate", "--config", cfgPath)
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, stderr, "gate.agreement[0].human: metric 'smee' is not declared under metrics, did you mean 'sme'?")
}

func TestRunRejectsNegativeFlags(t *testing.T) {
	t.Parallel()
	for _, flag := range []string{"--limit", "--concurrency", "--repeats", "--budget"} {
		code, _, stderr := invoke(t, context.Background(), "run", "--config", filepath.Join("..", "..", "examples", "support", "evalgate.yaml"), flag, "-2")
		assert.Equal(t, ExitUsage, code, flag)
		assert.Contains(t, stderr, flag+" -2: give a positive number", flag)
	}
}

// Issue 10, item 1: a suite of one to four samples (one cluster, or a
// handful) gets a verdict and a report, never a panic; checks the data cannot
// bound are inconclusive.
func TestRunTinySuitesGetAVerdictNotAPanic(t *testing.T) {
	t.Parallel()
	for _, limit := range []string{"1", "2", "4"} {
		t.Run("limit "+limit, func(t *testing.T) {
			t.Parallel()
			dir := copyExample(t)
			out := filepath.Join(dir, "out.jsonl")
			code, stdout, stderr := invoke(t, context.Background(), "run", "--config", filepath.Join(dir, "evalgate.yaml"), "--out", out, "--progress", "off", "--limit", limit)
			require.NotContains(t, stderr, "panic")
			assert.Equal(t, ExitPass, code, "regression mode: inconclusive does not fail; stderr: %s", stderr)
			assert.Contains(t, stdout, "verdict: INCONCLUSIVE")
			assert.Contains(t, stdout, "CAUTION: The suite is too small")
			_, err := os.Stat(filepath.Join(dir, "out.verdict.json"))
			require.NoError(t, err)
		})
	}
}
