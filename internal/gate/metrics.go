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
	for i, pr := range p.pairs {
		bs, ok1 := pr.b.scores[m]
		ts, ok2 := pr.t.scores[m]
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
	for _, pr := range p.pairs {
		if _, ok := pr.b.scores[m]; ok {
			b = true
		}
		if _, ok := pr.t.scores[m]; ok {
			t = true
		}
		if b && t {
			break
		}
	}
	return b, t
}

// metricInf is the inference behind one metric's comparison, kept for the
// criteria.
type metricInf struct {
	info              metric.Info
	idx               []int
	bv, tv            []float64
	d                 design
	base, targ, delta inference
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
			s, sv := "target", func(pr pair) *obs { return pr.t }
			if !inT {
				s, sv = "baseline", func(pr pair) *obs { return pr.b }
			}
			var vals []float64
			var idx []int
			for i, pr := range p.pairs {
				if x, ok := sv(pr).scores[name]; ok {
					vals = append(vals, x)
					idx = append(idx, i)
				}
			}
			in := meanInference(vals, p.d.subset(idx), cfg.Bootstrap, cfg.seedFor(s+"/"+name), false)
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
			p.metrics[name] = &metricInf{info: info, idx: idx, tv: vals, d: p.d.subset(idx), targ: in}
			out = append(out, mc)
			continue
		}
		idx, bv, tv := p.scoredPairs(name)
		d := p.d.subset(idx)
		delta := make([]float64, len(idx))
		for i := range idx {
			delta[i] = tv[i] - bv[i]
		}
		mi := &metricInf{
			info: info, idx: idx, bv: bv, tv: tv, d: d,
			base:  meanInference(bv, d, cfg.Bootstrap, cfg.seedFor("baseline/"+name), false),
			targ:  meanInference(tv, d, cfg.Bootstrap, cfg.seedFor("target/"+name), false),
			delta: meanInference(delta, d, cfg.Bootstrap, cfg.seedFor("delta/"+name), true),
		}
		p.metrics[name] = mi
		mc.N, mc.Missing = len(idx), len(p.pairs)-len(idx)
		mc.Baseline = mi.base.interval(cfg.Confidence)
		mc.Target = mi.targ.interval(cfg.Confidence)
		mc.Delta = mi.delta.interval(cfg.Confidence)
		mc.MDE = Num(mi.delta.mde(cfg.Confidence))
		if info.PassFail {
			var m McNemarResult
			for i := range idx {
				bp, tp := bv[i] >= passThreshold, tv[i] >= passThreshold
				switch {
				case tp && !bp:
					m.Improved++
				case bp && !tp:
					m.Regressed++
				default:
					m.Unchanged++
				}
			}
			m.P = Num(mcnemarExact(m.Improved, m.Regressed))
			mc.McNemar = &m
		}
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
			m[s.name] = metric.Info{Name: s.name, Min: 0, Max: math.Inf(1), Direction: metric.LowerIsBetter}
		}
	}
	return m
}()

// aggStat is one aggregate statistic of a group's values.
type aggStat struct {
	name, unit string
	// fn computes the statistic from the values, sorted ascending.
	fn func(sorted []float64) float64
}

// aggGroup is a set of aggregates over the same per-record value, so that
// one bootstrap (and one sort per replicate) serves them all.
type aggGroup struct {
	name  string
	value func(o *obs) (float64, bool)
	stats []aggStat
	// percentiles says a statistic needs the values sorted (means do not;
	// sorting every replicate is most of the bootstrap's cost).
	percentiles bool
}

func meanOf(x []float64) float64 {
	if len(x) == 0 {
		return math.NaN()
	}
	return stat.Mean(x, nil)
}

func pct(p float64) func([]float64) float64 {
	return func(x []float64) float64 { return quantile(x, p) }
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
		value: func(o *obs) (float64, bool) { return o.cost, o.hasCost && !o.errored },
		stats: []aggStat{
			{"cost_per_1k", "USD", func(x []float64) float64 { return meanOf(x) * callsPerCostUnit }},
			{"cost_usd", "USD", func(x []float64) float64 { return floatsSum(x) }},
		},
	},
	{
		name:        "latency",
		percentiles: true,
		value:       func(o *obs) (float64, bool) { return o.latency, !o.errored && o.latency > 0 },
		stats: []aggStat{
			{"latency_mean", "ms", meanOf},
			{"latency_p50", "ms", pct(0.50)},
			{"latency_p95", "ms", pct(0.95)},
			{"latency_p99", "ms", pct(0.99)},
		},
	},
	{
		name:        "ttft",
		percentiles: true,
		value:       func(o *obs) (float64, bool) { return o.ttft, !o.errored && o.ttft > 0 },
		stats: []aggStat{
			{"ttft_p50", "ms", pct(0.50)},
			{"ttft_p95", "ms", pct(0.95)},
		},
	},
	{
		name:  "input_tokens",
		value: func(o *obs) (float64, bool) { return o.inTok, !o.errored },
		stats: []aggStat{{"input_tokens", "tokens", meanOf}},
	},
	{
		name:  "output_tokens",
		value: func(o *obs) (float64, bool) { return o.outTok, !o.errored },
		stats: []aggStat{{"output_tokens", "tokens", meanOf}},
	},
	{
		name: "error_rate",
		value: func(o *obs) (float64, bool) {
			if o.errored {
				return 1, true
			}
			return 0, true
		},
		stats: []aggStat{{"error_rate", "", meanOf}},
	},
}

