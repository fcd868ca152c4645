package metric

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// ROUGE as google-research's rouge-score computes it (rouge_scorer.py):
// RougeScorer([type], use_stemmer).score(target, prediction), with the
// reference as target. Precision is measured against the prediction and
// recall against the target; the metric's value is the F-measure.

func init() {
	for _, t := range []struct{ typ, rouge string }{
		{"rouge_1", "rouge1"}, {"rouge_2", "rouge2"}, {"rouge_l", "rougeL"},
	} {
		register(t.typ, []string{"stemmer"}, newRouge(t.rouge))
	}
}

func newRouge(rougeType string) func(Spec) (Metric, error) {
	return func(spec Spec) (Metric, error) {
		// rouge-score's default is use_stemmer=False; keep it so scores
		// compare with published numbers unless asked otherwise.
		stem, err := spec.boolean("stemmer", false)
		if err != nil {
			return nil, err
		}
		return &scorer{
			info: Info{Name: spec.Name, Min: 0, Max: 1, Direction: HigherIsBetter, NeedsReference: true},
			score: func(in Input) (Score, error) {
				// score_multi keeps the reference with the best F-measure.
				return bestOver(in, func(ref string) float64 {
					s, _ := Rouge(rougeType, ref, in.Output, stem)
					return s.FMeasure
				})
			},
		}, nil
	}
}

// RougeScore is one ROUGE result.
type RougeScore struct{ Precision, Recall, FMeasure float64 }

var rougeNRE = regexp.MustCompile(`^rouge([0-9])$`)

// Rouge scores prediction against target for one rouge-score type: rouge1 to
// rouge9, rougeL (LCS over the whole text) or rougeLsum (union LCS over
// newline-separated sentences). Any other type is an error, as in rouge-score.
func Rouge(rougeType, target, prediction string, stem bool) (RougeScore, error) {
	switch rougeType {
	case "rougeL":
		return rougeLCS(RougeTokenize(target, stem), RougeTokenize(prediction, stem)), nil
	case "rougeLsum":
		return rougeSummaryLCS(rougeSentences(target, stem), rougeSentences(prediction, stem)), nil
	}
	m := rougeNRE.FindStringSubmatch(rougeType)
	if m == nil {
		return RougeScore{}, fmt.Errorf("rouge: invalid rouge type %q", rougeType)
	}
	n, _ := strconv.Atoi(m[1])
	if n == 0 {
		return RougeScore{}, fmt.Errorf("rouge: invalid rouge type %q", rougeType)
	}
	return rougeN(RougeTokenize(target, stem), RougeTokenize(prediction, stem), n), nil
}

var rougeNonAlnum = regexp.MustCompile(`[^a-z0-9]+`)

// RougeTokenize is rouge-score's default tokenizer: lowercase, every run of
// characters outside [a-z0-9] becomes a separator (so "café" gives "caf"),
// and with stem the Porter stemmer is applied to tokens longer than 3.
func RougeTokenize(text string, stem bool) []string {
	text = rougeNonAlnum.ReplaceAllString(pyLower(text), " ")
	toks := strings.Fields(text)
	if stem {
		for i, t := range toks {
			if len(t) > 3 {
				toks[i] = PorterStem(t)
			}
		}
	}
	return toks
}

func rougeF(p, r float64) float64 {
	if p+r > 0 {
		return 2 * p * r / (p + r)
	}
	return 0
}

func rougeN(target, prediction []string, n int) RougeScore {
	grams := func(toks []string) (map[string]int, int) {
		c := map[string]int{}
		total := 0
		for i := 0; i+n <= len(toks); i++ {
			c[strings.Join(toks[i:i+n], " ")]++
			total++
		}
		return c, total
	}
	tg, tn := grams(target)
	pg, pn := grams(prediction)
	hits := 0
	for g, c := range tg {
		hits += min(c, pg[g])
	}
	p := float64(hits) / float64(max(pn, 1))
	r := float64(hits) / float64(max(tn, 1))
	return RougeScore{p, r, rougeF(p, r)}
}

