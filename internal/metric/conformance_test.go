package metric

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The conformance test checks every record of the shared reference vectors
// (values asserted by fmeval's, rouge-score's, sacreBLEU's and rapidfuzz's own
// unit tests, plus documented derived cases). Records are read, never copied
// into this repository. Each file's checked count must equal its record
// count, so a record cannot be skipped silently.

// vectorExclusions lists records this implementation deliberately does not
// check, with the reason. Keep it short: every entry is a known gap.
var vectorExclusions = map[string]string{}

// vectorRecord is one line of a reference-vector file (see its README).
type vectorRecord struct {
	ID        string                     `json:"id"`
	Metric    string                     `json:"metric"`
	API       string                     `json:"api"`
	Inputs    map[string]json.RawMessage `json:"inputs"`
	Options   map[string]json.RawMessage `json:"options"`
	Expected  map[string]json.RawMessage `json:"expected"`
	Tolerance *float64                   `json:"tolerance_abs"`
	Derived   map[string]json.RawMessage `json:"derived_values_by_definition"`
	Harness   map[string]json.RawMessage `json:"implied_by_test_harness"`
}

// tol is the record's tolerance; records asserting only a key or an error
// have none, and their derived values are compared tightly.
func (r vectorRecord) tol() float64 {
	if r.Tolerance == nil {
		return 1e-12
	}
	return *r.Tolerance
}

func (r vectorRecord) input(t *testing.T, key string, v any) {
	t.Helper()
	raw, ok := r.Inputs[key]
	require.Truef(t, ok, "%s: input %q missing", r.ID, key)
	require.NoErrorf(t, json.Unmarshal(raw, v), "%s: input %q", r.ID, key)
}

func (r vectorRecord) option(key string, v any) bool {
	raw, ok := r.Options[key]
	if !ok || string(raw) == "null" {
		return false
	}
	return json.Unmarshal(raw, v) == nil
}

func (r vectorRecord) expected(t *testing.T, key string, v any) {
	t.Helper()
	raw, ok := r.Expected[key]
	require.Truef(t, ok, "%s: expected %q missing", r.ID, key)
	require.NoErrorf(t, json.Unmarshal(raw, v), "%s: expected %q", r.ID, key)
}

// vectorsDir finds the shared reference vectors: $EVALGATE_REFERENCE_VECTORS,
// else a shared/reference-vectors directory beside any parent of the working
// directory (the checkout lives next to shared/ in CI and locally).
func vectorsDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("EVALGATE_REFERENCE_VECTORS"); d != "" {
		return d
	}
	wd, err := os.Getwd()
	require.NoError(t, err)
	for d := wd; ; d = filepath.Dir(d) {
		cand := filepath.Join(d, "shared", "reference-vectors")
		if st, err := os.Stat(cand); err == nil && st.IsDir() {
			return cand
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}

func readVectors(t *testing.T, path string) []vectorRecord {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var recs []vectorRecord
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var r vectorRecord
		require.NoErrorf(t, json.Unmarshal(sc.Bytes(), &r), "%s line %d", path, line)
		require.NotEmptyf(t, r.ID, "%s line %d: no id", path, line)
		recs = append(recs, r)
	}
	require.NoError(t, sc.Err())
	return recs
}

// checker checks one record; it returns false when it does not know the
// record's kind, which fails the test unless the record is excluded.
type checker func(t *testing.T, r vectorRecord) bool

