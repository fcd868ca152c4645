package cli

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/provider/bedrock/bedrockfake"
	"github.com/evalgate/evalgate/internal/results"
)

// optimizeExample copies examples/optimize, without the prompt a local run of
// the example may have written, and returns its config file.
func optimizeExample(t *testing.T) string {
	t.Helper()
	dir := copyExampleDir(t, "optimize")
	for _, f := range []string{"nova-lite.optimized.txt", "nova-lite.optimized.system.txt"} {
		_ = os.Remove(filepath.Join(dir, "prompts", f))
	}
	return filepath.Join(dir, "evalgate.yaml")
}

func editConfig(t *testing.T, config, old, new string) {
	t.Helper()
	b, err := os.ReadFile(config)
	require.NoError(t, err)
	require.Contains(t, string(b), old)
	require.NoError(t, os.WriteFile(config, []byte(strings.Replace(string(b), old, new, 1)), 0o644))
}

func TestOptimizeExampleFromSourcePromptToGatedWinner(t *testing.T) {
	t.Parallel()
	config := optimizeExample(t)
	dir := filepath.Dir(config)
	code, stdout, stderr := invoke(t, context.Background(), "optimize", "--config", config, "--progress", "off")
	require.Equal(t, ExitPass, code, "stdout: %s\nstderr: %s", stdout, stderr)
	assert.Contains(t, stderr, "dropped file-no-transcript: candidate file-no-transcript (files): it drops the source prompt's placeholders {{transcript}}")
	assert.Contains(t, stdout, "optimize nova-lite: 4 candidates tried, 3 evaluated on 12 dev samples")
	assert.Contains(t, stdout, "winner: metaprompt")
	assert.Contains(t, stdout, "held-out verdict against source on 12 samples: pass")

	user, err := os.ReadFile(filepath.Join(dir, "prompts", "nova-lite.optimized.txt"))
	require.NoError(t, err)
	assert.Contains(t, string(user), "{{transcript}}")
	assert.FileExists(t, filepath.Join(dir, "prompts", "nova-lite.optimized.system.txt"))

	raw, err := os.ReadFile(filepath.Join(dir, ".evalgate", "optimize", "report.json"))
	require.NoError(t, err)
	var rep struct {
		Tried   int `json:"candidates_tried"`
		Ranking struct {
			Winner     string `json:"winner"`
			Candidates []struct {
				ID      string `json:"id"`
				Primary struct{ Lo, Hi float64 }
			} `json:"candidates"`
		} `json:"ranking"`
		Verdict       struct{ Status string } `json:"verdict"`
		SelectionBias string                  `json:"selection_bias"`
		Snippet       string                  `json:"config_snippet"`
		Dev, Held     int                     `json:"-"`
	}
	require.NoError(t, json.Unmarshal(raw, &rep))
	assert.Equal(t, 4, rep.Tried)
	assert.Equal(t, "metaprompt", rep.Ranking.Winner)
	assert.Len(t, rep.Ranking.Candidates, 3)
	assert.Equal(t, "pass", rep.Verdict.Status)
	assert.NotEmpty(t, rep.SelectionBias)
	assert.Contains(t, rep.Snippet, "user_file: prompts/nova-lite.optimized.txt")
	md, err := os.ReadFile(filepath.Join(dir, ".evalgate", "optimize", "report.md"))
	require.NoError(t, err)
	assert.Contains(t, string(md), "## Dev scores (12 samples)")

	// The engine ran every candidate on the dev samples only, and only the
	// winner and the baseline on the held-out ones.
	ids := func(phase string) (map[string]bool, map[string]int) {
		_, recs, _, err := results.ReadAll(filepath.Join(dir, ".evalgate", "optimize", phase+".results.jsonl"))
		require.NoError(t, err)
		samples, perTarget := map[string]bool{}, map[string]int{}
		for _, r := range recs {
			samples[r.SampleID] = true
			perTarget[r.Target]++
		}
		return samples, perTarget
	}
	dev, devTargets := ids("dev")
	held, heldTargets := ids("heldout")
	assert.Equal(t, map[string]int{"control": 12, "rules": 12, "metaprompt": 12, "file-terse": 12}, devTargets)
	assert.Equal(t, map[string]int{"source": 12, "metaprompt": 12}, heldTargets)
	for id := range dev {
		assert.False(t, held[id], "sample %s is in both parts", id)
	}

	// Step 3: the suite with the snippet applied evaluates the winner on every
	// sample, replaying the calls optimize made (dev and held-out).
	editConfig(t, config, "targets:\n", "prompts:\n  nova-lite-optimized:\n    system_file: prompts/nova-lite.optimized.system.txt\n    user_file: prompts/nova-lite.optimized.txt\ntargets:\n")
	editConfig(t, config, "    params: {temperature: 0, max_tokens: 200}\n", "    prompt: nova-lite-optimized\n    params: {temperature: 0, max_tokens: 200}\n")
	code, stdout, stderr = invoke(t, context.Background(), "run", "--config", config, "--progress", "off")
	require.Equal(t, ExitPass, code, "stdout: %s\nstderr: %s", stdout, stderr)
	assert.Contains(t, stdout, "verdict: PASS")

	// An existing prompt is not replaced without --write.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "prompts", "nova-lite.optimized.txt"), []byte("mine {{transcript}}"), 0o644))
	code, stdout, _ = invoke(t, context.Background(), "optimize", "--config", config, "--progress", "off")
	require.Equal(t, ExitPass, code)
	assert.Contains(t, stdout, "prompt not written: "+filepath.Join(dir, "prompts", "nova-lite.optimized.system.txt")+" exists; rerun with --write to replace it")
	kept, err := os.ReadFile(filepath.Join(dir, "prompts", "nova-lite.optimized.txt"))
	require.NoError(t, err)
	assert.Equal(t, "mine {{transcript}}", string(kept))

	code, stdout, _ = invoke(t, context.Background(), "optimize", "--config", config, "--progress", "off", "--write")
	require.Equal(t, ExitPass, code)
	assert.Contains(t, stdout, "wrote "+filepath.Join(dir, "prompts", "nova-lite.optimized.txt"))
}