func rougeLCS(target, prediction []string) RougeScore {
	if len(target) == 0 || len(prediction) == 0 {
		return RougeScore{}
	}
	l := lcsLength(target, prediction)
	p := float64(l) / float64(len(prediction))
	r := float64(l) / float64(len(target))
	return RougeScore{p, r, rougeF(p, r)}
}

// lcsLength is the length of the longest common subsequence, in O(len(b))
// memory.
func lcsLength(a, b []string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			if a[i-1] == b[j-1] {
				cur[j] = prev[j-1] + 1
			} else {
				cur[j] = max(prev[j], cur[j-1])
			}
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// lcsIndices returns the indices into ref of one LCS of ref and can, chosen
// as rouge-score's _backtrack_norec chooses it.
func lcsIndices(ref, can []string) []int {
	t := make([][]int, len(ref)+1)
	for i := range t {
		t[i] = make([]int, len(can)+1)
	}
	for i := 1; i <= len(ref); i++ {
		for j := 1; j <= len(can); j++ {
			if ref[i-1] == can[j-1] {
				t[i][j] = t[i-1][j-1] + 1
			} else {
				t[i][j] = max(t[i-1][j], t[i][j-1])
			}
		}
	}
	var idx []int
	i, j := len(ref), len(can)
	for i > 0 && j > 0 {
		switch {
		case ref[i-1] == can[j-1]:
			idx = append(idx, i-1)
			i--
			j--
		case t[i][j-1] > t[i-1][j]:
			j--
		default:
			i--
		}
	}
	for l, r := 0, len(idx)-1; l < r; l, r = l+1, r-1 {
		idx[l], idx[r] = idx[r], idx[l]
	}
	return idx
}

// unionLCS returns the tokens of ref covered by the union of its LCS with
// each candidate sentence, in ref order (ROUGE paper, section 3.2).
func unionLCS(ref []string, cands [][]string) []string {
	lists := make([][]int, len(cands))
	for k, c := range cands {
		lists[k] = lcsIndices(ref, c)
	}
	var out []string
	for _, i := range findUnion(lists) {
		out = append(out, ref[i])
	}
	return out
}

// findUnion is the sorted union of index lists (rouge-score's _find_union).
func findUnion(lists [][]int) []int {
	seen := map[int]bool{}
	var out []int
	for _, l := range lists {
		for _, i := range l {
			if !seen[i] {
				seen[i] = true
				out = append(out, i)
			}
		}
	}
	sort.Ints(out)
	return out
}

// rougeSentences splits on newlines, drops empty lines and tokenizes each,
// as rouge-score does for rougeLsum without split_summaries.
func rougeSentences(text string, stem bool) [][]string {
	var out [][]string
	for _, s := range strings.Split(text, "\n") {
		if s != "" {
			out = append(out, RougeTokenize(s, stem))
		}
	}
	return out
}

// rougeSummaryLCS is rouge-score's _summary_level_lcs: union LCS hits per
// reference sentence, each token counted at most as often as it occurs on
// both sides (as ROUGE-1.5.5 does).
func rougeSummaryLCS(ref, can [][]string) RougeScore {
	if len(ref) == 0 || len(can) == 0 {
		return RougeScore{}
	}
	m, n := 0, 0
	cntR, cntC := map[string]int{}, map[string]int{}
	for _, s := range ref {
		m += len(s)
		for _, t := range s {
			cntR[t]++
		}
	}
	for _, s := range can {
		n += len(s)
		for _, t := range s {
			cntC[t]++
		}
	}
	if m == 0 || n == 0 {
		return RougeScore{}
	}
	hits := 0
	for _, r := range ref {
		for _, t := range unionLCS(r, can) {
			if cntC[t] > 0 && cntR[t] > 0 {
				hits++
				cntC[t]--
				cntR[t]--
			}
		}
	}
	p := float64(hits) / float64(n)
	r := float64(hits) / float64(m)
	return RougeScore{p, r, rougeF(p, r)}
}
