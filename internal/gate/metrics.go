package gate

import (
	"math"
	"slices"

	"github.com/evalgate/evalgate/internal/metric"
	"gonum.org/v1/gonum/stat"
)

// passThreshold splits a pass/fail metric's 0/1 scores (a stored 1 may have
// been through float formatting).
const passThreshold = 0.5

// metricNames is the union of both sides' metrics: the target's order first.
func metricNames(b, t *side) []string {
	var names []string
	seen := map[string]bool{}
	for _, h := range [][]metric.Info{t.header.Metrics, b.header.Metrics} {
		for _, m := range h {
			if !seen[m.Name] {
				seen[m.Name] = true
				names = append(names, m.Name)
			}
		}
	}
	return names
}

// scoredPairs returns the indices of pairs where both sides scored m, and the
// two sides' scores.
func (p *paired) scoredPairs(m string) (idx []int, bv, tv []float64) {
	bc, tc := p.b.column(m), p.t.column(m)
	n := 0
	for _, pr := range p.pairs {
		_, ok1 := scoreAt(bc, pr.b)
		_, ok2 := scoreAt(tc, pr.t)
		if ok1 && ok2 {
			n++
		}
	}
	if n == 0 {
		return nil, nil, nil
	}
	idx, bv, tv = make([]int, 0, n), make([]float64, 0, n), make([]float64, 0, n)
	for i, pr := range p.pairs {
		bs, ok1 := scoreAt(bc, pr.b)
		ts, ok2 := scoreAt(tc, pr.t)
		if ok1 && ok2 {
			idx = append(idx, i)
			bv = append(bv, bs)
			tv = append(tv, ts)
		}
	}
	return idx, bv, tv
}

// scoredAny reports whether any pair has a score for m on the baseline side
// and on the target side.
func (p *paired) scoredAny(m string) (b, t bool) {
	bc, tc := p.b.column(m), p.t.column(m)
	for _, pr := range p.pairs {
		if _, ok := scoreAt(bc, pr.b); ok {
			b = true
		}
		if _, ok := scoreAt(tc, pr.t); ok {
			t = true
		}
		if b && t {
			break
		}
	}
	return b, t
}

// oneSideScores returns the indices of pairs whose target (or baseline) has
// a score for m, and those scores.
func (p *paired) oneSideScores(m string, target bool) (idx []int, vals []float64) {
	s, rec := p.b, func(pr pair) int32 { return pr.b }
	if target {
		s, rec = p.t, func(pr pair) int32 { return pr.t }
	}
	col := s.column(m)
	for i, pr := range p.pairs {
		if x, ok := scoreAt(col, rec(pr)); ok {
			vals = append(vals, x)
			idx = append(idx, i)
		}
	}
	return idx, vals
}

// metricInf is the inference behind one metric's comparison, kept for the
// criteria. It holds no per-pair values (a suite of many metrics would keep
// them all through the comparison): the few checks that need them read them
// again (paired.scoredPairs).
type metricInf struct {
	info metric.Info
	// n pairs have the metric: on both sides, or on the one side that has
	// it. onB and onT say which sides have scores of it.
	n                 int
	onB, onT          bool
	base, targ, delta estimate
}

// metricSpan is the range a metric's score can take.
func metricSpan(info metric.Info) span { return span{info.Min, info.Max} }

// binary reports whether a metric's scores are pass/fail in fact: declared
// so, or a 0..1 score whose every value is 0 or 1 (a judge that only ever
// says yes or no, a score that is nearly always 1). Such data are counts,
// and a t interval on them fails where it matters most: one failure in 50
// gives a t interval that "shows" a mean above 0.94, which 6.5% failures
// produce one time in eight.
func binary(info metric.Info, xs ...[]float64) bool {
	if info.PassFail {
		return true
	}
	if info.Min != 0 || info.Max != 1 {
		return false
	}
	for _, x := range xs {
		for _, v := range x {
			if v != 0 && v != 1 {
				return false
			}
		}
	}
	return true
}