func TestOptimizeDryRunCallsNothing(t *testing.T) {
	t.Parallel()
	config := optimizeExample(t)
	code, stdout, stderr := invoke(t, context.Background(), "optimize", "--config", config, "--dry-run", "--split", "0.25", "--seed", "3")
	require.Equal(t, ExitPass, code, stderr)
	assert.Contains(t, stdout, "split: 6 dev / 18 held-out samples (fraction 0.25, seed 3)")
	assert.Contains(t, stdout, "dev: (3 candidates + control) x 6 samples x 1 repeats = 24 calls")
	assert.Contains(t, stdout, "held-out: winner vs source x 18 samples = 18 calls")
	assert.Contains(t, stdout, "estimated cost of target calls: at most $")
	assert.Contains(t, stdout, "estimated cost of the metaprompt rewrite: at most $")
	assert.Contains(t, stdout, "dry run: nothing was called")
	assert.NoDirExists(t, filepath.Join(filepath.Dir(config), ".evalgate"))
}

func TestOptimizeOutcomes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		edit     func(t *testing.T, config string)
		args     []string
		code     int
		stdout   string
		stderr   string
		noPrompt bool
	}{
		{
			name: "winner fails the held-out gate",
			edit: func(t *testing.T, config string) {
				editConfig(t, config, "  - {metric: f1, max_drop: 0.05}", "  - {metric: f1, min: 0.999, mode: non_inferiority}")
			},
			// Not shown to be above the floor in non_inferiority mode: not a pass.
			code: ExitRegressed, stdout: "prompt not written: the winner did not pass the held-out gate", stderr: "held-out verdict inconclusive: not shown to be within the margin: f1", noPrompt: true,
		},
		{
			name: "budget", args: []string{"--budget", "0.0002"},
			code: ExitIncomplete, stderr: "budget reached", noPrompt: true,
		},
		{
			name: "every optimize call throttled",
			edit: func(t *testing.T, config string) {
				dir := filepath.Dir(config)
				require.NoError(t, os.WriteFile(filepath.Join(dir, "throttled.sh"),
					[]byte("#!/bin/sh\ncat >/dev/null\necho '{\"error\":{\"kind\":\"throttled\",\"message\":\"rate exceeded\"}}'\n"), 0o755))
				editConfig(t, config, "    rules: true ", "    rules: false ")
				editConfig(t, config, "    files: [prompts/variants] ", "    files: [] ")
				editConfig(t, config, "      provider: bedrock\n", "      provider: command\n      command: [./throttled.sh]\n")
				editConfig(t, config, "      region: us-east-1\n      cassette: cassettes/metaprompt.jsonl\n", "")
				// Throttling is retried for run.retry_throttled_for whatever
				// run.retries says; a millisecond spends it on the first call.
				editConfig(t, config, "run:\n", "run:\n  retries: 0\n  retry_throttled_for: 1ms\n")
			},
			code: ExitProvider, stderr: "no candidate to evaluate (metaprompt: metaprompt rewrite with us.anthropic.claude-3-5-haiku-20241022-v1:0: still throttled after 1ms of retries (run.retry_throttled_for): command: throttled", noPrompt: true,
		},
		{
			name: "a pairwise metric is said to be left out",
			edit: func(t *testing.T, config string) {
				editConfig(t, config, "  - {name: concise, type: length, max: 200}\n",
					"  - {name: concise, type: length, max: 200}\n  - {name: preference, type: pairwise, judge: {provider: command, command: [./never.sh], model: judge}}\n")
			},
			code: ExitPass, stderr: "pairwise metric preference is not judged by optimize",
		},
		{
			name: "source prompt without placeholders",
			edit: func(t *testing.T, config string) {
				csv := filepath.Join(filepath.Dir(config), "prompts", "source_prompts.csv")
				require.NoError(t, os.WriteFile(csv, []byte("\xef\xbb\xbfuse_case,model_family,prompt\ncall-summary,claude-v2,Summarize the call.\n"), 0o644))
			},
			code: ExitUsage, stderr: "line 2: the source prompt has no placeholders", noPrompt: true,
		},
		{
			name: "source placeholder the data cannot fill",
			edit: func(t *testing.T, config string) {
				editConfig(t, config, "    family: claude-v2", "    family: claude-v2\n    placeholders: {TRANSCRIPT: notes}")
			},
			code: ExitUsage, stderr: `optimize.source.placeholders.TRANSCRIPT: "notes" is not a column every sample has (columns: answer_ground_truth,`, noPrompt: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			config := optimizeExample(t)
			if tc.edit != nil {
				tc.edit(t, config)
			}
			args := append([]string{"optimize", "--config", config, "--progress", "off"}, tc.args...)
			code, stdout, stderr := invoke(t, context.Background(), args...)
			assert.Equal(t, tc.code, code, "stdout: %s\nstderr: %s", stdout, stderr)
			assert.Contains(t, stdout, tc.stdout)
			assert.Contains(t, stderr, tc.stderr)
			if tc.noPrompt {
				assert.NoFileExists(t, filepath.Join(filepath.Dir(config), "prompts", "nova-lite.optimized.txt"))
			}
		})
	}
}

