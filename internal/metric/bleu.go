package metric

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
)

// BLEU as sacreBLEU 2.x computes it (mjpost/sacrebleu, sacrebleu/metrics/bleu.py
// and tokenizers/), on sacreBLEU's 0-100 scale. The bleu metric is
// sacrebleu.sentence_bleu with its defaults: 13a tokenizer, exp smoothing,
// effective order. Several references are used jointly, as sacreBLEU does
// (clipped counts take the max over references; the reference length is the
// closest one), rather than scoring each alone and keeping the best.

func init() {
	register("bleu", []string{"tokenize", "smooth_method", "smooth_value", "lowercase", "use_effective_order"}, newBLEU)
}

func newBLEU(spec Spec) (Metric, error) {
	o := BLEUOptions{MaxNgramOrder: 4}
	var err error
	if o.Tokenize, err = spec.oneOf("tokenize", "13a", "13a", "none", "intl", "char"); err != nil {
		return nil, err
	}
	if o.SmoothMethod, err = spec.oneOf("smooth_method", "exp", "exp", "floor", "add-k", "none"); err != nil {
		return nil, err
	}
	if v, ok, err := spec.num("smooth_value"); err != nil {
		return nil, err
	} else if ok {
		if v < 0 {
			return nil, spec.errorf("option \"smooth_value\" must not be negative")
		}
		o.SmoothValue = &v
	}
	if o.Lowercase, err = spec.boolean("lowercase", false); err != nil {
		return nil, err
	}
	if o.UseEffectiveOrder, err = spec.boolean("use_effective_order", true); err != nil {
		return nil, err
	}
	return &scorer{
		info: Info{Name: spec.Name, Min: 0, Max: 100, Direction: HigherIsBetter, NeedsReference: true},
		score: func(in Input) (Score, error) {
			refs, err := references(in)
			if err != nil {
				return Score{}, err
			}
			r, err := SentenceBLEU(in.Output, refs, o)
			if err != nil {
				return Score{}, err
			}
			return Score{Value: r.Score}, nil
		},
	}, nil
}

// BLEUOptions are sacreBLEU's BLEU settings.
type BLEUOptions struct {
	// Tokenize is "13a" (sacreBLEU's default), "none", "intl" or "char";
	// empty means 13a.
	Tokenize string
	// SmoothMethod is "exp" (default when empty), "floor", "add-k" or "none".
	SmoothMethod string
	// SmoothValue overrides the method's default (floor 0.1, add-k 1).
	SmoothValue *float64
	// Lowercase lowercases hypotheses and references before tokenizing.
	Lowercase bool
	// UseEffectiveOrder stops the geometric mean at the highest order that
	// has any n-grams; sacreBLEU sets it for sentence scores.
	UseEffectiveOrder bool
	// Force is accepted for parity with sacreBLEU, where it only silences a
	// warning about pre-tokenized input; it does not change the score.
	Force bool
	// MaxNgramOrder defaults to 4.
	MaxNgramOrder int
}

// BLEUResult is a BLEU score with the statistics it came from, as sacreBLEU
// reports them (Counts and Totals after add-k smoothing, Precisions in %).
type BLEUResult struct {
	Score          float64
	Counts, Totals []float64
	Precisions     []float64
	BP             float64
	SysLen, RefLen int
}

// SentenceBLEU is sacreBLEU's BLEU(...).sentence_score(hyp, refs): a corpus of
// one hypothesis with each reference as its own stream.
func SentenceBLEU(hyp string, refs []string, o BLEUOptions) (BLEUResult, error) {
	streams := make([][]string, len(refs))
	for i, r := range refs {
		streams[i] = []string{r}
	}
	return CorpusBLEU([]string{hyp}, streams, o)
}