// levelEstimate infers one side's mean of a metric: the exact rate of a
// pass/fail metric, the t interval (with its range bound) of a score.
func levelEstimate(info metric.Info, x []float64, d design) estimate {
	if binary(info, x) {
		return proportionOf(x, d)
	}
	return meanEstimate(x, d, metricSpan(info), false)
}

// proportionOf is the pass rate of pass/fail scores.
func proportionOf(x []float64, d design) estimate {
	k := 0
	for _, v := range x {
		if v >= passThreshold {
			k++
		}
	}
	return proportionEstimate(k, len(x), d, passes(x))
}

// passes maps pass/fail scores to exact 0s and 1s.
func passes(x []float64) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		if v >= passThreshold {
			out[i] = 1
		}
	}
	return out
}

// compareMetrics compares every suite metric on the pairs scored on both
// sides.
func compareMetrics(p *paired, b, t *side, cfg Config) []MetricComparison {
	p.metrics = map[string]*metricInf{}
	var out []MetricComparison
	for _, name := range metricNames(b, t) {
		info, inB := b.metrics[name]
		ti, inT := t.metrics[name]
		if inT {
			info = ti
		}
		// A metric declared for both but scored for one side only (an
		// imported score of the source model's answers, restricted to it by
		// the suite) is a one-sided metric, not a pile of missing pairs.
		bAny, tAny := p.scoredAny(name)
		if inB && inT && !bAny && !tAny {
			// Scored on neither side: nothing to show or compare.
			p.unscored = append(p.unscored, name)
			continue
		}
		if inB && inT && bAny != tAny {
			inB, inT = bAny, tAny
		}
		mc := MetricComparison{Metric: name, Direction: info.Direction, PassFail: info.PassFail}
		if !inB || !inT {
			// Only one side has the metric: show its mean, compare nothing.
			s := "target"
			if !inT {
				s = "baseline"
			}
			idx, vals := p.oneSideScores(name, inT)
			in := levelEstimate(info, vals, p.d.subset(idx))
			iv := in.interval(cfg.Confidence)
			empty := Interval{Est: math.NaN(), Lo: math.NaN(), Hi: math.NaN()}
			mc.OneSide = s
			mc.Baseline, mc.Target, mc.Delta = empty, empty, empty
			if inT {
				mc.Target = iv
			} else {
				mc.Baseline = iv
			}
			mc.MDE = Num(math.NaN())
			mi := &metricInf{info: info, n: len(idx)}
			if inT {
				mi.onT, mi.targ = len(vals) > 0, in
			} else {
				mi.onB, mi.base = len(vals) > 0, in
			}
			p.metrics[name] = mi
			out = append(out, mc)
			continue
		}
		idx, bv, tv := p.scoredPairs(name)
		d := p.d.subset(idx)
		mi := &metricInf{info: info, n: len(idx), onB: len(idx) > 0, onT: len(idx) > 0}
		// Both sides are counts, or neither: the two means and their change
		// by one kind of method.
		if binary(info, bv, tv) {
			mi.base, mi.targ = proportionOf(bv, d), proportionOf(tv, d)
			var m McNemarResult
			pd := make([]float64, len(idx))
			for i := range idx {
				bp, tp := bv[i] >= passThreshold, tv[i] >= passThreshold
				switch {
				case tp && !bp:
					m.Improved++
					pd[i] = 1
				case bp && !tp:
					m.Regressed++
					pd[i] = -1
				default:
					m.Unchanged++
				}
			}
			m.P = Num(mcnemarExact(m.Improved, m.Regressed))
			mc.McNemar = &m
			mi.delta = pairedProportionEstimate(m.Improved, m.Regressed, len(idx), d, pd)
		} else {
			r := metricSpan(info)
			mi.base, mi.targ = meanEstimate(bv, d, r, false), meanEstimate(tv, d, r, false)
			if e, ok := twoLevelChange(bv, tv, d); ok && r.finite() {
				mi.delta = e
			} else {
				mi.delta = meanEstimate(diffs(bv, tv), d, r.diff(), true)
			}
		}
		p.metrics[name] = mi
		mc.N, mc.Missing = len(idx), len(p.pairs)-len(idx)
		mc.Baseline = mi.base.interval(cfg.Confidence)
		mc.Target = mi.targ.interval(cfg.Confidence)
		mc.Delta = mi.delta.interval(cfg.Confidence)
		mc.MDE = Num(mi.delta.mde((1 - cfg.Confidence) / 2))
		out = append(out, mc)
	}
	return out
}