func TestConformance(t *testing.T) {
	t.Parallel()
	dir := vectorsDir(t)
	missing := ""
	if dir == "" {
		missing = "reference vectors not found: set EVALGATE_REFERENCE_VECTORS or check out shared/reference-vectors beside the repository"
	} else if _, err := os.Stat(dir); err != nil {
		missing = fmt.Sprintf("reference vectors not available at %s: %v", dir, err)
	}
	if missing != "" {
		// Locally the vectors are optional; in CI a missing checkout would
		// turn the conformance check into a silent pass.
		if os.Getenv("CI") == "true" {
			t.Fatal(missing + " (CI=true: the conformance check must run in CI)")
		}
		t.Skip(missing)
	}
	files := map[string]checker{
		"fmeval_qa.jsonl":   checkFmeval,
		"rouge.jsonl":       checkRouge,
		"bleu.jsonl":        checkBLEU,
		"levenshtein.jsonl": checkLevenshtein,
	}
	found, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	require.NoError(t, err)
	require.NotEmpty(t, found, "no *.jsonl in %s", dir)
	for _, path := range found {
		name := filepath.Base(path)
		check, ok := files[name]
		require.Truef(t, ok, "no checker for vector file %s: add one", name)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			recs := readVectors(t, path)
			require.NotEmpty(t, recs)
			checked, excluded := 0, 0
			for _, r := range recs {
				if reason, skip := vectorExclusions[r.ID]; skip {
					t.Logf("%s excluded: %s", r.ID, reason)
					excluded++
					continue
				}
				handled := false
				t.Run(r.ID, func(t *testing.T) {
					// A failed require ends the subtest early; the record
					// still counts as checked (and failed), not unsupported.
					handled = true
					handled = check(t, r)
				})
				if !handled {
					t.Errorf("%s: unsupported record (metric %q, api %q): support it or add it to vectorExclusions with a reason", r.ID, r.Metric, r.API)
					continue
				}
				checked++
			}
			assert.Equal(t, len(recs), checked+excluded, "every record must be checked or explicitly excluded")
			t.Logf("%s: %d records, %d checked, %d excluded", name, len(recs), checked, excluded)
		})
	}
}

// --- fmeval QA accuracy ---

var fmevalScore = map[string]func(out, target string) float64{
	"exact_match_score":       QAExactMatch,
	"quasi_exact_match_score": QAQuasiExactMatch,
	"precision_over_words":    func(o, tg string) float64 { p, _, _ := QAWordScores(o, tg, true, true); return p },
	"recall_over_words":       func(o, tg string) float64 { _, r, _ := QAWordScores(o, tg, true, true); return r },
	"f1_score":                func(o, tg string) float64 { _, _, f := QAWordScores(o, tg, true, true); return f },
}

// fmevalMetric maps fmeval's score names to evalgate's metric types.
var fmevalMetric = map[string]string{
	"exact_match_score":       "exact_match",
	"quasi_exact_match_score": "quasi_exact_match",
	"precision_over_words":    "precision",
	"recall_over_words":       "recall",
	"f1_score":                "f1",
}

// fmevalSample scores one sample the way QAAccuracy.evaluate_sample does:
// split the target on the delimiter (nil: Python's str.split(None), on
// whitespace), then maximise each score over the pieces on its own.
func fmevalSample(t *testing.T, output, target string, delim *string) map[string]float64 {
	t.Helper()
	var targets []string
	if delim == nil {
		targets = pyFields(target)
	} else {
		targets = strings.Split(target, *delim)
	}
	out := map[string]float64{}
	for name, f := range fmevalScore {
		best := 0.0
		for _, tg := range targets {
			best = max(best, f(output, tg))
		}
		out[name] = best
	}
	// The metrics themselves must agree with the definition whenever the
	// sample has a reference (with none they return an error by design).
	if delim != nil && *delim == "<OR>" && target != "" {
		for name, typ := range fmevalMetric {
			m, err := New(Spec{Name: typ})
			require.NoError(t, err)
			s, err := m.Score(context.Background(), Input{Output: output, Reference: target, References: targets})
			require.NoError(t, err)
			assert.InDeltaf(t, out[name], s.Value, 1e-12, "metric %s disagrees with the definition", typ)
		}
	}
	return out
}