func TestOptimizeNeedsItsSection(t *testing.T) {
	t.Parallel()
	dir := copyExample(t)
	code, _, stderr := invoke(t, context.Background(), "optimize", "--config", filepath.Join(dir, "evalgate.yaml"))
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, stderr, "has no optimize section; add one")
}

// TestOptimizeWithBedrockPromptOptimization runs the bedrock generator with
// the real SDK client against a fake OptimizePrompt, and the candidates on a
// stand-in target model.
func TestOptimizeWithBedrockPromptOptimization(t *testing.T) {
	fakeAWSEnv(t)
	var bodies []bedrockfake.OptimizeRequest
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/bo"+bedrockfake.OptimizePath {
			bedrockfake.WriteError(w, http.StatusNotFound, "UnknownOperationException", r.URL.Path)
			return
		}
		body, err := bedrockfake.DecodeOptimizeRequest(r)
		if err != nil {
			bedrockfake.WriteError(w, http.StatusBadRequest, "SerializationException", err.Error())
			return
		}
		bodies = append(bodies, body)
		bedrockfake.StartStream(w)
		for _, ev := range bedrockfake.OptimizeEvents([]string{"The prompt ends with a turn marker."},
			"## Call\n{{transcript}}\n\n## Task\nOne sentence for the ticket log: the issue, then how it was resolved.") {
			_ = bedrockfake.WriteEvent(w, ev)
		}
	}))
	defer srv.Close()

	config := optimizeExample(t)
	// The stand-in target model answers with the reference.
	require.NoError(t, os.WriteFile(filepath.Join(filepath.Dir(config), "model.sh"), []byte("#!/bin/sh\n"+
		`ref=$(sed -n 's/.*"answer_ground_truth":"\([^"]*\)".*/\1/p'); printf '{"text":"%s","usage":{"input_tokens":90,"output_tokens":20},"latency_ms":300}' "$ref"`+"\n"), 0o755))
	editConfig(t, config, "    provider: bedrock                 # the target model; its prompt is what optimize finds\n", "    provider: command\n    command: [./model.sh]\n")
	editConfig(t, config, "    region: us-east-1\n    params", "    params")
	editConfig(t, config, "    cassette: cassettes/nova-lite.jsonl   # replayed offline; see recording/record.yaml\n", "")
	editConfig(t, config, "    rules: true ", "    rules: false ")
	editConfig(t, config, "    files: [prompts/variants] ", "    files: [] ")
	editConfig(t, config, "    metaprompt:                       # a model rewrites the prompt for Nova\n      provider: bedrock\n      model: us.anthropic.claude-3-5-haiku-20241022-v1:0\n      region: us-east-1\n      cassette: cassettes/metaprompt.jsonl\n",
		"    bedrock: {region: us-east-1, endpoint: '"+srv.URL+"/bo', cassette: cassettes/bedrock.jsonl}\n")

	code, stdout, stderr := invoke(t, context.Background(), "optimize", "--config", config, "--progress", "off", "--record")
	require.Equal(t, ExitPass, code, "stdout: %s\nstderr: %s", stdout, stderr)
	assert.Contains(t, stdout, "winner: bedrock")
	require.Len(t, bodies, 1)

	// The cassette replays the optimization offline: the service is not called again.
	srv.Close()
	code, stdout, stderr = invoke(t, context.Background(), "optimize", "--config", config, "--progress", "off", "--write")
	require.Equal(t, ExitPass, code, "stdout: %s\nstderr: %s", stdout, stderr)
	assert.Contains(t, stdout, "winner: bedrock")
	require.Len(t, bodies, 1)
	assert.Equal(t, "us.amazon.nova-lite-v1:0", bodies[0].TargetModelID)
	assert.Contains(t, bodies[0].Input.TextPrompt.Text, "<transcript>\n{{transcript}}\n</transcript>", "the source prompt, placeholders in Bedrock's {{variable}} syntax")
	md, err := os.ReadFile(filepath.Join(filepath.Dir(config), ".evalgate", "optimize", "report.md"))
	require.NoError(t, err)
	assert.Contains(t, string(md), "analysis\\: The prompt ends with a turn marker.")
}

