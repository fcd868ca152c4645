package metric

import (
	"sort"
	"strings"
)

// The QA accuracy metrics reproduce aws/fmeval's qa_accuracy.py (commit
// 749cba4) exactly, quirks included, so that scores agree with fmeval runs:
// see /work/shared/reference-vectors/fmeval_qa_notes.md for the rules.

func init() {
	register("exact_match", nil, newQA(true, QAExactMatch))
	register("quasi_exact_match", nil, newQA(true, QAQuasiExactMatch))
	register("precision", nil, newQA(false, func(out, ref string) float64 {
		p, _, _ := QAWordScores(out, ref, true, true)
		return p
	}))
	register("recall", nil, newQA(false, func(out, ref string) float64 {
		_, r, _ := QAWordScores(out, ref, true, true)
		return r
	}))
	register("f1", nil, newQA(false, func(out, ref string) float64 {
		_, _, f := QAWordScores(out, ref, true, true)
		return f
	}))
}

// newQA builds one fmeval QA metric; each is maximised over the references
// on its own, as fmeval does (the best F1 and the best precision may come
// from different references).
func newQA(passFail bool, f func(output, ref string) float64) func(Spec) (Metric, error) {
	return func(spec Spec) (Metric, error) {
		return &scorer{
			info: Info{Name: spec.Name, Min: 0, Max: 1, Direction: HigherIsBetter, PassFail: passFail, NeedsReference: true},
			score: func(in Input) (Score, error) {
				return bestOver(in, func(ref string) float64 { return f(in.Output, ref) })
			},
		}, nil
	}
}

// qaPunctuation is Python's string.punctuation: the 32 ASCII punctuation
// characters fmeval deletes (not replaces with a space).
const qaPunctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"

// QANormalize is fmeval's normalize_text_quac_protocol: lowercase, delete
// ASCII punctuation, split on the space character only, drop empty pieces
// and the articles a/an/the, join with single spaces.
func QANormalize(s string) string {
	s = pyLower(s)
	s = strings.Map(func(r rune) rune {
		if r < 0x80 && strings.ContainsRune(qaPunctuation, r) {
			return -1
		}
		return r
	}, s)
	pieces := strings.Split(s, " ")
	kept := pieces[:0]
	for _, p := range pieces {
		switch p {
		case "", "a", "an", "the":
			continue
		}
		kept = append(kept, p)
	}
	return strings.Join(kept, " ")
}

// QAExactMatch is fmeval's exact_match_score: 1 when the stripped strings
// are equal (case-sensitive, no normalisation), else 0.
func QAExactMatch(output, target string) float64 {
	if pyStrip(output) == pyStrip(target) {
		return 1
	}
	return 0
}

// QAQuasiExactMatch is fmeval's quasi_exact_match_score: 1 when the stripped,
// normalised strings are equal, else 0.
func QAQuasiExactMatch(output, target string) float64 {
	if QANormalize(pyStrip(output)) == QANormalize(pyStrip(target)) {
		return 1
	}
	return 0
}

// QATokenSet is fmeval's _split: the set of str.split() words, sorted.
func QATokenSet(s string) []string {
	set := map[string]struct{}{}
	for _, w := range pyFields(s) {
		set[w] = struct{}{}
	}
	out := make([]string, 0, len(set))
	for w := range set {
		out = append(out, w)
	}
	sort.Strings(out)
	return out
}

// QAWordScores returns fmeval's precision_over_words, recall_over_words and
// f1_score for one target. They compare word SETS; nltk's None (an empty
// set) becomes 0, so two empty answers score 0 here but 1 on exact match.
func QAWordScores(output, target string, normalize, strip bool) (precision, recall, f1 float64) {
	prep := func(s string) map[string]struct{} {
		if strip {
			s = pyStrip(s)
		}
		if normalize {
			s = QANormalize(s)
		}
		set := map[string]struct{}{}
		for _, w := range pyFields(s) {
			set[w] = struct{}{}
		}
		return set
	}
	test, ref := prep(output), prep(target)
	common := 0
	for w := range test {
		if _, ok := ref[w]; ok {
			common++
		}
	}
	if len(test) > 0 {
		precision = float64(common) / float64(len(test))
	}
	if len(ref) > 0 {
		recall = float64(common) / float64(len(ref))
	}
	if len(test) == 0 || len(ref) == 0 || precision == 0 || recall == 0 {
		return precision, recall, 0
	}
	// nltk f_measure with alpha 0.5, written as nltk writes it.
	f1 = 1.0 / (0.5/precision + 0.5/recall)
	return precision, recall, f1
}