func checkFmeval(t *testing.T, r vectorRecord) bool {
	tol := r.tol()
	switch r.Metric {
	case "qa_accuracy_scores":
		var out, target string
		r.input(t, "model_output", &out)
		r.input(t, "target_output", &target)
		var delim *string
		var d string
		if r.option("target_output_delimiter", &d) {
			delim = &d
		}
		got := fmevalSample(t, out, target, delim)
		for name := range r.Expected {
			var want float64
			r.expected(t, name, &want)
			g, ok := got[name]
			require.Truef(t, ok, "unknown score %q", name)
			assert.InDeltaf(t, want, g, tol, "%s", name)
		}
		return true
	case "f1_score", "precision_over_words", "recall_over_words":
		var out, target string
		r.input(t, "model_output", &out)
		r.input(t, "target_output", &target)
		var norm, strip bool
		require.True(t, r.option("normalize_text", &norm))
		require.True(t, r.option("strip_text", &strip))
		p, rc, f := QAWordScores(out, target, norm, strip)
		got := map[string]float64{"f1_score": f, "precision_over_words": p, "recall_over_words": rc}[r.Metric]
		var want float64
		r.expected(t, r.Metric, &want)
		assert.InDelta(t, want, got, tol)
		return true
	case "exact_match_score", "quasi_exact_match_score":
		var out, target string
		r.input(t, "model_output", &out)
		r.input(t, "target_output", &target)
		var want float64
		r.expected(t, r.Metric, &want)
		assert.InDelta(t, want, fmevalScore[r.Metric](out, target), tol)
		return true
	case "split_tokens":
		var text string
		var want []string
		r.input(t, "text", &text)
		r.expected(t, "token_set", &want)
		sort.Strings(want)
		if want == nil {
			want = []string{}
		}
		assert.Equal(t, want, QATokenSet(text))
		return true
	case "qa_accuracy_dataset_mean":
		var recs []struct {
			Output   string `json:"model_output"`
			Target   string `json:"target_output"`
			Category string `json:"category"`
		}
		r.input(t, "records", &recs)
		d := "<OR>"
		r.option("target_output_delimiter", &d)
		sum := map[string]float64{}
		catSum := map[string]map[string]float64{}
		catN := map[string]int{}
		for _, x := range recs {
			s := fmevalSample(t, x.Output, x.Target, &d)
			if catSum[x.Category] == nil {
				catSum[x.Category] = map[string]float64{}
			}
			catN[x.Category]++
			for k, v := range s {
				sum[k] += v
				catSum[x.Category][k] += v
			}
		}
		var ds map[string]float64
		r.expected(t, "dataset_scores", &ds)
		for k, want := range ds {
			assert.InDeltaf(t, want, sum[k]/float64(len(recs)), r.tol(), "dataset %s", k)
		}
		var cs map[string]map[string]float64
		r.expected(t, "category_scores", &cs)
		require.Len(t, cs, len(catN))
		for c, scores := range cs {
			for k, want := range scores {
				assert.InDeltaf(t, want, catSum[c][k]/float64(catN[c]), r.tol(), "category %s %s", c, k)
			}
		}
		return true
	}
	return false
}

// --- ROUGE ---

func intTokens(xs []int) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = strconv.Itoa(x)
	}
	return out
}

func assertRouge(t *testing.T, want map[string]float64, got RougeScore, tol float64, what string) {
	t.Helper()
	g := map[string]float64{"precision": got.Precision, "recall": got.Recall, "fmeasure": got.FMeasure}
	require.NotEmpty(t, want)
	for k, w := range want {
		v, ok := g[k]
		require.Truef(t, ok, "unknown rouge field %q", k)
		assert.InDeltaf(t, w, v, tol, "%s %s", what, k)
	}
}