// TestOptimizeDevCallsTheServiceFailed: calls of a candidate that the model
// service keeps throttling are not that candidate's score. As in `evalgate
// run`, they leave the dev part incomplete (exit 4), or, when the service
// fails call after call, stop it as a provider failure (exit 3); either way
// the dev results are kept and no prompt is written.
func TestOptimizeDevCallsTheServiceFailed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, when string
		code       int
		stderr     string
		// throttled bounds the throttled records kept: calls in flight
		// when a run stops still finish, so a stopped part holds ten or a
		// few more.
		throttled [2]int
	}{
		{
			name: "every call of a candidate", when: `*"in a few words"*`, code: ExitProvider, throttled: [2]int{10, 12},
			stderr: "evalgate optimize: optimize: dev part: model service unavailable: the service of target file-terse failed 10 calls in a row after their retries (last: still throttled after 1ms of retries (run.retry_throttled_for): command: throttled",
		},
		{
			name: "a candidate's calls on one product", when: `*"in a few words"*'"product":"router"'*`, code: ExitIncomplete, throttled: [2]int{3, 3},
			stderr: "evalgate optimize: optimize: dev part: the run is incomplete: 3 of 48 calls could not be evaluated: the model service failed",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			config := optimizeExample(t)
			dir := filepath.Dir(config)
			// The stand-in target model answers with the reference, except
			// that the service throttles the calls that match tc.when.
			require.NoError(t, os.WriteFile(filepath.Join(dir, "model.sh"), []byte("#!/bin/sh\nreq=$(cat)\n"+
				`case "$req" in `+tc.when+`) echo '{"error":{"kind":"throttled","message":"rate exceeded"}}'; exit 0;; esac`+"\n"+
				`ref=$(printf '%s' "$req" | sed -n 's/.*"answer_ground_truth":"\([^"]*\)".*/\1/p'); printf '{"text":"%s","usage":{"input_tokens":90,"output_tokens":20},"latency_ms":300}' "$ref"`+"\n"), 0o755))
			editConfig(t, config, "    provider: bedrock                 # the target model; its prompt is what optimize finds\n", "    provider: command\n    command: [./model.sh]\n")
			editConfig(t, config, "    region: us-east-1\n    params", "    params")
			editConfig(t, config, "    cassette: cassettes/nova-lite.jsonl   # replayed offline; see recording/record.yaml\n", "")
			editConfig(t, config, "run:\n", "run:\n  retry_throttled_for: 1ms\n")

			code, stdout, stderr := invoke(t, context.Background(), "optimize", "--config", config, "--progress", "off")
			assert.Equal(t, tc.code, code, "stdout: %s\nstderr: %s", stdout, stderr)
			assert.Contains(t, stderr, tc.stderr)
			assert.NotContains(t, stdout, "winner:")
			assert.NoFileExists(t, filepath.Join(dir, "prompts", "nova-lite.optimized.txt"))
			_, recs, _, err := results.ReadAll(filepath.Join(dir, ".evalgate", "optimize", "dev.results.jsonl"))
			require.NoError(t, err)
			throttled := 0
			for _, r := range recs {
				if r.Error != nil {
					assert.Equal(t, "file-terse", r.Target)
					assert.Equal(t, "throttled", r.Error.Kind)
					throttled++
				}
			}
			assert.GreaterOrEqual(t, throttled, tc.throttled[0], "the records already made are kept")
			assert.LessOrEqual(t, throttled, tc.throttled[1])
			assert.FileExists(t, filepath.Join(dir, ".evalgate", "optimize", "report.json"))
		})
	}
}
