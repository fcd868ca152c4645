package optimize

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"

	"github.com/evalgate/evalgate/internal/gate"
	"github.com/evalgate/evalgate/internal/metric"
)

// Objective is how the best candidate is chosen on the dev part.
type Objective struct {
	// Metric is the primary metric.
	Metric string `json:"metric"`
	// Tolerance: candidates whose primary mean is this close to the best are
	// tied, and the cheaper (then the faster) wins.
	Tolerance float64 `json:"tolerance"`
	// Weights, when set, replace the rule above: the highest weighted sum of
	// metric and aggregate means wins.
	Weights map[string]float64 `json:"weights,omitempty"`
}

// DefaultTolerance treats primary means within 0.01 as tied.
const DefaultTolerance = 0.01

// String states the objective in words, for the report.
func (o Objective) String() string {
	if len(o.Weights) > 0 {
		var terms []string
		for _, k := range slices.Sorted(maps.Keys(o.Weights)) {
			terms = append(terms, fmt.Sprintf("%+g x %s", o.Weights[k], k))
		}
		return "highest weighted sum: " + fmt.Sprint(terms)
	}
	return fmt.Sprintf("best mean %s; within %g of the best, lowest cost_per_1k, then lowest latency_p95", o.Metric, o.Tolerance)
}

// Score is one candidate's showing on the dev part, against the control.
type Score struct {
	ID        string `json:"id"`
	Generator string `json:"generator"`
	// Primary is the candidate's mean of the primary metric with its
	// interval; Delta the paired difference from the control.
	Primary gate.Interval `json:"primary"`
	Delta   gate.Interval `json:"delta_vs_control"`
	// Direction of the primary metric.
	Direction metric.Direction `json:"direction"`
	// Metrics are every metric's comparison with the control.
	Metrics []gate.MetricComparison `json:"metrics"`
	// Operational means over the dev records (NaN when unknown).
	CostPer1K    gate.Num `json:"cost_per_1k"`
	CostUSD      gate.Num `json:"cost_usd"`
	LatencyP95   gate.Num `json:"latency_p95_ms"`
	InputTokens  gate.Num `json:"input_tokens"`
	OutputTokens gate.Num `json:"output_tokens"`
	ErrorRate    gate.Num `json:"error_rate"`
	Records      int      `json:"records"`
	// Value is what the objective ranks by (the primary mean, or the weighted sum).
	Value gate.Num `json:"objective"`
}

// Ranking is the outcome of selection on the dev part.
type Ranking struct {
	Control Score   `json:"control"`
	Scores  []Score `json:"candidates"`
	// Unranked are candidates the objective could not score on the dev
	// part (every call failed, say): shown, never chosen.
	Unranked []Dropped `json:"unranked,omitempty"`
	// Winner is the chosen candidate's id; Why says how it won.
	Winner string `json:"winner"`
	Why    string `json:"why"`
}

// Select ranks the candidates on the dev results file devPath, each against
// the control in the same file, by the objective. It reads devPath only:
// whatever it decides owes nothing to the held-out samples.
func Select(ctx context.Context, devPath string, control Candidate, cands []Candidate, cfg gate.Config, obj Objective) (*Ranking, error) {
	if len(cands) == 0 {
		return nil, fmt.Errorf("select: no candidate to rank")
	}
	// Selection compares, it does not gate: criteria would only add noise
	// (and Holm corrections) to numbers read for ranking.
	cfg.Criteria = nil
	r := &Ranking{}
	verdicts := make([]*gate.Verdict, len(cands))
	for i, c := range cands {
		v, err := gate.Compare(ctx, gate.Side{Path: devPath, Target: control.ID}, gate.Side{Path: devPath, Target: c.ID}, cfg)
		if err != nil {
			return nil, fmt.Errorf("select: compare %s with the control on the dev part: %w", c.ID, err)
		}
		verdicts[i] = v
	}
	// The control is read off the comparison with the most pairs: a
	// candidate whose calls the service failed leaves its samples out of
	// the pairs (and the control's with them), and must not leave the
	// control unscored.
	best := slices.MaxFunc(verdicts, func(a, b *gate.Verdict) int { return cmp.Compare(a.Evaluated, b.Evaluated) })
	var err error
	if r.Control, err = scoreOf(best, control, obj, true); err != nil {
		return nil, fmt.Errorf("select: the control: %w", err)
	}
	for i, c := range cands {
		s, err := scoreOf(verdicts[i], c, obj, false)
		if err != nil {
			r.Unranked = append(r.Unranked, Dropped{ID: c.ID, Generator: c.Generator, Reason: err.Error()})
			continue
		}
		r.Scores = append(r.Scores, s)
	}
	if len(r.Scores) == 0 {
		return r, fmt.Errorf("select: no candidate could be scored on the dev part (%s)", r.Unranked[0].Reason)
	}
	r.Winner, r.Why = choose(r.Scores, obj)
	sort.SliceStable(r.Scores, func(i, j int) bool { return better(r.Scores[i], r.Scores[j]) })
	return r, nil
}

