package metric

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// score builds the metric from spec and scores in; construction must succeed.
func score(t *testing.T, spec Spec, in Input) (Score, error) {
	t.Helper()
	m, err := New(spec)
	require.NoError(t, err)
	return m.Score(context.Background(), in)
}

// ref makes an Input with one reference, split as the suite would.
func ref(output, reference string) Input {
	return Input{Output: output, Reference: reference, References: strings.Split(reference, "<OR>")}
}

func TestNewErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		spec Spec
		want string // exact message, or a substring when partial is set
		part bool
	}{
		{"missing option", Spec{Name: "mentions_refund", Type: "icontains"}, `metric "mentions_refund" (icontains): option "value" is required`, false},
		{"empty option", Spec{Name: "x", Type: "contains", Options: map[string]any{"value": ""}}, `metric "x" (contains): option "value" must not be empty`, false},
		{"wrong option type", Spec{Name: "r", Type: "rouge_l", Options: map[string]any{"stemmer": "yes"}}, `metric "r" (rouge_l): option "stemmer" must be true or false, got string`, false},
		{"unknown type with suggestion", Spec{Name: "rouge1"}, `metric "rouge1": unknown type "rouge1" (did you mean "rouge_1"?)`, true},
		{"unknown type without suggestion", Spec{Name: "sentiment"}, `metric "sentiment": unknown type "sentiment"; known types:`, true},
		{"unknown option with suggestion", Spec{Name: "r", Type: "rouge_l", Options: map[string]any{"stemer": true}}, `metric "r" (rouge_l): unknown option "stemer" (did you mean "stemmer"?); allowed: stemmer`, false},
		{"option on a metric without options", Spec{Name: "f1", Options: map[string]any{"normalize": false}}, `metric "f1" (f1): takes no options, got "normalize"`, false},
		{"bad regex", Spec{Name: "no_ssn", Type: "not_regex", Options: map[string]any{"pattern": `\d{3}-(\d{2}`}}, `metric "no_ssn" (not_regex): option "pattern" is not a valid RE2 regular expression`, true},
		{"bad choice", Spec{Name: "b", Type: "bleu", Options: map[string]any{"tokenize": "spm"}}, `metric "b" (bleu): option "tokenize" must be one of`, true},
		{"no name", Spec{}, "metric: no name or type given", false},
		{"length without bounds", Spec{Name: "short", Type: "length"}, `metric "short" (length): option "min" or "max" is required`, false},
		{"imported without scale", Spec{Name: "sme", Type: "imported", Options: map[string]any{"field": "human_score"}}, `options "min" and "max" are required`, true},
		{"imported inverted scale", Spec{Name: "sme", Type: "imported", Options: map[string]any{"field": "h", "min": 5, "max": 1}}, `option "min" (5) must be less than "max" (1)`, true},
		{"json_schema without schema", Spec{Name: "shape", Type: "json_schema"}, `exactly one of options "schema" and "schema_file" is required`, true},
		{"json_schema missing file", Spec{Name: "shape", Type: "json_schema", Options: map[string]any{"schema_file": "nope.json"}, BaseDir: t.TempDir()}, `metric "shape" (json_schema): option "schema_file"`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := New(tt.spec)
			require.Error(t, err)
			if tt.part {
				assert.Contains(t, err.Error(), tt.want)
			} else {
				assert.Equal(t, tt.want, err.Error())
			}
		})
	}
}

