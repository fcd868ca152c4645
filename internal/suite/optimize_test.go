package suite

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const optimizeBase = `version: 1
name: t
dataset: {path: data.jsonl}
prompts:
  p: {user: "Q: {{question}}"}
targets:
  - {id: source, provider: recorded, model: m}
  - {id: app, provider: bedrock, model: m, prompt: p}
metrics: [f1]
`

func TestLoadOptimize(t *testing.T) {
	t.Parallel()
	path := writeSuite(t, optimizeBase+`optimize:
  target: app
  source: {csv: prompts.csv, fields: {family: model_family}, use_case: qa, family: gpt, placeholders: {QUESTION: question}}
  generators: {rules: true, files: [v.txt], metaprompt: {provider: command, command: [./m.sh], model: rw}, bedrock: {region: us-west-2}}
  split: 0.3
  seed: 9
  objective: {metric: f1, tolerance: 0.02, weights: {f1: 1, cost_per_1k: -0.5}}
  baseline: source
  budget_usd: 3
`, map[string]string{"prompts.csv": "use_case,model_family,prompt\n", "v.txt": "{{question}}"})
	s, err := load(path, testMetrics)
	require.NoError(t, err)
	o := s.Config.Optimize
	require.NotNil(t, o)
	assert.Equal(t, "app", o.Target)
	assert.Equal(t, map[string]string{"QUESTION": "question"}, o.Source.Placeholders)
	assert.True(t, o.Generators.Rules)
	assert.Equal(t, []string{"./m.sh"}, o.Generators.Metaprompt.Command)
	assert.Equal(t, "us-west-2", o.Generators.Bedrock.Region)
	assert.Equal(t, int64(9), *o.Seed)
	assert.Equal(t, -0.5, o.Objective.Weights["cost_per_1k"])
}

func TestLoadOptimizeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, section string
		want          []string
	}{
		{"unknown target", "optimize: {target: ap, generators: {rules: true}}",
			[]string{"evalgate.yaml:10:20: optimize.target 'ap' is not a target id, did you mean 'app'?"}},
		{"recorded target", "optimize: {target: source, generators: {rules: true}}",
			[]string{"evalgate.yaml:10:20: optimize.target 'source' is a recorded target: it replays logged answers and cannot try a new prompt; name a target that calls a model"}},
		{"no generator", "optimize: {target: app, generators: {}}",
			[]string{"evalgate.yaml:10:37: optimize.generators: turn on at least one of rules, files, metaprompt, bedrock"}},
		{"split out of range", "optimize: {target: app, split: 1.5, generators: {rules: true}}",
			[]string{"evalgate.yaml:10:32: optimize.split is the dev fraction, between 0 and 1 (e.g. 0.5), got 1.5"}},
		{"unknown objective metric", "optimize: {target: app, objective: {metric: f2}, generators: {rules: true}}",
			[]string{"evalgate.yaml:10:45: optimize.objective.metric 'f2' is not a metric of this suite, did you mean 'f1'?"}},
		{"missing variant file", "optimize: {target: app, generators: {files: [nope.txt]}}",
			[]string{"does not exist (relative paths start at the directory of the suite)"}},
		{"source twice", "optimize: {target: app, source: {prompt: p, csv: x.csv}, generators: {rules: true}}",
			[]string{"evalgate.yaml:10:50: optimize.source: give prompt or csv, not both"}},
		{"metaprompt without provider", "optimize: {target: app, generators: {metaprompt: {model: m}}}",
			[]string{"missing required key 'provider' in optimize.generators.metaprompt; one of bedrock, command, openai, recorded"}},
		{"baseline is the target", "optimize: {target: app, baseline: app, generators: {rules: true}}",
			[]string{"evalgate.yaml:10:35: optimize.baseline and optimize.target are both 'app'; the winner is gated against another target or 'control'"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := loadErrors(t, optimizeBase+tc.section+"\n", nil)
			require.Len(t, got, len(tc.want), "%q", got)
			for i := range tc.want {
				assert.Contains(t, got[i], tc.want[i])
			}
		})
	}
}

// The optimize section's files are held to the same root as the rest of the
// suite (issue 10, item 16): a source CSV, a variant and the output outside
// the work tree are refused before anything is read.
func TestOptimizeFilesOutsideTheRootAreRefused(t *testing.T) {
	t.Parallel()
	outside := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(outside, "prompts.csv"), []byte("use_case,prompt\nqa,{{question}}\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(outside, "v.txt"), []byte("{{question}}"), 0o644))
	path := writeSuite(t, optimizeBase+fmt.Sprintf(`optimize:
  target: app
  source: {csv: %s, use_case: qa}
  generators: {files: [%s]}
  output: ../winner.txt
`, filepath.Join(outside, "prompts.csv"), filepath.Join(outside, "v.txt")), nil)
	dir := filepath.Dir(path)
	_, err := loadWith(context.Background(), path, testMetrics, LoadOptions{Root: dir, RootName: "the work tree", Hint: "; or pass --allow-outside"})
	require.Error(t, err)
	for _, want := range []string{"optimize.source.csv", "optimize.generators.files[0]", "optimize.output"} {
		assert.Contains(t, err.Error(), want+" ")
	}
	assert.Contains(t, err.Error(), "outside the work tree")
	// Without a root they load.
	_, err = loadWith(context.Background(), path, testMetrics, LoadOptions{})
	require.NoError(t, err)
}