// aggregateInfo describes the operational aggregates criteria may name
// (suite.AggregateMetrics): all of them are better lower.
var aggregateInfo = func() map[string]metric.Info {
	m := map[string]metric.Info{}
	for _, g := range aggregateGroups {
		for _, s := range g.stats {
			hi := math.Inf(1)
			if s.kind == aggRate {
				hi = 1
			}
			m[s.name] = metric.Info{Name: s.name, Min: 0, Max: hi, Direction: metric.LowerIsBetter}
		}
	}
	return m
}()

// aggKind is how an aggregate summarizes a group's values, which decides
// its interval.
type aggKind int

const (
	aggMean     aggKind = iota // a mean times scale: t, paired t, Fieller
	aggSum                     // a sum over the pairs: the mean times n
	aggQuantile                // a percentile: order statistics
	aggRate                    // a share of 0/1 values: Clopper-Pearson, Tango
)

// aggStat is one aggregate statistic of a group's values.
type aggStat struct {
	name, unit string
	kind       aggKind
	// scale multiplies a mean (1,000 for cost per 1,000 calls); q is a
	// percentile's level.
	scale, q float64
}

// aggGroup is a set of aggregates over the same per-record value.
type aggGroup struct {
	name string
	// value is record i's value, if it has one.
	value func(r *records, i int32) (float64, bool)
	stats []aggStat
}

func meanOf(x []float64) float64 {
	if len(x) == 0 {
		return math.NaN()
	}
	return stat.Mean(x, nil)
}

// callsPerCostUnit expresses cost per 1,000 calls, the unit pricing is
// compared in.
const callsPerCostUnit = 1000

// aggregateGroups are the operational aggregates. Failed calls are left out
// of cost, latency and tokens (their latency is a timeout, not the model's)
// and counted in the error rate.
var aggregateGroups = []aggGroup{
	{
		name:  "cost",
		value: func(r *records, i int32) (float64, bool) { return r.ops.cost[i], r.ops.hasCost[i] && !r.errored[i] },
		stats: []aggStat{
			{name: "cost_per_1k", unit: "USD", kind: aggMean, scale: callsPerCostUnit},
			{name: "cost_usd", unit: "USD", kind: aggSum},
		},
	},
	{
		name: "latency",
		value: func(r *records, i int32) (float64, bool) {
			return r.ops.latency[i], !r.errored[i] && r.ops.latency[i] > 0
		},
		stats: []aggStat{
			{name: "latency_mean", unit: "ms", kind: aggMean, scale: 1},
			{name: "latency_p50", unit: "ms", kind: aggQuantile, q: 0.50},
			{name: "latency_p95", unit: "ms", kind: aggQuantile, q: 0.95},
			{name: "latency_p99", unit: "ms", kind: aggQuantile, q: 0.99},
		},
	},
	{
		name:  "ttft",
		value: func(r *records, i int32) (float64, bool) { return r.ops.ttft[i], !r.errored[i] && r.ops.ttft[i] > 0 },
		stats: []aggStat{
			{name: "ttft_p50", unit: "ms", kind: aggQuantile, q: 0.50},
			{name: "ttft_p95", unit: "ms", kind: aggQuantile, q: 0.95},
		},
	},
	{
		name:  "input_tokens",
		value: func(r *records, i int32) (float64, bool) { return r.ops.inTok[i], !r.errored[i] },
		stats: []aggStat{{name: "input_tokens", unit: "tokens", kind: aggMean, scale: 1}},
	},
	{
		name:  "output_tokens",
		value: func(r *records, i int32) (float64, bool) { return r.ops.outTok[i], !r.errored[i] },
		stats: []aggStat{{name: "output_tokens", unit: "tokens", kind: aggMean, scale: 1}},
	},
	{
		name: "error_rate",
		value: func(r *records, i int32) (float64, bool) {
			if r.errored[i] {
				return 1, true
			}
			return 0, true
		},
		stats: []aggStat{{name: "error_rate", kind: aggRate}},
	},
}