// CorpusBLEU is sacreBLEU's corpus_score(hyps, refStreams): refStreams[k][i]
// is reference k of hypothesis i. Empty references are dropped; a hypothesis
// left with none is an error, as in sacreBLEU.
func CorpusBLEU(hyps []string, refStreams [][]string, o BLEUOptions) (BLEUResult, error) {
	order := o.MaxNgramOrder
	if order <= 0 {
		order = 4
	}
	tok, err := bleuTokenizer(o.Tokenize)
	if err != nil {
		return BLEUResult{}, err
	}
	for k, s := range refStreams {
		if len(s) != len(hyps) {
			return BLEUResult{}, fmt.Errorf("bleu: reference stream %d has %d segments, want %d", k, len(s), len(hyps))
		}
	}
	prep := func(s string) []string {
		if o.Lowercase {
			s = pyLower(s)
		}
		return pyFields(tok(strings.TrimRightFunc(s, pyIsSpace)))
	}
	correct := make([]int, order)
	total := make([]int, order)
	sysLen, refLen := 0, 0
	for i, hyp := range hyps {
		// Reference side: max count of each n-gram over the references, and
		// their lengths for the closest-length rule.
		maxRef := make([]map[string]int, order)
		for n := range maxRef {
			maxRef[n] = map[string]int{}
		}
		var refLens []int
		for _, stream := range refStreams {
			if stream[i] == "" {
				continue
			}
			toks := prep(stream[i])
			refLens = append(refLens, len(toks))
			for n, grams := range bleuNgrams(toks, order) {
				for g, c := range grams {
					maxRef[n][g] = max(maxRef[n][g], c)
				}
			}
		}
		if len(refLens) == 0 {
			return BLEUResult{}, errors.New("bleu: empty reference sentence found")
		}
		htoks := prep(hyp)
		sysLen += len(htoks)
		refLen += closestRefLen(len(htoks), refLens)
		for n, grams := range bleuNgrams(htoks, order) {
			for g, c := range grams {
				total[n] += c
				correct[n] += min(c, maxRef[n][g])
			}
		}
	}
	return ComputeBLEU(correct, total, sysLen, refLen, o), nil
}

// closestRefLen is sacreBLEU's choice of reference length: the closest to the
// hypothesis length, the shorter one on a tie.
func closestRefLen(hypLen int, refLens []int) int {
	best, bestDiff := -1, -1
	for _, l := range refLens {
		d := hypLen - l
		if d < 0 {
			d = -d
		}
		if bestDiff < 0 || d < bestDiff || (d == bestDiff && l < best) {
			best, bestDiff = l, d
		}
	}
	return best
}

// bleuNgrams counts the n-grams of toks for n = 1..order; element n-1 holds
// the n-grams, keyed by their tokens joined with a space (tokens never
// contain whitespace, so keys are unambiguous).
func bleuNgrams(toks []string, order int) []map[string]int {
	out := make([]map[string]int, order)
	for n := 1; n <= order; n++ {
		c := map[string]int{}
		for i := 0; i+n <= len(toks); i++ {
			c[strings.Join(toks[i:i+n], " ")]++
		}
		out[n-1] = c
	}
	return out
}

// ComputeBLEU is sacreBLEU's BLEU.compute_bleu: the score from n-gram match
// counts and totals, system and reference lengths.
func ComputeBLEU(correctIn, totalIn []int, sysLen, refLen int, o BLEUOptions) BLEUResult {
	order := min(len(correctIn), len(totalIn))
	if o.MaxNgramOrder > 0 {
		order = min(order, o.MaxNgramOrder)
	}
	method := o.SmoothMethod
	if method == "" {
		method = "exp"
	}
	smooth := 0.0
	switch {
	case o.SmoothValue != nil:
		smooth = *o.SmoothValue
	case method == "floor":
		smooth = 0.1
	case method == "add-k":
		smooth = 1
	}
	correct := make([]float64, order)
	total := make([]float64, order)
	anyMatch := false
	for i := range order {
		correct[i] = float64(correctIn[i])
		total[i] = float64(totalIn[i])
		anyMatch = anyMatch || correctIn[i] != 0
	}
	res := BLEUResult{Counts: correct, Totals: total, Precisions: make([]float64, order), BP: 1, SysLen: sysLen, RefLen: refLen}
	if sysLen < refLen {
		res.BP = 0
		if sysLen > 0 {
			res.BP = math.Exp(1 - float64(refLen)/float64(sysLen))
		}
	}
	// sacreBLEU 2.0 (issue #141): no match of any order scores 0 whatever
	// the smoothing.
	if !anyMatch {
		return res
	}
	smoothMteval := 1.0
	effOrder := order
	for n := 1; n <= order; n++ {
		if method == "add-k" && n > 1 {
			correct[n-1] += smooth
			total[n-1] += smooth
		}
		if total[n-1] == 0 {
			break
		}
		if o.UseEffectiveOrder {
			effOrder = n
		}
		switch {
		case correct[n-1] != 0:
			res.Precisions[n-1] = 100 * correct[n-1] / total[n-1]
		case method == "exp":
			smoothMteval *= 2
			res.Precisions[n-1] = 100 / (smoothMteval * total[n-1])
		case method == "floor":
			res.Precisions[n-1] = 100 * smooth / total[n-1]
		}
	}
	sum := 0.0
	for _, p := range res.Precisions[:effOrder] {
		sum += bleuLog(p)
	}
	res.Score = res.BP * math.Exp(sum/float64(effOrder))
	return res
}

