package gate

import (
	"slices"

	"github.com/evalgate/evalgate/internal/metric"
)

// PairKey names one pair: a sample and a repeat.
type PairKey struct {
	SampleID string
	Repeat   int
}

// PairScores is a metric scored on pairs rather than on records: a pairwise
// preference, judged after the run with both answers side by side. Each
// pair's score is the target's (1 the target is preferred, 0 the baseline,
// 0.5 a tie); the baseline is given 1 - score. The target's mean is then its
// win rate with ties counting half, the delta is 2 x win rate - 1, and every
// criterion, statistic and interval applies as to any other metric.
type PairScores struct {
	Info   metric.Info
	Scores map[PairKey]float64
}

// injectPairScores adds pair-scored metrics to both sides' records. A pair
// the judge could not decide has no score: it is missing, not a tie.
func injectPairScores(b, t *side, all []PairScores) {
	for _, ps := range all {
		name := ps.Info.Name
		for _, s := range []*side{b, t} {
			if !slices.ContainsFunc(s.header.Metrics, func(i metric.Info) bool { return i.Name == name }) {
				s.header.Metrics = append(s.header.Metrics, ps.Info)
			}
			s.metrics[name] = ps.Info
		}
		for k, score := range ps.Scores {
			id, ok := t.samples.find(k.SampleID)
			if !ok || int(int32(k.Repeat)) != k.Repeat {
				continue
			}
			kk := recKey{id, int32(k.Repeat)}
			ib, okb := b.find(kk)
			it, okt := t.find(kk)
			if !okb || !okt || b.recs.errored[ib] || t.recs.errored[it] {
				continue
			}
			t.setScore(it, name, score)
			b.setScore(ib, name, 1-score)
		}
	}
}
