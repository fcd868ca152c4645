package suite

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Issue 10 item 2: .nan and .inf are rejected wherever the config takes a
// number, with the file, line and key; before, they passed decoding and
// failed later as "hash suite: json: unsupported value: NaN".
func TestLoadRejectsNonFiniteNumbers(t *testing.T) {
	t.Parallel()
	got := loadErrors(t, `version: 1
name: t
dataset: {path: data.jsonl}
targets:
  - {id: a, provider: bedrock, model: m, params: {temperature: .nan}, pricing: {input_per_mtok: .inf, output_per_mtok: 1}}
metrics:
  - f1
  - {name: tag, type: regex, pattern: x, weights: [1, -.inf]}
criteria:
  - {metric: f1, min: .NaN}
  - {metric: f1, max_drop: .nan}
  - {metric: error_rate, max_error_rate: .nan}
gate:
  confidence: .nan
  agreement: [{judge: f1, human: tag, threshold: -.Inf}]
run:
  budget_usd: .inf
`, nil)
	assert.Equal(t, []string{
		"evalgate.yaml:5:64: targets[0].params.temperature: expected a finite number, got '.nan'",
		"evalgate.yaml:5:97: targets[0].pricing.input_per_mtok: expected a finite number, got '.inf'",
		"evalgate.yaml:8:51: metrics[1].weights: expected a finite number, got a list",
		"evalgate.yaml:10:23: criteria[0].min: expected a finite number, got '.NaN'",
		"evalgate.yaml:11:28: criteria[1].max_drop: expected a finite number, got '.nan'",
		"evalgate.yaml:12:42: criteria[2].max_error_rate: expected a finite number, got '.nan'",
		"evalgate.yaml:14:15: gate.confidence: expected a finite number, got '.nan'",
		"evalgate.yaml:15:50: gate.agreement[0].threshold: expected a finite number, got '-.Inf'",
		"evalgate.yaml:17:15: run.budget_usd: expected a finite number, got '.inf'",
	}, got)
}

// Issue 10 item 8: a named pipe or a device given as the config, the
// dataset or a prompt file is an error naming it, instead of a run that waits
// forever for a writer or reads /dev/zero without end.
func TestLoadRefusesFilesThatAreNotRegular(t *testing.T) {
	t.Parallel()
	const config = `version: 1
name: t
dataset: {path: %s, format: jsonl}
prompts: {p: {user_file: %s}}
targets: [{id: a, provider: bedrock, model: m, prompt: p}]
metrics: [f1]
`
	path := writeSuite(t, fmt.Sprintf(config, "pipe.jsonl", "prompt.txt"), map[string]string{"prompt.txt": "{{question}}"})
	dir := filepath.Dir(path)
	require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "pipe.jsonl"), 0o644))
	require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "prompt-pipe.txt"), 0o644))
	_, err := load(path, testMetrics)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "evalgate.yaml:3:17: dataset.path: "+filepath.Join(dir, "pipe.jsonl")+" is a named pipe (FIFO), not a regular file")

	require.NoError(t, os.WriteFile(path, []byte(fmt.Sprintf(config, "/dev/zero", "prompt-pipe.txt")), 0o644))
	_, err = load(path, testMetrics)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "evalgate.yaml:3:17: dataset.path: /dev/zero is a device, not a regular file")
	assert.Contains(t, err.Error(), "evalgate.yaml:4:26: prompts.p.user_file: "+filepath.Join(dir, "prompt-pipe.txt")+" is a named pipe (FIFO)")

	_, err = load(filepath.Join(dir, "prompt-pipe.txt"), testMetrics)
	require.ErrorContains(t, err, "read config: "+filepath.Join(dir, "prompt-pipe.txt")+" is a named pipe (FIFO)")

	// A dataset replaced by a pipe after loading is refused when opened.
	require.NoError(t, os.WriteFile(path, []byte(fmt.Sprintf(config, "data.jsonl", "prompt.txt")), 0o644))
	s, err := load(path, testMetrics)
	require.NoError(t, err)
	require.NoError(t, os.Remove(s.DatasetPath))
	require.NoError(t, syscall.Mkfifo(s.DatasetPath, 0o644))
	_, err = OpenDataset(s)
	require.ErrorContains(t, err, "is a named pipe (FIFO), not a regular file")
}