// bleuLog is sacreBLEU's my_log: log(0) is a large negative number rather
// than -Inf, so a zero precision gives a score of (almost exactly) 0.
func bleuLog(x float64) float64 {
	if x == 0 {
		return -9999999999
	}
	return math.Log(x)
}

// bleuTokenizer returns sacreBLEU's tokenizer by name.
func bleuTokenizer(name string) (func(string) string, error) {
	switch name {
	case "", "13a":
		return tokenize13a, nil
	case "none":
		return func(s string) string { return s }, nil
	case "intl":
		return tokenizeIntl, nil
	case "char":
		return tokenizeChar, nil
	}
	return nil, fmt.Errorf("bleu: unknown tokenizer %q (want 13a, none, intl or char)", name)
}

type reSub struct {
	re   *regexp.Regexp
	repl string
}

// tok13aRules are sacreBLEU's TokenizerRegexp (mteval-v13a): the same
// patterns, which RE2 matches with the same leftmost, non-overlapping
// semantics as Python's re.sub.
var tok13aRules = []reSub{
	// Symbols and most ASCII punctuation become separate tokens.
	{regexp.MustCompile("([{-~\\[-` -&(-+:-@/])"), " $1 "},
	// Period and comma unless preceded by a digit.
	{regexp.MustCompile(`([^0-9])([.,])`), "$1 $2 "},
	// Period and comma unless followed by a digit.
	{regexp.MustCompile(`([.,])([^0-9])`), " $1 $2"},
	// Dash when preceded by a digit.
	{regexp.MustCompile(`([0-9])(-)`), "$1 $2 "},
}

// tokenize13a is sacreBLEU's Tokenizer13a.
func tokenize13a(line string) string {
	line = strings.ReplaceAll(line, "<skipped>", "")
	line = strings.ReplaceAll(line, "-\n", "")
	line = strings.ReplaceAll(line, "\n", " ")
	if strings.Contains(line, "&") {
		line = strings.ReplaceAll(line, "&quot;", "\"")
		line = strings.ReplaceAll(line, "&amp;", "&")
		line = strings.ReplaceAll(line, "&lt;", "<")
		line = strings.ReplaceAll(line, "&gt;", ">")
	}
	line = " " + line + " "
	for _, r := range tok13aRules {
		line = r.re.ReplaceAllString(line, r.repl)
	}
	return strings.Join(pyFields(line), " ")
}

// tokIntlRules are sacreBLEU's TokenizerV14International (mteval-v14
// --international-tokenization): Unicode punctuation split off unless
// between digits, Unicode symbols always.
var tokIntlRules = []reSub{
	{regexp.MustCompile(`([^\p{Nd}])(\p{P})`), "$1 $2 "},
	{regexp.MustCompile(`(\p{P})([^\p{Nd}])`), " $1 $2"},
	{regexp.MustCompile(`(\p{S})`), " $1 "},
}

func tokenizeIntl(line string) string {
	for _, r := range tokIntlRules {
		line = r.re.ReplaceAllString(line, r.repl)
	}
	return strings.Join(pyFields(line), " ")
}

// tokenizeChar is sacreBLEU's TokenizerChar: every character is a token.
func tokenizeChar(line string) string {
	rs := []rune(line)
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = string(r)
	}
	return strings.Join(parts, " ")
}