func checkRouge(t *testing.T, r vectorRecord) bool {
	var types []string
	r.option("rouge_types", &types)
	var stem bool
	r.option("use_stemmer", &stem)
	switch {
	case r.Metric == "rouge_tokenize":
		var text string
		var want []string
		r.input(t, "text", &text)
		r.expected(t, "tokens", &want)
		assert.Equal(t, want, RougeTokenize(text, stem))
		return true
	case r.Metric == "lcs_length":
		var ref, can []int
		r.input(t, "ref", &ref)
		r.input(t, "can", &can)
		var n int
		var idx []int
		r.expected(t, "lcs_length", &n)
		r.expected(t, "lcs_ref_indices", &idx)
		rs, cs := intTokens(ref), intTokens(can)
		assert.Equal(t, n, lcsLength(rs, cs))
		got := lcsIndices(rs, cs)
		assert.Equal(t, len(idx), len(got))
		if len(idx) > 0 {
			assert.Equal(t, idx, got)
		}
		if _, ok := r.Expected["lcs_values"]; ok {
			var vals []int
			r.expected(t, "lcs_values", &vals)
			var gotVals []int
			for _, i := range got {
				gotVals = append(gotVals, ref[i])
			}
			assert.Equal(t, vals, gotVals)
		}
		return true
	case r.Metric == "union_lcs":
		var ref []int
		var cands [][]int
		r.input(t, "ref", &ref)
		r.input(t, "candidates", &cands)
		var want []int
		r.expected(t, "union_lcs", &want)
		var cs [][]string
		for _, c := range cands {
			cs = append(cs, intTokens(c))
		}
		assert.Equal(t, intTokens(want), unionLCS(intTokens(ref), cs))
		var wantUnion []int
		r.expected(t, "find_union([[0,1],[0,2,4]])", &wantUnion)
		assert.Equal(t, wantUnion, findUnion([][]int{{0, 1}, {0, 2, 4}}))
		return true
	case r.Metric == "summary_level_lcs":
		// Tokens are ints or strings; compare them by their JSON text.
		var ref, can [][]json.RawMessage
		r.input(t, "ref_sents", &ref)
		r.input(t, "cand_sents", &can)
		conv := func(ss [][]json.RawMessage) [][]string {
			out := make([][]string, len(ss))
			for i, s := range ss {
				out[i] = []string{}
				for _, x := range s {
					out[i] = append(out[i], string(x))
				}
			}
			return out
		}
		want := map[string]float64{}
		for k := range r.Expected {
			var v float64
			r.expected(t, k, &v)
			want[k] = v
		}
		assertRouge(t, want, rougeSummaryLCS(conv(ref), conv(can)), r.tol(), "summary-level LCS")
		return true
	case strings.Contains(r.API, "score_multi"):
		var targets []string
		var pred string
		r.input(t, "targets", &targets)
		r.input(t, "prediction", &pred)
		for _, typ := range types {
			// score_multi keeps, per type, the target with the highest
			// F-measure (numpy argmax: the first on a tie).
			var best RougeScore
			for i, tg := range targets {
				s, err := Rouge(typ, tg, pred, stem)
				require.NoError(t, err)
				if i == 0 || s.FMeasure > best.FMeasure {
					best = s
				}
			}
			var want map[string]float64
			r.expected(t, typ, &want)
			assertRouge(t, want, best, r.tol(), typ)
			checkRougeMetric(t, typ, targets, pred, stem, best.FMeasure)
		}
		return true
	case strings.Contains(r.API, ".score("):
		var target, pred string
		r.input(t, "target", &target)
		r.input(t, "prediction", &pred)
		require.NotEmpty(t, types)
		if _, isErr := r.Expected["error"]; isErr {
			for _, typ := range types {
				_, err := Rouge(typ, target, pred, stem)
				assert.Errorf(t, err, "rouge type %q must be rejected", typ)
			}
			return true
		}
		for _, typ := range types {
			got, err := Rouge(typ, target, pred, stem)
			require.NoError(t, err)
			var want map[string]float64
			if _, ok := r.Expected["result_keys"]; ok {
				var keys []string
				r.expected(t, "result_keys", &keys)
				assert.Contains(t, keys, typ)
				require.NoError(t, json.Unmarshal(r.Derived[typ], &want))
			} else {
				r.expected(t, typ, &want)
			}
			assertRouge(t, want, got, r.tol(), typ)
			if target != "" {
				checkRougeMetric(t, typ, []string{target}, pred, stem, got.FMeasure)
			}
		}
		return true
	}
	return false
}