func TestRegistryContract(t *testing.T) {
	t.Parallel()
	want := []string{
		"bleu", "contains", "cost_usd", "exact_match", "f1", "icontains", "imported",
		"json_schema", "json_valid", "latency_ms", "length", "levenshtein", "not_contains",
		"not_icontains", "not_regex", "precision", "quasi_exact_match", "recall", "regex",
		"rouge_1", "rouge_2", "rouge_l",
	}
	assert.Equal(t, want, Types())
	assert.Equal(t, []string{"direction", "field", "max", "min", "reasoning_field"}, OptionKeys("imported"))
	assert.Empty(t, OptionKeys("f1"))
	assert.Nil(t, OptionKeys("nope"))
	assert.True(t, Known("bleu"))
	assert.False(t, Known("bert_score"))

	// Minimal valid options per type, so every built-in can be constructed
	// and its Info checked for consistency.
	opts := map[string]map[string]any{
		"contains": {"value": "x"}, "icontains": {"value": "x"}, "not_contains": {"value": "x"}, "not_icontains": {"value": "x"},
		"regex": {"pattern": "x"}, "not_regex": {"pattern": "x"}, "json_schema": {"schema": map[string]any{"type": "object"}},
		"length": {"max": 10}, "imported": {"field": "f", "min": 0, "max": 1},
	}
	for _, typ := range Types() {
		m, err := New(Spec{Name: "my_" + typ, Type: typ, Options: opts[typ]})
		require.NoErrorf(t, err, "type %s", typ)
		info := m.Info()
		assert.Equal(t, "my_"+typ, info.Name, "Info.Name is the suite's name for the metric")
		assert.Less(t, info.Min, info.Max, typ)
		assert.Contains(t, []Direction{HigherIsBetter, LowerIsBetter}, info.Direction, typ)
		if info.PassFail {
			assert.Equal(t, 0.0, info.Min, typ)
			assert.Equal(t, 1.0, info.Max, typ)
		}
	}
}

func TestNeedsReferenceIsAnError(t *testing.T) {
	t.Parallel()
	for _, typ := range Types() {
		// Every reference-based metric can be built without options.
		m, err := New(Spec{Name: typ})
		if err != nil || !m.Info().NeedsReference {
			continue
		}
		t.Run(typ, func(t *testing.T) {
			t.Parallel()
			for _, in := range []Input{{Output: "Paris"}, {Output: "Paris", References: []string{""}}} {
				_, err := m.Score(context.Background(), in)
				require.ErrorIs(t, err, errNoReference, "a missing reference must not score 0")
			}
		})
	}
}

// fmeval's QA accuracy (aws/fmeval qa_accuracy.py; rules restated in
// fmeval_qa_notes.md). Cases are our own, worked out from the definition.
func TestQAAccuracy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name              string
		output, reference string
		em, qem, p, r, f1 float64
	}{
		// Normalisation removes case, punctuation and articles; sets of words.
		{"paraphrase", "Paris is the capital", "the capital of France", 0, 0, 1.0 / 3, 1.0 / 3, 1.0 / 3},
		{"surrounding whitespace only", " Lyon\n", "Lyon", 1, 1, 1, 1, 1},
		{"case and full stop", "lyon.", "Lyon", 0, 1, 1, 1, 1},
		{"superset answer", "Mount Everest in Nepal", "Mount Everest", 0, 0, 0.5, 1, 2.0 / 3},
		// Punctuation is deleted, not split on: "U.S." is the word "us".
		{"acronym", "the U.S.", "US", 0, 1, 1, 1, 1},
		// Each score takes its own best reference (<OR>).
		{"alternatives", "Lyon", "Paris<OR>lyon<OR>Lyon", 1, 1, 1, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for typ, want := range map[string]float64{"exact_match": tt.em, "quasi_exact_match": tt.qem, "precision": tt.p, "recall": tt.r, "f1": tt.f1} {
				s, err := score(t, Spec{Name: typ}, ref(tt.output, tt.reference))
				require.NoError(t, err)
				assert.InDeltaf(t, want, s.Value, 1e-12, "%s", typ)
			}
		})
	}
	assert.Equal(t, "quick brownfox", QANormalize("The  Quick, brown-fox!"))
	p, r, f := QAWordScores("", "Paris", true, true)
	assert.Equal(t, [3]float64{0, 0, 0}, [3]float64{p, r, f}, "nltk's None for an empty set becomes 0")
}

func TestStringChecks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		typ, opt, arg, output string
		want                  float64
	}{
		{"contains", "value", "refund", "We will refund you.", 1},
		{"contains", "value", "Refund", "We will refund you.", 0},
		{"icontains", "value", "REFUND", "We will refund you.", 1},
		{"icontains", "value", "ÉTÉ", "l'été dernier", 1},
		{"not_contains", "value", "sk-", "your key is sk-123", 0},
		{"not_icontains", "value", "SORRY", "Sure, here it is.", 1},
		{"regex", "pattern", `^\d{4}-\d{2}-\d{2}$`, "2024-02-29", 1},
		{"regex", "pattern", `^\d{4}-\d{2}-\d{2}$`, "on 2024-02-29", 0},
		{"not_regex", "pattern", `\b\d{3}-\d{2}-\d{4}\b`, "SSN 123-45-6789", 0},
	}
	for _, tt := range tests {
		t.Run(tt.typ+"/"+tt.output, func(t *testing.T) {
			t.Parallel()
			s, err := score(t, Spec{Name: "check", Type: tt.typ, Options: map[string]any{tt.opt: tt.arg}}, Input{Output: tt.output})
			require.NoError(t, err)
			assert.Equal(t, tt.want, s.Value)
		})
	}
}