// scoreOf reads one side of a verdict: the target (a candidate) or, with
// baseline, the control.
func scoreOf(v *gate.Verdict, c Candidate, obj Objective, baseline bool) (Score, error) {
	s := Score{ID: c.ID, Generator: c.Generator, Metrics: v.Metrics, Records: v.Target.Records}
	if baseline {
		s.Records, s.Metrics = v.Baseline.Records, nil
	}
	side := func(b, t gate.Interval) gate.Interval {
		if baseline {
			return b
		}
		return t
	}
	found := false
	for _, m := range v.Metrics {
		if m.Metric == obj.Metric {
			s.Primary, s.Direction, found = side(m.Baseline, m.Target), m.Direction, true
			if !baseline {
				s.Delta = m.Delta
			}
		}
	}
	agg := map[string]float64{}
	for _, a := range v.Aggregates {
		agg[a.Metric] = side(a.Baseline, a.Target).Est
	}
	get := func(name string) gate.Num {
		if x, ok := agg[name]; ok {
			return gate.Num(x)
		}
		return gate.Num(math.NaN())
	}
	s.CostPer1K, s.CostUSD, s.LatencyP95 = get("cost_per_1k"), get("cost_usd"), get("latency_p95")
	s.InputTokens, s.OutputTokens, s.ErrorRate = get("input_tokens"), get("output_tokens"), get("error_rate")
	if (!found || math.IsNaN(s.Primary.Est)) && len(obj.Weights) == 0 {
		why := "every call failed, or the metric does not score this target"
		if s.Records == 0 {
			// The gate leaves out records whose call the service failed:
			// nothing of this variant was evaluated, which is not a score.
			why = "none of its calls could be evaluated: the model service failed them (throttled past run.retry_throttled_for, unreachable, 5xx or timed out) or they were never made; see the error column of the dev results"
		}
		return s, fmt.Errorf("the primary metric %s was not scored for %s on the dev part (%s)", obj.Metric, c.ID, why)
	}
	if len(obj.Weights) == 0 {
		s.Value = gate.Num(s.Primary.Est)
		if s.Direction == metric.LowerIsBetter {
			s.Value = -s.Value
		}
		return s, nil
	}
	sum := 0.0
	for name, w := range obj.Weights {
		x, ok := agg[name]
		for _, m := range v.Metrics {
			if m.Metric == name {
				x, ok = side(m.Baseline, m.Target).Est, true
			}
		}
		if !ok || math.IsNaN(x) {
			return s, fmt.Errorf("objective weight on %s, but %s has no value for it on the dev part", name, c.ID)
		}
		sum += w * x
	}
	s.Value = gate.Num(sum)
	return s, nil
}

// better orders scores by the objective value, best first.
func better(a, b Score) bool { return a.Value > b.Value }

// choose applies the objective: the best value wins; without weights, ties
// within the tolerance go to the lowest cost, then the lowest latency, then
// the first candidate listed.
func choose(scores []Score, obj Objective) (string, string) {
	best := scores[0]
	for _, s := range scores[1:] {
		if s.Value > best.Value {
			best = s
		}
	}
	if len(obj.Weights) > 0 {
		return best.ID, fmt.Sprintf("highest weighted objective (%.4g)", float64(best.Value))
	}
	var tied []Score
	for _, s := range scores {
		if float64(best.Value-s.Value) <= obj.Tolerance {
			tied = append(tied, s)
		}
	}
	if len(tied) == 1 {
		return best.ID, fmt.Sprintf("best mean %s (%.4g)", obj.Metric, best.Primary.Est)
	}
	nanLast := func(x gate.Num) float64 {
		if math.IsNaN(float64(x)) {
			return math.Inf(1)
		}
		return float64(x)
	}
	w := slices.MinFunc(tied, func(a, b Score) int {
		return cmp.Or(cmp.Compare(nanLast(a.CostPer1K), nanLast(b.CostPer1K)), cmp.Compare(nanLast(a.LatencyP95), nanLast(b.LatencyP95)))
	})
	return w.ID, fmt.Sprintf("%d candidates within %g of the best mean %s; lowest cost_per_1k, then latency_p95, decided", len(tied), obj.Tolerance, obj.Metric)
}
