package suite

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testMetrics is a fixed catalog so that these tests do not depend on which
// metrics the metric package has.
var testMetrics = metricCatalog{
	known: func(typ string) bool { _, ok := testOptions[typ]; return ok },
	types: func() []string {
		var out []string
		for k := range testOptions {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	},
	optionKeys: func(typ string) []string { return testOptions[typ] },
}

var testOptions = map[string][]string{
	"f1": nil, "exact_match": nil, "rouge_l": nil,
	"regex": {"pattern"}, "icontains": {"value"}, "imported": {"field"},
}

const testData = `{"sample_id": "1", "question": "q?", "answer_ground_truth": "a"}` + "\n"

// writeSuite writes evalgate.yaml and the given files into a fresh directory
// (data.jsonl by default) and returns the config's path.
func writeSuite(t *testing.T, config string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if files == nil {
		files = map[string]string{}
	}
	if _, ok := files["data.jsonl"]; !ok {
		files["data.jsonl"] = testData
	}
	files["evalgate.yaml"] = config
	for name, body := range files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	}
	return filepath.Join(dir, "evalgate.yaml")
}

// loadErrors loads config and returns its error lines with the temporary
// directory removed, so that they read "evalgate.yaml:8:14: ...".
func loadErrors(t *testing.T, config string, files map[string]string) []string {
	t.Helper()
	path := writeSuite(t, config, files)
	_, err := load(path, testMetrics)
	require.Error(t, err)
	var ce ConfigErrors
	require.True(t, errors.As(err, &ce), "want ConfigErrors, got %T: %v", err, err)
	return strings.Split(strings.ReplaceAll(err.Error(), filepath.Dir(path)+string(filepath.Separator), ""), "\n")
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		config string
		files  map[string]string
		want   []string
	}{
		{
			name: "unknown key with suggestion",
			config: `version: 1
name: t
dataset: {path: data.jsonl}
targets:
  - id: a
    provider: bedrock
    model: m
    params: {temprature: 0.2}
metrics: [f1]
`,
			want: []string{"evalgate.yaml:8:14: unknown key 'temprature' in targets[0].params, did you mean 'temperature'?"},
		},
		{
			name: "wrong types",
			config: `version: 1
name: t
dataset: {path: data.jsonl}
targets:
  - {id: a, provider: bedrock, model: m, params: {temperature: abc, max_tokens: 1.5}, stream: maybe}
metrics: [f1]
run:
  concurrency: abc
  timeout: 30
  retries: [1]
`,
			want: []string{
				"evalgate.yaml:5:64: targets[0].params.temperature: expected a number, got 'abc'",
				"evalgate.yaml:5:81: targets[0].params.max_tokens: expected a whole number, got '1.5'",
				"evalgate.yaml:5:95: targets[0].stream: expected true or false, got 'maybe'",
				"evalgate.yaml:8:16: run.concurrency: expected a whole number, got 'abc'",
				`evalgate.yaml:9:12: run.timeout: expected a duration like "30s" or "5m", got '30'`,
				"evalgate.yaml:10:12: run.retries: expected a whole number, got a list",
			},
		},
		{
			name: "missing required keys",
			config: `description: no version, no name
dataset: {format: jsonl}
targets:
  - id: a
    provider: recorded
metrics: [f1]
`,
			want: []string{
				"evalgate.yaml:1:1: missing required key 'version' in the top level; add 'version: 1'",
				"evalgate.yaml:1:1: missing required key 'name' in the top level; name the suite, e.g. 'name: support-answers'",
				"evalgate.yaml:2:10: missing required key 'path' in dataset; give the .jsonl or .csv file",
				"evalgate.yaml:4:5: missing required key 'model' in targets[0]",
			},
		},
		{
			name: "missing sections",
			config: `version: 1
name: t
dataset: {path: data.jsonl}
metric: [f1]
`,
			want: []string{
				"evalgate.yaml:1:1: missing required key 'targets' in the top level",
				"evalgate.yaml:1:1: missing required key 'metrics' in the top level",
				"evalgate.yaml:4:1: unknown key 'metric' in the top level, did you mean 'metrics'?",
			},
		},
		{
			name: "unsupported version",
			config: `version: 2
name: t
dataset: {path: data.jsonl}
targets: [{id: a, provider: recorded, model: m}]
metrics: [f1]
`,
			want: []string{"evalgate.yaml:1:10: version 2 is not supported: this evalgate reads version 1"},
		},
		{
			name: "duplicates",
			config: `version: 1
name: t
dataset: {path: data.jsonl}
targets:
  - {id: a, provider: recorded, model: m}
  - {id: a, provider: recorded, model: m}
metrics: [f1, {name: f1, type: rouge_l}]
name: again
`,
			want: []string{
				"evalgate.yaml:6:10: duplicate target id 'a' (also targets[0]); ids must be unique",
				"evalgate.yaml:7:22: duplicate metric name 'f1' (also metrics[0]); give one of them a different name",
				"evalgate.yaml:8:1: duplicate key 'name' in the top level (first at line 2)",
			},
		},
		{
			name: "undefined references",
			config: `version: 1
name: t
dataset: {path: data.jsonl}
prompts:
  answer: {user: "{{question}}"}
targets:
  - {id: source, provider: recorded, model: m}
  - {id: haiku, provider: bedrock, model: m, prompt: answr}
metrics: [f1]
criteria:
  - {metric: f2, min: 0.5}
  - {metric: latncy_p95, max_increase: 10%}
gate: {baseline: sorce, target: haiku2}
`,
			want: []string{
				"evalgate.yaml:8:54: targets[1]: prompt 'answr' is not defined under prompts, did you mean 'answer'?",
				"evalgate.yaml:11:14: criteria[0]: metric 'f2' is neither declared under metrics nor computed by the gate, did you mean 'f1'?",
				"evalgate.yaml:12:14: criteria[1]: metric 'latncy_p95' is neither declared under metrics nor computed by the gate, did you mean 'latency_p95'?",
				"evalgate.yaml:13:18: gate.baseline 'sorce' is neither a target id nor a results file (.jsonl), did you mean 'source'?",
				"evalgate.yaml:13:33: gate.target 'haiku2' is not a target id, did you mean 'haiku'?",
			},
		},
		{
			name: "unknown provider and metric type",
			config: `version: 1
name: t
dataset: {path: data.jsonl}
targets:
  - {id: a, provider: bedrok, model: m}
metrics:
  - rouge
  - {name: x, type: regx, pattern: a}
  - {name: y, type: regex, patern: a}
`,
			want: []string{
				"evalgate.yaml:5:23: unknown provider 'bedrok' in targets[0], did you mean 'bedrock'? (providers: bedrock, command, openai, recorded)",
				"evalgate.yaml:7:5: unknown metric 'rouge' in metrics[0], did you mean 'rouge_l'? (built-in types: exact_match, f1, icontains, imported, regex, rouge_l)",
				"evalgate.yaml:8:21: unknown metric type 'regx' in metrics[1], did you mean 'regex'? (built-in types: exact_match, f1, icontains, imported, regex, rouge_l)",
				"evalgate.yaml:9:28: unknown option 'patern' for metric type regex in metrics[2], did you mean 'pattern'? (options: pattern)",
			},
		},
		{
			name: "criteria",
			config: `version: 1
name: t
dataset: {path: data.jsonl}
targets: [{id: a, provider: recorded, model: m}]
metrics: [f1]
criteria:
  - {metric: f1}
  - {metric: f1, min: 0.5, max_drop: 0.1}
  - {metric: f1, max_drop: 5 percent}
  - {metric: f1, max_drop: -0.1, mode: regresion, severity: error}
  - {metric: error_rate, max_error_rate: 5}
`,
			want: []string{
				"evalgate.yaml:7:5: criteria[0]: give one of min, max_drop, max_increase or max_error_rate",
				"evalgate.yaml:8:28: criteria[1]: give only one of min, max_drop, max_increase, max_error_rate (found min and max_drop); write one criterion per bound",
				`evalgate.yaml:9:28: criteria[2].max_drop: expected a number (absolute, 0.05) or a percentage (relative, "5%"), got '5 percent'`,
				"evalgate.yaml:10:28: criteria[3].max_drop: a margin cannot be negative, got '-0.1'",
				"evalgate.yaml:10:40: criteria[3].mode must be regression or non_inferiority, got 'regresion', did you mean 'regression'?",
				"evalgate.yaml:10:61: criteria[3].severity must be fail or warn, got 'error'",
				"evalgate.yaml:11:42: criteria[4].max_error_rate is a fraction between 0 and 1, got 5",
			},
		},
		{
			name: "provider specific keys",
			config: `version: 1
name: t
dataset: {path: data.jsonl}
targets:
  - id: a
    provider: bedrock
    model: m
    command: [python, app.py]
    base_url: http://x
  - id: b
    provider: command
    model: m
  - id: c
    provider: recorded
    model: m
    fields: {outptu: answer}
    stream: true
metrics: [f1]
`,
			want: []string{
				"evalgate.yaml:8:5: key 'command' does not apply to a bedrock target (it is for command); remove it or change the provider",
				"evalgate.yaml:9:5: key 'base_url' does not apply to a bedrock target (it is for openai); remove it or change the provider",
				"evalgate.yaml:10:5: targets[1]: a command target needs 'command', the program and its arguments as a list, e.g. [python, app.py]",
				"evalgate.yaml:16:14: unknown recorded field 'outptu' in targets[2].fields, did you mean 'output'? (roles: output, latency, input_tokens, output_tokens, prompt, temperature, top_p, top_k)",
				"evalgate.yaml:17:5: key 'stream' does not apply to a recorded target (it is for bedrock, openai); remove it or change the provider",
			},
		},
		{
			name:   "yaml syntax",
			config: "version: 1\nname: [t\n",
			want:   []string{"evalgate.yaml:1: did not find expected ',' or ']'"},
		},
		{
			name:   "empty file",
			config: "",
			want:   []string{"evalgate.yaml: the file is empty; start it with 'version: 1'"},
		},
		{
			name: "files",
			config: `version: 1
name: t
dataset: {path: missing.jsonl}
prompts:
  a: prompts/a.txt
  b: {user: "{{ question "}
  c: {user_file: nope.txt}
  d: {system: x, system_file: y}
  e: {system: x}
targets: [{id: a, provider: recorded, model: m}]
metrics: [f1]
`,
			files: map[string]string{"prompts/a.txt": "Line one\nAnswer {{ bad field }} now\n"},
			want: []string{
				"evalgate.yaml:3:17: dataset file missing.jsonl does not exist (relative paths start at the directory of evalgate.yaml)",
				"evalgate.yaml:6:13: prompts.b.user line 1 column 1: placeholder '{{' is not closed with '}}'; write {{{{ for a literal {{",
				"evalgate.yaml:7:18: prompt file nope.txt does not exist (relative paths start at the directory of evalgate.yaml)",
				"evalgate.yaml:8:31: prompts.d: give system or system_file, not both",
				"evalgate.yaml:9:6: prompts.e: missing the user part; add 'user:' (text) or 'user_file:' (a file)",
				"prompts/a.txt:2:8: prompt a: placeholder {{ bad field }} is not a field name (letters, digits, '_', '-', '.', starting with a letter or '_'); write {{{{ for a literal {{",
			},
		},
		{
			name: "cache_prompt",
			config: `version: 1
name: t
dataset: {path: data.jsonl}
prompts:
  varies: {system: "{{context}}", user: "{{question}}"}
  shared: {system: "Answer from the policy.", user: "{{question}}"}
targets:
  - {id: a, provider: bedrock, model: m, cache_prompt: true}
  - {id: b, provider: bedrock, model: m, prompt: varies, cache_prompt: true}
  - {id: c, provider: openai, model: m, prompt: shared, cache_prompt: true}
  - {id: d, provider: bedrock, model: m, prompt: shared, cache_prompt: true}
metrics: [f1]
`,
			want: []string{
				"evalgate.yaml:8:56: targets[0].cache_prompt: the target has no prompt, so each call is only the sample's own input and nothing is shared to cache; give it a prompt with a fixed system part, or remove cache_prompt",
				"evalgate.yaml:9:72: targets[1].cache_prompt: prompt 'varies' starts with a placeholder in both its system and user parts, so no prefix is shared between samples; put the fixed text (instructions, a long shared context) first, or remove cache_prompt",
				"evalgate.yaml:10:57: key 'cache_prompt' does not apply to a openai target (it is for bedrock); remove it or change the provider",
			},
		},
		{
			name: "batch",
			config: `version: 1
name: t
dataset: {path: data.jsonl}
targets:
  - {id: a, provider: bedrock, model: m, batch: true}
  - {id: b, provider: bedrock, model: m, batch: true, batch_role_arn: r, batch_s3_uri: s3://b/p, stream: true, batch_min_records: -1}
  - {id: c, provider: bedrock, model: m, batch_s3_uri: s3://b/p}
  - {id: d, provider: openai, model: m, batch: true}
metrics: [f1]
`,
			want: []string{
				"evalgate.yaml:5:49: targets[0].batch_role_arn: a batch target needs the ARN of the IAM service role Bedrock assumes to read and write the job's files (arn:aws:iam::ACCOUNT:role/NAME; see the README's Batch inference section)",
				"evalgate.yaml:5:49: targets[0].batch_s3_uri: a batch target needs the S3 bucket and prefix for the job's input and output (s3://BUCKET/PREFIX, a bucket in the target's region)",
				"evalgate.yaml:6:106: targets[1].stream: a batch job returns whole answers, so time to first token cannot be measured; remove stream or batch",
				"evalgate.yaml:6:131: targets[1].batch_min_records cannot be negative",
				"evalgate.yaml:7:42: targets[2].batch_s3_uri is only used with batch: true; set batch: true to run the target as a Bedrock batch job, or remove it",
				"evalgate.yaml:8:41: key 'batch' does not apply to a openai target (it is for bedrock); remove it or change the provider",
			},
		},
		{
			name: "dataset settings",
			config: `version: 1
name: t
dataset:
  path: data.txt
  fields: {refrence: gt, id: ""}
  limit: -1
targets: [{id: a, provider: recorded, model: m}]
metrics: [f1]
gate: {confidence: 95, mode: strict}
run: {concurrency: 0, repeats: -1}
`,
			files: map[string]string{"data.txt": testData},
			want: []string{
				"evalgate.yaml:4:9: cannot tell the format of data.txt from its extension; name it .jsonl or .csv, or set dataset.format",
				"evalgate.yaml:5:12: unknown field role 'refrence' in dataset.fields, did you mean 'reference'? (roles: id, input, reference, context, cluster)",
				"evalgate.yaml:5:30: dataset.fields.id: name the dataset column, or remove the key to use the default",
				"evalgate.yaml:6:10: dataset.limit must be 0 (all samples) or more, got -1",
				"evalgate.yaml:9:20: gate.confidence is a probability between 0 and 1 (e.g. 0.95), got 95",
				"evalgate.yaml:9:30: gate.mode must be regression or non_inferiority, got 'strict'",
				"evalgate.yaml:10:20: run.concurrency must be at least 1, got 0",
				"evalgate.yaml:10:32: run.repeats must be at least 1, got -1",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := loadErrors(t, tt.config, tt.files)
			// Relative paths inside messages are shown resolved; make them relative too.
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestLoadExample(t *testing.T) {
	t.Parallel()
	s, err := load("testdata/examples/evalgate.yaml", testMetrics)
	require.NoError(t, err)

	assert.Equal(t, "support-answers", s.Config.Name)
	assert.Equal(t, "testdata/examples", s.Dir)
	assert.Equal(t, filepath.Join("testdata", "examples", "data", "support.jsonl"), s.DatasetPath)
	assert.Equal(t, "jsonl", s.DatasetFormat)

	// Shorthands.
	assert.Equal(t, Prompt{UserFile: "prompts/answer.txt"}, s.Config.Prompts["short"])
	assert.Equal(t, MetricConfig{Name: "f1"}, s.Config.Metrics[0])
	assert.Equal(t, MetricConfig{Name: "mentions_refund", Type: "icontains", Options: map[string]any{"value": "refund"}}, s.Config.Metrics[2])
	assert.Equal(t, &Margin{Value: 0.05}, s.Config.Criteria[0].MaxDrop)
	assert.InDelta(t, 0.05, s.Config.Criteria[1].MaxDrop.Value, 1e-12)
	assert.True(t, s.Config.Criteria[1].MaxDrop.Relative)
	assert.Equal(t, &Margin{Relative: true}, s.Config.Criteria[2].MaxIncrease)
	assert.Equal(t, Duration(30*time.Second), s.Config.Targets[1].Timeout)
	require.NotNil(t, s.Config.Targets[1].Params.TopK)
	assert.Equal(t, 50, *s.Config.Targets[1].Params.TopK)
	assert.Equal(t, []string{"\n\nHuman:"}, s.Config.Targets[1].Params.Stop)

	// Metric specs: type filled in, BaseDir set.
	require.Len(t, s.Metrics, 4)
	assert.Equal(t, "f1", s.Metrics[0].Type)
	assert.Equal(t, "regex", s.Metrics[3].Type)
	assert.Equal(t, "[A-Z]{3}-[0-9]+", s.Metrics[3].Options["pattern"])
	assert.Equal(t, s.Dir, s.Metrics[3].BaseDir)

	// Templates, files read.
	require.Contains(t, s.Templates, "answer")
	assert.Equal(t, []string{"context", "question"}, s.Templates["answer"].Fields())
	sys, user := s.Templates["answer"].Text()
	assert.Contains(t, sys, "Acme")
	assert.Contains(t, user, "{{question}}")

	// Effective settings.
	assert.Equal(t, 4, s.Concurrency())
	assert.Equal(t, 2, s.Repeats())
	assert.Equal(t, 45*time.Second, s.Timeout(nil))
	assert.Equal(t, 30*time.Second, s.Timeout(&s.Config.Targets[1]))
	assert.Equal(t, 20*time.Minute, s.Deadline())
	assert.Equal(t, 2, s.Retries())
	assert.Equal(t, filepath.Join("testdata", "examples", ".cache"), s.CacheDir())
	assert.Equal(t, filepath.Join("testdata", "examples", "out", "results.jsonl"), s.ResultsPath())
	assert.Equal(t, "answer_ground_truth", s.Field(RoleReference))
	// Unset modes and severities stay unset: the gate applies its defaults.
	assert.Equal(t, ModeNonInferiority, s.Config.Criteria[1].Mode)
	assert.Empty(t, s.Config.Criteria[0].Mode)
	assert.Equal(t, SeverityWarn, s.Config.Criteria[3].Severity)
	src, ok := s.Target("source")
	require.True(t, ok)
	assert.Equal(t, FieldSourceLatency, s.RecordedField(src, RecordedLatency))
	assert.Len(t, suiteHash(t, s), 64)
	assert.Len(t, s.ConfigHash(), 64)
}

func TestLoadDefaults(t *testing.T) {
	t.Parallel()
	s, err := load("testdata/examples/minimal.yaml", testMetrics)
	require.NoError(t, err)
	assert.Equal(t, "csv", s.DatasetFormat)
	assert.Equal(t, DefaultConcurrency, s.Concurrency())
	assert.Equal(t, DefaultRepeats, s.Repeats())
	assert.Equal(t, DefaultTimeout, s.Timeout(&s.Config.Targets[0]))
	assert.Equal(t, DefaultRetries, s.Retries())
	assert.True(t, s.CacheEnabled())
	assert.Equal(t, filepath.Join("testdata", "examples", DefaultCacheDir), s.CacheDir())
	assert.Equal(t, filepath.Join("testdata", "examples", DefaultResults), s.ResultsPath())
	assert.Equal(t, DefaultDelimiter, s.Delimiter())
	assert.Equal(t, FieldID, s.Field(RoleID))
	assert.Equal(t, FieldQuestion, s.Field(RoleInput))
	assert.Equal(t, "", s.Field(RoleCluster))
	assert.Equal(t, time.Duration(0), s.Deadline())
}

func TestLoadRetriesZero(t *testing.T) {
	t.Parallel()
	path := writeSuite(t, `version: 1
name: t
dataset: {path: data.jsonl}
targets: [{id: a, provider: recorded, model: m}]
metrics: [f1]
run: {retries: 0, cache: false}
gate: {baseline: old/results.jsonl, cluster: doc}
`, nil)
	s, err := load(path, testMetrics)
	require.NoError(t, err)
	assert.Equal(t, 0, s.Retries())
	assert.False(t, s.CacheEnabled())
	assert.Equal(t, "doc", s.Field(RoleCluster))
}

func TestLoadMergeKeys(t *testing.T) {
	t.Parallel()
	path := writeSuite(t, `version: 1
name: t
dataset: {path: data.jsonl}
targets:
  - &base {id: a, provider: bedrock, model: m, params: {temperature: 0}}
  - <<: *base
    id: b
metrics: [f1]
`, nil)
	s, err := load(path, testMetrics)
	require.NoError(t, err)
	require.Len(t, s.Config.Targets, 2)
	assert.Equal(t, "b", s.Config.Targets[1].ID)
	assert.Equal(t, "m", s.Config.Targets[1].Model)
}

func TestHashes(t *testing.T) {
	t.Parallel()
	base := `version: 1
name: t
dataset: {path: data.jsonl}
targets: [{id: a, provider: recorded, model: m}]
metrics: [f1]
`
	loadHashes := func(config, data string) (string, string) {
		s, err := load(writeSuite(t, config, map[string]string{"data.jsonl": data}), testMetrics)
		require.NoError(t, err)
		return suiteHash(t, s), s.ConfigHash()
	}
	h, ch := loadHashes(base, testData)
	h2, ch2 := loadHashes(base, testData)
	assert.Equal(t, h, h2, "the same suite in another directory is comparable")
	assert.Equal(t, ch, ch2)

	h3, ch3 := loadHashes(base+"run: {concurrency: 2}\n", testData)
	assert.Equal(t, h, h3, "run settings do not change what is compared")
	assert.NotEqual(t, ch, ch3)

	h4, _ := loadHashes(base, testData+testData)
	assert.NotEqual(t, h, h4, "the dataset's content is part of the hash")

	h5, _ := loadHashes(strings.Replace(base, "[f1]", "[f1, exact_match]", 1), testData)
	assert.NotEqual(t, h, h5, "metrics are part of the hash")

	h6, _ := loadHashes(strings.Replace(base, "{path: data.jsonl}", "{path: data.jsonl, reference_delimiter: '|'}", 1), testData)
	assert.NotEqual(t, h, h6, "reference settings are part of the hash")
}

func TestLoadRealMetrics(t *testing.T) {
	t.Parallel()
	// The example must load with the metric package's real registry too.
	_, err := Load("testdata/examples/evalgate.yaml")
	require.NoError(t, err)
}

func TestGatedTarget(t *testing.T) {
	t.Parallel()
	ids := []string{"prod", "cand"}
	s := &Suite{}
	got, ok := s.GatedTarget(ids, "prod")
	assert.True(t, ok)
	assert.Equal(t, "cand", got, "the only target that is not the baseline")
	_, ok = s.GatedTarget(ids, "")
	assert.False(t, ok, "two candidates: the suite must name one")
	_, ok = s.GatedTarget(append(ids, "next"), "prod")
	assert.False(t, ok)
	s.Config.Gate.Target = "next"
	got, ok = s.GatedTarget(ids, "prod")
	assert.True(t, ok)
	assert.Equal(t, "next", got, "gate.target wins")
}

// suiteHash is s.Hash, which must not fail in these tests.
func suiteHash(t *testing.T, s *Suite) string {
	t.Helper()
	h, err := s.Hash(context.Background())
	require.NoError(t, err)
	return h
}

// Issue 16, item 6: a read of the dataset to its end (the pre-flight check)
// gives the suite its hash, so a run reads the dataset twice, not three
// times; without one, Hash reads the file; both give the same hash.
func TestDatasetHashComesFromAReadToTheEnd(t *testing.T) {
	t.Parallel()
	config := "version: 1\nname: t\ndataset: {path: data.jsonl}\ntargets: [{id: a, provider: recorded, model: m}]\nmetrics: [f1]\n"
	path := writeSuite(t, config, map[string]string{"data.jsonl": testData})
	fromFile, err := load(path, testMetrics)
	require.NoError(t, err)
	want := suiteHash(t, fromFile)

	s, err := load(path, testMetrics)
	require.NoError(t, err)
	ds, err := OpenDataset(s)
	require.NoError(t, err)
	for {
		if _, err := ds.Next(); err != nil {
			require.ErrorIs(t, err, io.EOF)
			break
		}
	}
	ds.Close()
	// The file is gone: the hash can only come from the read that was made.
	require.NoError(t, os.Remove(s.DatasetPath))
	assert.Equal(t, want, suiteHash(t, s))

	// A read that stopped early (dataset.limit) hashes nothing: Hash reads
	// the file, and fails clearly when it cannot.
	s2, err := load(writeSuite(t, config+"", map[string]string{"data.jsonl": testData}), testMetrics)
	require.NoError(t, err)
	require.NoError(t, os.Remove(s2.DatasetPath))
	_, err = s2.Hash(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "dataset ")
}