// mergeBomb is a config of a few hundred bytes whose merge keys expand to
// 10^levels mappings.
func mergeBomb(levels int) string {
	var b strings.Builder
	b.WriteString("version: 1\nname: t\ndataset: {path: data.jsonl}\nprompts:\n  p0: &p0 {user: x}\n")
	for i := 1; i <= levels; i++ {
		refs := strings.Repeat(fmt.Sprintf("*p%d, ", i-1), 10)
		fmt.Fprintf(&b, "  p%d: &p%d {<<: [%s]}\n", i, i, strings.TrimSuffix(refs, ", "))
	}
	b.WriteString("targets: [{id: a, provider: bedrock, model: m, prompt: p0}]\nmetrics: [f1]\n")
	return b.String()
}

// Issue 10 item 7: nested merge keys and aliases are bounded like the YAML
// library bounds plain aliases: the bomb is an error at once, with its line,
// not minutes of work.
func TestLoadBoundsAliasExpansion(t *testing.T) {
	t.Parallel()
	bomb := mergeBomb(11)
	require.Less(t, len(bomb), 1200)
	got := loadErrors(t, bomb, nil)
	require.Len(t, got, 1, "only the bomb is reported, not the fragments it left")
	assert.Regexp(t, `^evalgate.yaml:\d+:\d+: aliases and merge keys \(<<\) expand this file to too many values`, got[0])

	// Plain aliases of lists of aliases ("billion laughs") in a metric's
	// options are bounded by the YAML library.
	laughs := "[&l0 [x, x, x, x, x, x, x, x, x, x]"
	for i := 1; i <= 9; i++ {
		laughs += fmt.Sprintf(", &l%d [%s]", i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*l%d, ", i-1), 10), ", "))
	}
	got = loadErrors(t, "version: 1\nname: t\ndataset: {path: data.jsonl}\ntargets: [{id: a, provider: bedrock, model: m}]\n"+
		"metrics: [{name: m, type: regex, pattern: "+laughs+"]}]\n", nil)
	assert.Contains(t, strings.Join(got, "\n"), "excessive aliasing")

	// A config that merges a few times stays well within the bound.
	s, err := load(writeSuite(t, mergeBomb(2), nil), testMetrics)
	require.NoError(t, err)
	assert.Equal(t, "x", s.Config.Prompts["p2"].User)
}

// Issue 10 item 16: with a root, every file the suite names must resolve
// inside it, symlinks followed; without one, files may be anywhere.
func TestLoadRefusesFilesOutsideTheRoot(t *testing.T) {
	t.Parallel()
	outside := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(outside, "secret.txt"), []byte("root:x:0:0"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(outside, "data.jsonl"), []byte(testData), 0o644))
	config := `version: 1
name: t
dataset: {path: %s}
prompts: {p: {user_file: linked/secret.txt}}
targets: [{id: a, provider: bedrock, model: m, prompt: p, cassette: ../cassette.jsonl}]
metrics: [f1, {name: r, type: regex, pattern: x, rubric_file: /etc/passwd}]
gate: {baseline: %s}
run: {results: out/../../results.jsonl}
`
	path := writeSuite(t, fmt.Sprintf(config, filepath.Join(outside, "data.jsonl"), "../base.jsonl"), nil)
	dir := filepath.Dir(path)
	require.NoError(t, os.Symlink(outside, filepath.Join(dir, "linked")))
	opts := LoadOptions{Root: dir, RootName: "the work tree", Hint: "; or pass --allow-outside"}
	testOptions := map[string][]string{"f1": nil, "regex": {"pattern", "rubric_file"}}
	cat := testMetrics
	cat.optionKeys = func(typ string) []string { return testOptions[typ] }

	_, err := loadWith(context.Background(), path, cat, opts)
	require.Error(t, err)
	parent := filepath.Dir(dir)
	msg := strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), "")
	want := []string{
		"evalgate.yaml:3:17: dataset.path " + filepath.Join(outside, "data.jsonl") + " resolves to " + filepath.Join(outside, "data.jsonl") + ", outside the work tree (" + dir + "); or pass --allow-outside",
		"evalgate.yaml:4:26: prompts.p.user_file linked/secret.txt resolves to " + filepath.Join(outside, "secret.txt") + ", outside the work tree",
		"evalgate.yaml:5:69: targets[0].cassette ../cassette.jsonl resolves to " + filepath.Join(parent, "cassette.jsonl") + ", outside",
		"evalgate.yaml:6:63: metrics[1].rubric_file /etc/passwd resolves to /etc/passwd, outside",
		"evalgate.yaml:7:18: gate.baseline ../base.jsonl resolves to " + filepath.Join(parent, "base.jsonl") + ", outside",
		"evalgate.yaml:8:16: run.results out/../../results.jsonl resolves to " + filepath.Join(parent, "results.jsonl") + ", outside",
	}
	lines := strings.Split(msg, "\n")
	require.Len(t, lines, len(want), msg)
	for i, w := range want {
		assert.Contains(t, lines[i], w)
	}

	// Without a root the same files are read (the prompt through the link).
	_, err = loadWith(context.Background(), path, cat, LoadOptions{})
	require.NoError(t, err)

	// Files inside the root, through links that stay inside, are fine, and a
	// root reached through a symlink is the same root.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "secret.txt"), []byte("{{question}}"), 0o644))
	require.NoError(t, os.Symlink(dir, filepath.Join(outside, "root-link")))
	inside := fmt.Sprintf(strings.NewReplacer("linked/", "", "../cassette", "cassettes/new", "/etc/passwd", "secret.txt", "out/../..", "new/dir").Replace(config), "data.jsonl", "base.jsonl")
	require.NoError(t, os.WriteFile(path, []byte(inside), 0o644))
	_, err = loadWith(context.Background(), path, cat, LoadOptions{Root: filepath.Join(outside, "root-link")})
	require.NoError(t, err)
}

