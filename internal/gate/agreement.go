package gate

import (
	"math"
	"slices"
	"strings"

	"github.com/evalgate/evalgate/internal/metric"
)

// FindAgreementPairs pairs judge and human metrics by name: a metric whose
// name holds the word "human" or "sme" is the human score of the metric whose
// name is the same with "llm_judge" or "judge" in its place. So
// human_score_source_llm pairs with llm_judge_score_source_llm (the AWS
// migration format's columns), and correctness_human with correctness_judge.
func FindAgreementPairs(names []string) []AgreementPair {
	judges := map[string]string{}
	for _, n := range names {
		if k, ok := stripWord(n, "llm_judge", "judge"); ok {
			judges[k] = n
		}
	}
	var out []AgreementPair
	for _, n := range names {
		if k, ok := stripWord(n, "human", "sme"); ok {
			if j, ok := judges[k]; ok && j != n {
				out = append(out, AgreementPair{Judge: j, Human: n})
			}
		}
	}
	return out
}

// stripWord removes the first of words found as a whole "_"-separated part
// of name and returns what is left.
func stripWord(name string, words ...string) (string, bool) {
	padded := "_" + name + "_"
	for _, w := range words {
		if i := strings.Index(padded, "_"+w+"_"); i >= 0 {
			rest := padded[:i] + "_" + padded[i+len(w)+2:]
			return strings.Trim(rest, "_"), true
		}
	}
	return "", false
}

// agreement measures, on each side's records, how well each judge metric
// agrees with its human metric.
func agreement(b, t *side, cfg Config) []AgreementResult {
	pairs := slices.Clone(cfg.Agreement)
	seen := map[AgreementPair]bool{}
	for _, p := range pairs {
		seen[AgreementPair{Judge: p.Judge, Human: p.Human}] = true
	}
	for _, p := range FindAgreementPairs(metricNames(b, t)) {
		if !seen[p] {
			pairs = append(pairs, p)
		}
	}
	var out []AgreementResult
	for _, ap := range pairs {
		for _, s := range []*side{b, t} {
			if a, ok := agreeOn(s, ap); ok {
				out = append(out, a)
			}
		}
	}
	return out
}

func agreeOn(s *side, ap AgreementPair) (AgreementResult, bool) {
	var j, h []float64
	jc, hc := s.column(ap.Judge), s.column(ap.Human)
	if jc == nil || hc == nil {
		return AgreementResult{}, false
	}
	for _, i := range s.sorted() {
		x, ok1 := scoreAt(jc, i)
		y, ok2 := scoreAt(hc, i)
		if ok1 && ok2 {
			j, h = append(j, x), append(h, y)
		}
	}
	if len(j) == 0 {
		return AgreementResult{}, false
	}
	a := AgreementResult{Judge: ap.Judge, Human: ap.Human, Side: s.info.Target, N: len(j),
		JudgeThreshold: threshold(ap.Threshold, s.metrics[ap.Judge]),
		HumanThreshold: threshold(ap.Threshold, s.metrics[ap.Human])}
	rho, rp := spearman(j, h)
	tau, tp := kendallTauB(j, h)
	a.Spearman, a.SpearmanP, a.Kendall, a.KendallP = Num(rho), Num(rp), Num(tau), Num(tp)
	var agree, jp, hp float64
	for i := range j {
		pj, ph := j[i] >= a.JudgeThreshold, h[i] >= a.HumanThreshold
		if pj == ph {
			agree++
		}
		if pj {
			jp++
		}
		if ph {
			hp++
		}
	}
	n := float64(len(j))
	po := agree / n
	pj, ph := jp/n, hp/n
	pe := pj*ph + (1-pj)*(1-ph)
	a.PassAgreement = Num(po)
	a.Kappa = Num(math.NaN())
	if pe < 1 {
		a.Kappa = Num((po - pe) / (1 - pe))
	}
	return a, true
}

// threshold is the explicit pass threshold, or the midpoint of the metric's
// range when it is bounded, or 0.5 (scores normalized to 0..1).
func threshold(explicit *float64, info metric.Info) float64 {
	if explicit != nil {
		return *explicit
	}
	if info.Max > info.Min && !math.IsInf(info.Max, 0) && !math.IsInf(info.Min, 0) {
		return (info.Min + info.Max) / 2
	}
	return 0.5
}