func TestJSON(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "answer.schema.json"),
		[]byte(`{"type":"object","required":["id"],"properties":{"id":{"type":"integer"}}}`), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "answer.schema.yaml"),
		[]byte("type: object\nrequired: [id]\nproperties:\n  id: {type: integer}\n"), 0o600))
	inline := map[string]any{"type": "object", "required": []any{"id"}, "properties": map[string]any{"id": map[string]any{"type": "integer", "minimum": 1}}}

	schemas := map[string]Spec{
		"inline": {Name: "shape", Type: "json_schema", Options: map[string]any{"schema": inline}},
		"file":   {Name: "shape", Type: "json_schema", Options: map[string]any{"schema_file": "answer.schema.json"}, BaseDir: dir},
		"yaml":   {Name: "shape", Type: "json_schema", Options: map[string]any{"schema_file": "answer.schema.yaml"}, BaseDir: dir},
	}
	outputs := []struct {
		name, output    string
		valid, conforms float64
	}{
		{"plain", `{"id": 7}`, 1, 1},
		{"fenced", "```json\n{\"id\": 7}\n```", 1, 1},
		{"bare fence", "\n```\n{\"id\": 7}\n```\n", 1, 1},
		{"prose around fence", "Here it is:\n```json\n{\"id\": 7}\n```", 0, 0},
		{"wrong type", `{"id": "7"}`, 1, 0},
		{"missing field", `{}`, 1, 0},
		{"not json", `{id: 7}`, 0, 0},
	}
	for _, o := range outputs {
		s, err := score(t, Spec{Name: "json_valid"}, Input{Output: o.output})
		require.NoError(t, err)
		assert.Equalf(t, o.valid, s.Value, "json_valid %s", o.name)
		for kind, spec := range schemas {
			s, err := score(t, spec, Input{Output: o.output})
			require.NoError(t, err)
			assert.Equalf(t, o.conforms, s.Value, "json_schema %s %s", kind, o.name)
			if s.Value == 0 {
				assert.NotEmpty(t, s.Detail, "a failure says why")
			}
		}
	}
	s, err := score(t, schemas["inline"], Input{Output: `{"id": 0}`})
	require.NoError(t, err)
	assert.Equal(t, 0.0, s.Value)
	assert.Contains(t, s.Detail, "/id")

	_, err = New(Spec{Name: "shape", Type: "json_schema", Options: map[string]any{"schema": map[string]any{"type": 12}}})
	assert.ErrorContains(t, err, `metric "shape" (json_schema): schema does not compile`)
}

// rapidfuzz Levenshtein: distance over code points; normalized similarity is
// 1 - distance/max(len) (rapidfuzz docs, Levenshtein.normalized_similarity).
func TestLevenshtein(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		dist int
		sim  float64
	}{
		{"book", "back", 2, 0.5},
		{"résumé", "resume", 2, 1 - 2.0/6}, // code points, not bytes
		{"", "", 0, 1},
		{"abc", "", 3, 0},
		{"abc", "abd", 1, 1 - 1.0/3},
	}
	for _, tt := range tests {
		assert.Equalf(t, tt.dist, LevenshteinDistance(tt.a, tt.b, 1, 1, 1), "%q %q", tt.a, tt.b)
		assert.InDeltaf(t, tt.sim, LevenshteinNormalizedSimilarity(tt.a, tt.b), 1e-12, "%q %q", tt.a, tt.b)
	}
	// A replacement costing 2 is a deletion plus an insertion.
	assert.Equal(t, 2, LevenshteinDistance("abc", "abd", 1, 1, 2))
	// Asymmetric weights: deleting is dear, inserting cheap.
	assert.Equal(t, 6, LevenshteinDistance("ab", "", 1, 3, 1))
	assert.Equal(t, 2, LevenshteinDistance("", "ab", 1, 3, 1))
	// score_cutoff: distances above the cutoff are reported as cutoff+1.
	assert.Equal(t, 3, EditDistance([]rune("abcdef"), []rune("uvwxyz"), UnitCosts, 2))
	assert.Equal(t, 1, EditDistance([]rune("abc"), []rune("abd"), UnitCosts, 2))

	s, err := score(t, Spec{Name: "levenshtein"}, ref("book", "back<OR>books"))
	require.NoError(t, err)
	assert.InDelta(t, 0.8, s.Value, 1e-12, "best reference: books, one insertion in five")
}