// checkRougeMetric runs the registered metric, when evalgate has one for the
// type, and checks it reports the reference implementation's F-measure.
func checkRougeMetric(t *testing.T, rougeType string, targets []string, pred string, stem bool, want float64) {
	t.Helper()
	typ := map[string]string{"rouge1": "rouge_1", "rouge2": "rouge_2", "rougeL": "rouge_l"}[rougeType]
	if typ == "" {
		return
	}
	m, err := New(Spec{Name: typ, Options: map[string]any{"stemmer": stem}})
	require.NoError(t, err)
	s, err := m.Score(context.Background(), Input{Output: pred, Reference: strings.Join(targets, "<OR>"), References: targets})
	require.NoError(t, err)
	assert.InDeltaf(t, want, s.Value, 1e-12, "metric %s", typ)
}

// --- BLEU ---

func bleuOptions(r vectorRecord) BLEUOptions {
	o := BLEUOptions{Tokenize: "13a", SmoothMethod: "exp", MaxNgramOrder: 4}
	r.option("tokenize", &o.Tokenize)
	r.option("smooth_method", &o.SmoothMethod)
	var v float64
	if r.option("smooth_value", &v) {
		o.SmoothValue = &v
	}
	r.option("lowercase", &o.Lowercase)
	r.option("use_effective_order", &o.UseEffectiveOrder)
	r.option("effective_order", &o.UseEffectiveOrder)
	r.option("force", &o.Force)
	r.option("max_ngram_order", &o.MaxNgramOrder)
	return o
}

func assertBLEUScore(t *testing.T, r vectorRecord, got BLEUResult) {
	t.Helper()
	var want float64
	r.expected(t, "score", &want)
	assert.InDelta(t, want, got.Score, r.tol(), "score")
	if _, ok := r.Expected["score_formatted_2dp"]; ok {
		var s string
		r.expected(t, "score_formatted_2dp", &s)
		assert.Equal(t, s, fmt.Sprintf("%.2f", got.Score))
	}
}

func checkBLEU(t *testing.T, r vectorRecord) bool {
	switch r.Metric {
	case "corpus_bleu", "bleu_statistics":
		var hyps []string
		var refs [][]string
		r.input(t, "hypotheses", &hyps)
		r.input(t, "references", &refs)
		got, err := CorpusBLEU(hyps, refs, bleuOptions(r))
		require.NoError(t, err)
		if r.Metric == "bleu_statistics" {
			var counts, totals []float64
			r.expected(t, "counts", &counts)
			r.expected(t, "totals", &totals)
			assert.Equal(t, counts, got.Counts)
			assert.Equal(t, totals, got.Totals)
		} else {
			assertBLEUScore(t, r, got)
		}
		return true
	case "compute_bleu_from_stats":
		var correct, total []int
		var sysLen, refLen int
		r.input(t, "correct", &correct)
		r.input(t, "total", &total)
		r.input(t, "sys_len", &sysLen)
		r.input(t, "ref_len", &refLen)
		o := bleuOptions(r)
		got := ComputeBLEU(correct, total, sysLen, refLen, o)
		assertBLEUScore(t, r, got)
		return true
	case "sentence_bleu":
		var hyp string
		var refs []string
		r.input(t, "hypothesis", &hyp)
		r.input(t, "references", &refs)
		o := bleuOptions(r)
		got, err := SentenceBLEU(hyp, refs, o)
		require.NoError(t, err)
		assertBLEUScore(t, r, got)
		// The bleu metric exposes every option these records use.
		opts := map[string]any{"tokenize": o.Tokenize, "smooth_method": o.SmoothMethod, "lowercase": o.Lowercase, "use_effective_order": o.UseEffectiveOrder}
		if o.SmoothValue != nil {
			opts["smooth_value"] = *o.SmoothValue
		}
		m, err := New(Spec{Name: "bleu", Options: opts})
		require.NoError(t, err)
		s, err := m.Score(context.Background(), Input{Output: hyp, Reference: strings.Join(refs, "<OR>"), References: refs})
		require.NoError(t, err)
		assert.InDelta(t, got.Score, s.Value, 1e-12, "bleu metric")
		return true
	case "tokenize":
		var text string
		var toks []string
		r.input(t, "text", &text)
		require.True(t, r.option("tokenizers", &toks))
		for _, name := range toks {
			var want string
			r.expected(t, name, &want)
			tok, err := bleuTokenizer(name)
			require.NoError(t, err)
			assert.Equalf(t, want, tok(text), "tokenizer %s", name)
		}
		return true
	}
	return false
}