func floatsSum(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += v
	}
	return s
}

// aggInf is the bootstrap behind one aggregate, kept for the criteria.
type aggInf struct {
	base, targ, delta, ratio inference
	n                        int
}

// compareAggregates compares cost, latency, tokens and the error rate with a
// paired bootstrap (whole clusters when clustered) of each statistic, its
// difference and its ratio.
func compareAggregates(p *paired, cfg Config) []AggregateResult {
	p.aggs = map[string]*aggInf{}
	var out []AggregateResult
	for _, g := range aggregateGroups {
		var idx []int
		var bv, tv []float64
		for i, pr := range p.pairs {
			x, ok1 := g.value(pr.b)
			y, ok2 := g.value(pr.t)
			if ok1 && ok2 {
				idx = append(idx, i)
				bv = append(bv, x)
				tv = append(tv, y)
			}
		}
		if len(idx) == 0 {
			continue
		}
		d := p.d.subset(idx)
		k := len(g.stats)
		sb, st := slices.Clone(bv), slices.Clone(tv)
		slices.Sort(sb)
		slices.Sort(st)
		var reps [][]float64
		if len(idx) >= 2 {
			rb, rt := make([]float64, 0, len(idx)), make([]float64, 0, len(idx))
			reps = bootstrap(len(idx), d, cfg.Bootstrap, cfg.seedFor("aggregate/"+g.name), 4*k, func(ix []int, o []float64) {
				rb, rt = rb[:0], rt[:0]
				for _, i := range ix {
					rb = append(rb, bv[i])
					rt = append(rt, tv[i])
				}
				if g.percentiles {
					slices.Sort(rb)
					slices.Sort(rt)
				}
				for j, s := range g.stats {
					x, y := s.fn(rb), s.fn(rt)
					o[4*j], o[4*j+1], o[4*j+2], o[4*j+3] = x, y, y-x, y/x
				}
			})
		}
		method := MethodBootstrap
		if d.clustered() {
			method = MethodClusterBoot
		}
		for j, s := range g.stats {
			x, y := s.fn(sb), s.fn(st)
			ai := &aggInf{n: len(idx)}
			mk := func(est float64, r int) inference {
				in := inference{est: est, se: math.NaN(), method: method, n: len(idx), units: d.units(len(idx))}
				if reps != nil && len(reps[r]) > 1 {
					in.boot = reps[r]
					in.se = stat.StdDev(in.boot, nil)
				}
				return in
			}
			ai.base, ai.targ = mk(x, 4*j), mk(y, 4*j+1)
			ai.delta, ai.ratio = mk(y-x, 4*j+2), mk(y/x, 4*j+3)
			p.aggs[s.name] = ai
			out = append(out, AggregateResult{
				Metric: s.name, Unit: s.unit, N: len(idx),
				Baseline: ai.base.interval(cfg.Confidence),
				Target:   ai.targ.interval(cfg.Confidence),
				Delta:    ai.delta.interval(cfg.Confidence),
				Ratio:    ai.ratio.interval(cfg.Confidence),
			})
		}
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
func flips(p *paired, metrics []MetricComparison) []FlipStats {
	if p.repeats < 2 {
		return nil
	}
	var out []FlipStats
	for _, m := range metrics {
		if !m.PassFail || m.OneSide != "" {
			continue
		}
		type kn struct{ bp, bn, tp, tn int }
		counts := map[string]*kn{}
		for _, pr := range p.pairs {
			c := counts[pr.sample]
			if c == nil {
				c = &kn{}
				counts[pr.sample] = c
			}
			if s, ok := pr.b.scores[m.Metric]; ok {
				c.bn++
				if s >= passThreshold {
					c.bp++
				}
			}
			if s, ok := pr.t.scores[m.Metric]; ok {
				c.tn++
				if s >= passThreshold {
					c.tp++
				}
			}
		}
		fs := FlipStats{Metric: m.Metric, Repeats: p.repeats,
			BaselinePassK: make([]int, p.repeats+1), TargetPassK: make([]int, p.repeats+1)}
		for _, id := range p.samples {
			c := counts[id]
			fs.BaselinePassK[c.bp]++
			fs.TargetPassK[c.tp]++
			bf, tf := c.bp > 0 && c.bp < c.bn, c.tp > 0 && c.tp < c.tn
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