// Porter stemmer as nltk's PorterStemmer() (NLTK_EXTENSIONS); examples from
// Porter (1980) and nltk's docstrings.
func TestPorterStem(t *testing.T) {
	t.Parallel()
	for word, want := range map[string]string{
		"caresses": "caress", "ponies": "poni", "cats": "cat", "feed": "feed", "agreed": "agre", // step 5a then drops the e
		"plastered": "plaster", "motoring": "motor", "sing": "sing", "conflated": "conflat",
		"hopping": "hop", "filing": "file", "happy": "happi", "relational": "relat",
		"generalization": "gener",
		// nltk extensions: irregular forms, short -ies/-ied words.
		"dying": "die", "skies": "sky", "ties": "tie", "died": "die", "spied": "spi",
		"at": "at",
	} {
		assert.Equalf(t, want, PorterStem(word), "%s", word)
	}
}

// ROUGE as rouge-score's RougeScorer.score(target, prediction).
func TestRouge(t *testing.T) {
	t.Parallel()
	target, pred := "The cat sat on the mat.", "the cat on the mat"
	tests := []struct {
		typ  string
		want RougeScore
	}{
		// Unigrams: 5 of 5 predicted match, 5 of 6 target.
		{"rouge1", RougeScore{1, 5.0 / 6, 10.0 / 11}},
		// Bigrams: "the cat", "on the", "the mat" of 4 predicted, 5 target.
		{"rouge2", RougeScore{0.75, 0.6, 2.0 / 3}},
		// LCS "the cat on the mat" = 5.
		{"rougeL", RougeScore{1, 5.0 / 6, 10.0 / 11}},
	}
	for _, tt := range tests {
		got, err := Rouge(tt.typ, target, pred, false)
		require.NoError(t, err)
		assert.InDeltaf(t, tt.want.Precision, got.Precision, 1e-12, "%s P", tt.typ)
		assert.InDeltaf(t, tt.want.Recall, got.Recall, 1e-12, "%s R", tt.typ)
		assert.InDeltaf(t, tt.want.FMeasure, got.FMeasure, 1e-12, "%s F", tt.typ)
	}
	_, err := Rouge("rougeW", target, pred, false)
	assert.Error(t, err)

	// Stemming conflates runs/running and dog/dogs.
	plain, err := score(t, Spec{Name: "rouge_1"}, ref("running dogs", "the dog runs"))
	require.NoError(t, err)
	assert.Equal(t, 0.0, plain.Value)
	stemmed, err := score(t, Spec{Name: "rouge_1", Options: map[string]any{"stemmer": true}}, ref("running dogs", "the dog runs"))
	require.NoError(t, err)
	assert.InDelta(t, 0.8, stemmed.Value, 1e-12)

	s, err := score(t, Spec{Name: "rouge_l"}, ref(pred, "unrelated words<OR>"+target))
	require.NoError(t, err)
	assert.InDelta(t, 10.0/11, s.Value, 1e-12, "best reference")
}

// BLEU as sacrebleu.sentence_bleu (13a, exp smoothing, effective order).
func TestBLEU(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, hyp, refs string
		want            float64
	}{
		{"identical", "The cat sat on the mat.", "The cat sat on the mat.", 100},
		{"nothing in common", "completely different", "The cat sat on the mat.", 0},
		// 2 of 2 unigrams, 1 of 1 bigram, no trigrams: effective order 2,
		// precision 100; brevity penalty exp(1 - 6/2).
		{"short hypothesis", "the cat", "the cat sat on the mat", 100 * math.Exp(-2)},
		// Joint references: "the" and "cat" each clip against some
		// reference (2/2); bigram "the cat" matches none, so exp smoothing
		// gives 100/(2*1); sqrt(100*50). Scoring each reference alone and
		// keeping the best would give 50.
		{"joint references", "the cat", "the dog<OR>a cat", math.Sqrt(100 * 50)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := score(t, Spec{Name: "bleu"}, ref(tt.hyp, tt.refs))
			require.NoError(t, err)
			assert.InDelta(t, tt.want, s.Value, 1e-9)
		})
	}
	assert.Equal(t, "Hello , world . 3.5 x-y", tokenize13a("Hello, world. 3.5 x-y"))
	assert.Equal(t, "a b c", tokenizeChar("abc"))
}