// aggInf is the inference behind one aggregate, kept for the criteria.
type aggInf struct {
	base, targ, delta, ratio estimate
	n                        int
}

// compareAggregates compares cost, latency, tokens and the error rate on the
// pairs where both sides have the value: each side's statistic, the paired
// difference and the ratio, each with the interval of its kind. It is the
// only reader of the operational columns, and frees them: they are the
// largest part of a large comparison's memory.
func compareAggregates(p *paired, cfg Config) []AggregateResult {
	defer func() { p.b.recs.ops, p.t.recs.ops = operations{}, operations{} }()
	p.aggs = map[string]*aggInf{}
	var out []AggregateResult
	for _, g := range aggregateGroups {
		bv, tv, d := p.valuedPairs(g)
		n := len(bv)
		if n == 0 {
			continue
		}
		var sb, st []float64
		for _, s := range g.stats {
			ai := &aggInf{n: n}
			switch s.kind {
			case aggMean, aggSum:
				k := s.scale
				if s.kind == aggSum {
					k = float64(n)
				}
				unbounded := span{0, math.Inf(1)}
				ai.base = meanEstimate(bv, d, unbounded, false).scaled(k)
				ai.targ = meanEstimate(tv, d, unbounded, false).scaled(k)
				ai.delta = meanEstimate(diffs(bv, tv), d, unbounded.diff(), true).scaled(k)
				ai.ratio = ratioEstimate(bv, tv, d, unbounded)
			case aggQuantile:
				if sb == nil {
					// A group lists its percentiles last
					// (TestAggregateGroupsListPercentilesLast): the pairing
					// of the values is no longer needed, and they are
					// sorted in place.
					sb, st = bv, tv
					slices.Sort(sb)
					slices.Sort(st)
				}
				ai.base, ai.targ, ai.delta, ai.ratio = quantileEstimates(sb, st, s.q)
			case aggRate:
				kb, kt, targetOnly, baselineOnly := 0, 0, 0, 0
				pd := diffs(bv, tv)
				for i := range bv {
					kb += int(bv[i])
					kt += int(tv[i])
					switch {
					case pd[i] > 0:
						targetOnly++ // the target failed where the baseline did not
					case pd[i] < 0:
						baselineOnly++
					}
				}
				ai.base = proportionEstimate(kb, len(bv), d, bv)
				ai.targ = proportionEstimate(kt, len(tv), d, tv)
				ai.delta = pairedProportionEstimate(targetOnly, baselineOnly, len(bv), d, pd)
				ai.ratio = ratioEstimate(bv, tv, d, span{0, 1})
			}
			p.aggs[s.name] = ai
			out = append(out, AggregateResult{
				Metric: s.name, Unit: s.unit, N: n,
				Baseline: ai.base.interval(cfg.Confidence),
				Target:   ai.targ.interval(cfg.Confidence),
				Delta:    ai.delta.interval(cfg.Confidence),
				Ratio:    ai.ratio.interval(cfg.Confidence),
			})
		}
	}
	return out
}

// valuedPairs returns the two sides' values of a group on the pairs where
// both have one, and the design of those pairs.
func (p *paired) valuedPairs(g aggGroup) (bv, tv []float64, d design) {
	br, tr := &p.b.recs, &p.t.recs
	n := 0
	for _, pr := range p.pairs {
		_, ok1 := g.value(br, pr.b)
		_, ok2 := g.value(tr, pr.t)
		if ok1 && ok2 {
			n++
		}
	}
	if n == 0 {
		return nil, nil, design{}
	}
	// The pairs' indices are needed only to restrict the clusters.
	var idx []int
	if p.d.clustered() {
		idx = make([]int, 0, n)
	}
	bv, tv = make([]float64, 0, n), make([]float64, 0, n)
	for i, pr := range p.pairs {
		x, ok1 := g.value(br, pr.b)
		y, ok2 := g.value(tr, pr.t)
		if ok1 && ok2 {
			if idx != nil {
				idx = append(idx, i)
			}
			bv = append(bv, x)
			tv = append(tv, y)
		}
	}
	return bv, tv, p.d.subset(idx)
}