// --- Levenshtein ---

// levSeq reads a rapidfuzz input: a string (a sequence of code points) or a
// list of strings (a sequence of tokens). Both become []string so a string
// and a list of one-character strings compare element by element, as in
// rapidfuzz.
func levSeq(t *testing.T, r vectorRecord, key string) []string {
	t.Helper()
	var s string
	if err := json.Unmarshal(r.Inputs[key], &s); err == nil {
		out := []string{}
		for _, c := range s {
			out = append(out, string(c))
		}
		return out
	}
	var l []string
	r.input(t, key, &l)
	return l
}

func checkLevenshtein(t *testing.T, r vectorRecord) bool {
	switch r.Metric {
	case "levenshtein_distance", "indel_distance":
		s1, s2 := levSeq(t, r, "s1"), levSeq(t, r, "s2")
		costs := UnitCosts
		if r.Metric == "indel_distance" {
			costs = IndelCosts
		}
		var w []int
		if r.option("weights", &w) {
			require.Len(t, w, 3)
			costs = EditCosts{Insert: w[0], Delete: w[1], Replace: w[2]}
		}
		cutoff := -1
		r.option("score_cutoff", &cutoff)
		var want int
		r.expected(t, "distance", &want)
		got := EditDistance(s1, s2, costs, cutoff)
		assert.Equal(t, want, got, "distance")
		if r.Harness != nil {
			var maximum int
			var sim, dist float64
			require.NoError(t, json.Unmarshal(r.Harness["maximum"], &maximum))
			require.NoError(t, json.Unmarshal(r.Harness["normalized_similarity"], &sim))
			require.NoError(t, json.Unmarshal(r.Harness["normalized_distance"], &dist))
			assert.Equal(t, maximum, EditMaximum(len(s1), len(s2), costs), "maximum")
			gotSim, gotDist := 1.0, 0.0
			if maximum > 0 {
				gotDist = float64(got) / float64(maximum)
				gotSim = float64(maximum-got) / float64(maximum)
			}
			assert.InDelta(t, sim, gotSim, 1e-12, "normalized similarity")
			assert.InDelta(t, dist, gotDist, 1e-12, "normalized distance")
			// The levenshtein metric is the unit-cost normalized similarity.
			var a, b string
			if costs == UnitCosts && cutoff < 0 && json.Unmarshal(r.Inputs["s1"], &a) == nil && json.Unmarshal(r.Inputs["s2"], &b) == nil {
				assert.InDelta(t, sim, LevenshteinNormalizedSimilarity(a, b), 1e-12)
				if b != "" {
					m, err := New(Spec{Name: "levenshtein"})
					require.NoError(t, err)
					s, err := m.Score(context.Background(), Input{Output: a, Reference: b, References: []string{b}})
					require.NoError(t, err)
					assert.InDelta(t, sim, s.Value, 1e-12, "levenshtein metric")
				}
			}
		}
		return true
	case "levenshtein_editops":
		var a, b string
		r.input(t, "s1", &a)
		r.input(t, "s2", &b)
		var raw [][]json.RawMessage
		r.expected(t, "editops", &raw)
		var want []Editop
		for _, op := range raw {
			require.Len(t, op, 3)
			var e Editop
			require.NoError(t, json.Unmarshal(op[0], &e.Op))
			require.NoError(t, json.Unmarshal(op[1], &e.Src))
			require.NoError(t, json.Unmarshal(op[2], &e.Dest))
			want = append(want, e)
		}
		var dist int
		r.expected(t, "distance", &dist)
		got := LevenshteinEditops(a, b)
		assert.Len(t, got, dist)
		assert.Equal(t, want, got)
		assert.Equal(t, dist, LevenshteinDistance(a, b, 1, 1, 1))
		return true
	}
	return false
}