func TestLength(t *testing.T) {
	t.Parallel()
	tests := []struct {
		opts   map[string]any
		output string
		want   float64
	}{
		{map[string]any{"max": 5}, "héllo", 1}, // code points, not bytes
		{map[string]any{"max": 4}, "héllo", 0},
		{map[string]any{"min": 2, "max": 3, "unit": "words"}, "one two three", 1},
		{map[string]any{"min": 2, "unit": "words"}, "one", 0},
	}
	for _, tt := range tests {
		s, err := score(t, Spec{Name: "len", Type: "length", Options: tt.opts}, Input{Output: tt.output})
		require.NoError(t, err)
		assert.Equalf(t, tt.want, s.Value, "%v %q", tt.opts, tt.output)
	}
}

func TestOperational(t *testing.T) {
	t.Parallel()
	s, err := score(t, Spec{Name: "latency_ms"}, Input{Latency: 1500 * time.Microsecond})
	require.NoError(t, err)
	assert.Equal(t, 1.5, s.Value)
	_, err = score(t, Spec{Name: "latency_ms"}, Input{})
	assert.ErrorContains(t, err, "latency unknown")

	cost := 0.0042
	s, err = score(t, Spec{Name: "cost_usd"}, Input{CostUSD: &cost})
	require.NoError(t, err)
	assert.Equal(t, cost, s.Value)
	_, err = score(t, Spec{Name: "cost_usd"}, Input{})
	assert.ErrorContains(t, err, "price unknown")

	m, err := New(Spec{Name: "cost_usd"})
	require.NoError(t, err)
	assert.Equal(t, LowerIsBetter, m.Info().Direction)
	assert.True(t, math.IsInf(m.Info().Max, 1))
}

func TestImported(t *testing.T) {
	t.Parallel()
	spec := Spec{Name: "sme", Type: "imported", Options: map[string]any{
		"field": "human_score_source_llm", "min": 1, "max": 5, "reasoning_field": "human_note",
	}}
	s, err := score(t, spec, Input{Fields: map[string]string{"human_score_source_llm": " 4 ", "human_note": "mostly right"}})
	require.NoError(t, err)
	assert.Equal(t, 0.75, s.Value)
	require.NotNil(t, s.Raw)
	assert.Equal(t, 4.0, *s.Raw)
	assert.Equal(t, "mostly right", s.Detail)

	for value, want := range map[string]string{
		"":                          `field "human_score_source_llm" is empty`,
		"6":                         `field "human_score_source_llm": 6 is outside the declared range [1, 5]`,
		"good":                      `field "human_score_source_llm": "good" is not a number`,
		strings.Repeat("long ", 40): `"long long long long long long long long …" is not a number`,
	} {
		_, err := score(t, spec, Input{Fields: map[string]string{"human_score_source_llm": value}})
		assert.ErrorContainsf(t, err, want, "value %q", value)
	}
	_, err = score(t, spec, Input{Fields: map[string]string{}})
	assert.ErrorContains(t, err, `field "human_score_source_llm" is missing`)

	lower := Spec{Name: "err_rate", Type: "imported", Options: map[string]any{"field": "e", "min": 0.0, "max": 10.0, "direction": "lower"}}
	m, err := New(lower)
	require.NoError(t, err)
	assert.Equal(t, LowerIsBetter, m.Info().Direction)
}

func TestSpecKind(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "regex", Spec{Name: "has_date", Type: "regex"}.Kind(), "the type wins")
	assert.Equal(t, "bleu", Spec{Name: "bleu"}.Kind(), "a built-in named by its name")
	assert.Empty(t, Spec{}.Kind())
}