// diffs returns t[i] - b[i].
func diffs(b, t []float64) []float64 {
	out := make([]float64, len(b))
	for i := range b {
		out[i] = t[i] - b[i]
	}
	return out
}

// projectCost reads the cost per 1,000 calls and projects it to a month.
func projectCost(aggs []AggregateResult, monthly int) CostProjection {
	c := CostProjection{BaselinePer1K: Num(math.NaN()), TargetPer1K: Num(math.NaN()), MonthlyCalls: monthly}
	for _, a := range aggs {
		if a.Metric != "cost_per_1k" {
			continue
		}
		c.Known = true
		c.BaselinePer1K, c.TargetPer1K = Num(a.Baseline.Est), Num(a.Target.Est)
		if monthly > 0 {
			c.BaselineMonthly = Num(a.Baseline.Est * float64(monthly) / callsPerCostUnit)
			c.TargetMonthly = Num(a.Target.Est * float64(monthly) / callsPerCostUnit)
		}
	}
	return c
}

// flips counts, for each pass/fail metric run with repeats, how often each
// sample passed on each side and which samples flip between repeats.
// passCounts counts one sample's passes of a pass/fail metric over its
// repeats on each side: bp of bn on the baseline, tp of tn on the target.
type passCounts struct{ bp, bn, tp, tn int }

// addBaseline counts a baseline score, if there is one.
func (c *passCounts) addBaseline(s float64, ok bool) {
	if ok {
		c.bn++
		if s >= passThreshold {
			c.bp++
		}
	}
}

// addTarget counts a target score, if there is one.
func (c *passCounts) addTarget(s float64, ok bool) {
	if ok {
		c.tn++
		if s >= passThreshold {
			c.tp++
		}
	}
}

// flipping reports whether the sample's repeats disagree on each side.
func (c *passCounts) flipping() (baseline, target bool) {
	return c.bp > 0 && c.bp < c.bn, c.tp > 0 && c.tp < c.tn
}

func flips(p *paired, metrics []MetricComparison) []FlipStats {
	if p.repeats < 2 {
		return nil
	}
	var out []FlipStats
	for _, m := range metrics {
		if !m.PassFail || m.OneSide != "" {
			continue
		}
		// Pairs are sorted by sample: a sample's repeats are one run.
		counts := make([]passCounts, 0, len(p.samples))
		bc, tc := p.b.column(m.Metric), p.t.column(m.Metric)
		for i, pr := range p.pairs {
			if i == 0 || p.t.recs.sample[pr.t] != p.t.recs.sample[p.pairs[i-1].t] {
				counts = append(counts, passCounts{})
			}
			c := &counts[len(counts)-1]
			c.addBaseline(scoreAt(bc, pr.b))
			c.addTarget(scoreAt(tc, pr.t))
		}
		fs := FlipStats{Metric: m.Metric, Repeats: p.repeats,
			BaselinePassK: make([]int, p.repeats+1), TargetPassK: make([]int, p.repeats+1)}
		for j, id := range p.samples {
			c := &counts[j]
			fs.BaselinePassK[c.bp]++
			fs.TargetPassK[c.tp]++
			bf, tf := c.flipping()
			if bf {
				fs.BaselineFlipping++
			}
			if tf {
				fs.TargetFlipping++
			}
			if (bf || tf) && len(fs.Samples) < MaxListed {
				fs.Samples = append(fs.Samples, FlipSample{SampleID: id, BaselinePass: c.bp, BaselineN: c.bn, TargetPass: c.tp, TargetN: c.tn})
			}
		}
		out = append(out, fs)
	}
	return out
}