// Issue 10 item 7: loading stops when its context ends (a signal).
func TestLoadStopsWhenCancelled(t *testing.T) {
	t.Parallel()
	path := writeSuite(t, "version: 1\nname: t\ndataset: {path: data.jsonl}\ntargets: [{id: a, provider: bedrock, model: m}]\nmetrics: [f1]\n", nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := LoadContext(ctx, path, LoadOptions{})
	require.ErrorIs(t, err, context.Canceled)
}

// Issue 10 item 8: a cassette or a metric's file that is a pipe is refused
// when the suite loads, before a provider or a metric would open it; one
// that does not exist yet is left to them (a cassette is made by --record).
func TestLoadRefusesPipesAsCassettesAndMetricFiles(t *testing.T) {
	t.Parallel()
	path := writeSuite(t, `version: 1
name: t
dataset: {path: data.jsonl}
targets: [{id: a, provider: bedrock, model: m, cassette: tape.jsonl}, {id: b, provider: bedrock, model: m, cassette: new.jsonl}]
metrics: [{name: r, type: regex, pattern: x, rubric_file: rubric.txt}]
`, nil)
	dir := filepath.Dir(path)
	require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "tape.jsonl"), 0o644))
	require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "rubric.txt"), 0o644))
	cat := testMetrics
	cat.optionKeys = func(string) []string { return []string{"pattern", "rubric_file"} }
	_, err := loadWith(context.Background(), path, cat, LoadOptions{})
	require.Error(t, err)
	assert.Equal(t, []string{
		"evalgate.yaml:4:58: targets[0].cassette: tape.jsonl is a named pipe (FIFO), not a regular file; save the content to a file and name that",
		"evalgate.yaml:5:59: metrics[0].rubric_file: rubric.txt is a named pipe (FIFO), not a regular file; save the content to a file and name that",
	}, strings.Split(strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), ""), "\n"))
}

// The default results path is checked too: its .evalgate directory may be a
// link out of the root.
func TestLoadRefusesDefaultResultsThroughALink(t *testing.T) {
	t.Parallel()
	path := writeSuite(t, "version: 1\nname: t\ndataset: {path: data.jsonl}\ntargets: [{id: a, provider: bedrock, model: m}]\nmetrics: [f1]\n", nil)
	dir, outside := filepath.Dir(path), t.TempDir()
	require.NoError(t, os.Symlink(outside, filepath.Join(dir, ".evalgate")))
	_, err := loadWith(context.Background(), path, testMetrics, LoadOptions{Root: dir})
	require.ErrorContains(t, err, "run.results .evalgate/results.jsonl resolves to "+filepath.Join(outside, "results.jsonl")+", outside")
	_, err = loadWith(context.Background(), path, testMetrics, LoadOptions{})
	require.NoError(t, err)
}
