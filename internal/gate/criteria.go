package gate

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/evalgate/evalgate/internal/metric"
	"github.com/evalgate/evalgate/internal/suite"
)

// How a check is decided (documented in the README):
//
// Each check tests an estimate against a limit with one-sided tests at level
// α = (1 - confidence)/2, which is exactly "the two-sided interval at the
// confidence level lies entirely on one side of the limit", so the status can
// be read off the interval the report prints.
//
//   - regression: fail when the estimate is significantly beyond the limit on
//     the bad side (Holm-adjusted p < α). Otherwise pass, except that it is
//     inconclusive when the point estimate is beyond the limit and the suite
//     is too small to tell (the minimum detectable effect exceeds the margin,
//     or significance was lost to Holm's correction). A non-significant dip
//     on a well-powered suite is noise and passes quietly: a gate that warns
//     on noise is switched off as surely as one that fails on it.
//   - non_inferiority: pass when the estimate is significantly within the
//     limit (p < α); fail when it is significantly beyond; else inconclusive.
//
// Holm's correction applies to the regression-mode checks of one verdict:
// the verdict fails when any of them rejects, so their family-wise error must
// be controlled. Non-inferiority checks are not adjusted: the verdict passes
// only when every one of them rejects (an intersection-union test, Berger
// 1982), which controls the error at α without correction.

// check is a criterion check being decided.
type check struct {
	res CriterionResult
	// pBad is the p-value for "beyond the limit on the bad side", pGood for
	// "within the limit"; beyond says the point estimate is on the bad side.
	pBad, pGood float64
	beyond      bool
	// margin is the allowed change on the estimate's scale (0 for floors
	// and error rates, which have no margin to compare the MDE with).
	margin float64
	// noMargin marks checks without a margin (floors, error rates) whose
	// estimate beyond the limit is worth a warning when not significant.
	noMargin bool
	done     bool
}

func (c *check) settle(s CriterionStatus, format string, args ...any) {
	c.res.Status, c.res.Reason, c.done = s, fmt.Sprintf(format, args...), true
}

// checkCriteria checks every criterion on the paired set.
func checkCriteria(p *paired, b, t *side, v *Verdict, cfg Config) []CriterionResult {
	var checks []*check
	for _, c := range cfg.Criteria {
		checks = append(checks, criterionChecks(c, p, b, t, v, cfg)...)
	}
	alpha := (1 - cfg.Confidence) / 2
	// Holm across the regression-mode checks that produced a p-value.
	var fam []float64
	var famIdx []int
	for i, c := range checks {
		c.res.P, c.res.PAdjusted = Num(math.NaN()), Num(math.NaN())
		if c.done {
			continue
		}
		if c.res.Mode == ModeRegression {
			c.res.P = Num(c.pBad)
			fam = append(fam, c.pBad)
			famIdx = append(famIdx, i)
		} else {
			c.res.P, c.res.PAdjusted = Num(c.pGood), Num(c.pGood)
		}
	}
	for j, a := range holm(fam) {
		checks[famIdx[j]].res.PAdjusted = Num(a)
	}
	out := make([]CriterionResult, 0, len(checks))
	for _, c := range checks {
		if !c.done {
			decide(c, alpha, len(fam), cfg.Confidence)
		}
		out = append(out, c.res)
	}
	return out
}

// decide sets a check's status from its p-values (see the comment at the top
// of this file).
func decide(c *check, alpha float64, family int, conf float64) {
	r := &c.res
	est := describeEstimate(r.Estimate, r.Scale)
	lim := describeLimit(float64(r.Limit), r.Scale)
	level := fmt.Sprintf("%.0f%%", conf*100)
	switch r.Mode {
	case ModeRegression:
		padj := float64(r.PAdjusted)
		switch {
		case padj < alpha:
			c.settle(CheckFail, "%s is significantly beyond the limit %s (p = %s%s)", est, lim, fmtP(float64(r.P)), holmNote(padj, family))
		case c.beyond && float64(r.P) < alpha:
			c.settle(CheckInconclusive, "%s is beyond the limit %s with p = %s, but not after Holm's correction across %d checks (p = %s)", est, lim, fmtP(float64(r.P)), family, fmtP(padj))
		case c.beyond && (c.margin > 0 && float64(r.MDE) > c.margin || c.margin == 0 && c.noMargin):
			c.settle(CheckInconclusive, "%s is beyond the limit %s, but not significantly at %s (p = %s): the suite is too small to tell a regression from noise", est, lim, level, fmtP(float64(r.P)))
		default:
			c.settle(CheckPass, "%s: no significant move beyond the limit %s", est, lim)
		}
	default:
		switch {
		case c.pGood < alpha:
			c.settle(CheckPass, "%s is shown within the limit %s (p = %s)", est, lim, fmtP(c.pGood))
		case c.pBad < alpha:
			c.settle(CheckFail, "%s is significantly beyond the limit %s (p = %s)", est, lim, fmtP(c.pBad))
		default:
			c.settle(CheckInconclusive, "%s: the %s interval crosses the limit %s, so the data does not show it within (p = %s)", est, level, lim, fmtP(c.pGood))
		}
	}
	if c.margin > 0 && float64(r.MDE) > c.margin {
		r.Underpowered = true
		r.Reason += fmt.Sprintf("; the suite is too small for this margin: it detects a move of %s beyond the limit with 80%% power, more than the margin %s", describeLimit(float64(r.MDE), scaleMagnitude(r.Scale)), describeLimit(c.margin, scaleMagnitude(r.Scale)))
	}
}

func holmNote(padj float64, family int) string {
	if family < 2 {
		return ""
	}
	return fmt.Sprintf(", %s after Holm's correction across %d checks", fmtP(padj), family)
}

// scaleMagnitude is the scale of a distance (not a position) on scale s.
func scaleMagnitude(s string) string {
	if s == "relative" {
		return "relative-distance"
	}
	return "distance"
}

func fmtP(p float64) string {
	switch {
	case math.IsNaN(p):
		return "n/a"
	case p < 0.001:
		return "<0.001"
	}
	return fmt.Sprintf("%.3f", p)
}

func describeEstimate(iv Interval, scale string) string {
	f := func(x float64) string { return describeLimit(x, scale) }
	name := map[string]string{"delta": "the change", "relative": "the relative change", "value": "the target's value"}[scale]
	if !iv.Bounded() {
		return fmt.Sprintf("%s %s (no interval)", name, f(iv.Est))
	}
	return fmt.Sprintf("%s %s [%s, %s]", name, f(iv.Est), f(iv.Lo), f(iv.Hi))
}

// describeLimit formats a number on a scale: relative ones as signed percents.
func describeLimit(x float64, scale string) string {
	switch scale {
	case "relative":
		return fmt.Sprintf("%+.1f%%", x*100)
	case "relative-distance":
		return fmt.Sprintf("%.1f%%", x*100)
	case "delta":
		return fmt.Sprintf("%+.4g", x)
	}
	return fmt.Sprintf("%.4g", x)
}

// criterionChecks turns one criterion into its checks (one per bound).
func criterionChecks(c suite.Criterion, p *paired, b, t *side, v *Verdict, cfg Config) []*check {
	mode := Mode(c.Mode)
	if mode == "" {
		mode = cfg.Mode
	}
	sev := Severity(c.Severity)
	if sev == "" {
		sev = SeverityFail
	}
	base := CriterionResult{Metric: c.Metric, Mode: mode, Severity: sev,
		Baseline: Num(math.NaN()), Target: Num(math.NaN()), Limit: Num(math.NaN()), MDE: Num(math.NaN()),
		Estimate: Interval{Est: math.NaN(), Lo: math.NaN(), Hi: math.NaN()}}
	fail := func(kind, format string, args ...any) []*check {
		k := &check{res: base}
		k.res.Check = kind
		k.settle(CheckError, format, args...)
		return []*check{k}
	}
	switch {
	case mode != ModeRegression && mode != ModeNonInferiority:
		return fail("mode", "mode %q: want %q or %q", mode, ModeRegression, ModeNonInferiority)
	case sev != SeverityFail && sev != SeverityWarn:
		return fail("severity", "severity %q: want %q or %q", sev, SeverityFail, SeverityWarn)
	case c.Min == nil && c.MaxDrop == nil && c.MaxIncrease == nil && c.MaxErrorRate == nil:
		return fail("none", "the criterion sets no bound: give min, max_drop, max_increase or max_error_rate")
	}
	info, known := v.metricInfo[c.Metric]
	if !known {
		return fail(firstBound(c), "metric %q is in neither results file (baseline: %s; target: %s; aggregates: %s)",
			c.Metric, names(b.metrics), names(t.metrics), strings.Join(suite.AggregateMetrics, ", "))
	}
	var out []*check
	add := func(kind string, f func(k *check)) {
		k := &check{res: base}
		k.res.Check = kind
		f(k)
		out = append(out, k)
	}
	if c.Min != nil {
		add("min", func(k *check) { checkFloor(k, *c.Min, info, p, cfg) })
	}
	if c.MaxDrop != nil {
		add("max_drop", func(k *check) { checkChange(k, *c.MaxDrop, info, p, cfg) })
	}
	if c.MaxIncrease != nil {
		add("max_increase", func(k *check) {
			if info.Direction == metric.HigherIsBetter {
				k.settle(CheckError, "max_increase bounds how much a lower-is-better metric may grow, and %s is better higher: use max_drop", c.Metric)
				return
			}
			checkChange(k, *c.MaxIncrease, info, p, cfg)
		})
	}
	if c.MaxErrorRate != nil {
		add("max_error_rate", func(k *check) { checkErrorRate(k, *c.MaxErrorRate, p, cfg) })
	}
	return out
}

func firstBound(c suite.Criterion) string {
	switch {
	case c.Min != nil:
		return "min"
	case c.MaxDrop != nil:
		return "max_drop"
	case c.MaxIncrease != nil:
		return "max_increase"
	}
	return "max_error_rate"
}

func names(m map[string]metric.Info) string {
	var n []string
	for k := range m {
		n = append(n, k)
	}
	if len(n) == 0 {
		return "none"
	}
	sort.Strings(n)
	return strings.Join(n, ", ")
}

// checkFloor tests the target's mean against an absolute floor.
func checkFloor(k *check, floor float64, info metric.Info, p *paired, cfg Config) {
	r := &k.res
	r.Bound, r.Scale, r.Limit = fmt.Sprintf("≥ %.4g", floor), "value", Num(floor)
	if info.Direction == metric.LowerIsBetter {
		k.settle(CheckError, "min is a floor for a higher-is-better metric, and %s is better lower: bound it with max_increase", info.Name)
		return
	}
	if _, agg := aggregateInfo[info.Name]; agg {
		k.settle(CheckError, "min applies to scored metrics, not to the aggregate %s", info.Name)
		return
	}
	var vals []float64
	var idx []int
	for i, pr := range p.pairs {
		if x, ok := pr.t.scores[info.Name]; ok {
			vals, idx = append(vals, x), append(idx, i)
		}
	}
	if mi := p.metrics[info.Name]; mi != nil && len(mi.bv) > 0 {
		r.Baseline = Num(mi.base.est)
	}
	if len(vals) == 0 {
		k.settle(CheckInconclusive, "no paired target record has a score for %s", info.Name)
		return
	}
	in := meanInference(vals, p.d.subset(idx), cfg.Bootstrap, cfg.seedFor("floor/"+info.Name), false)
	r.Target = Num(in.est)
	r.Estimate = in.interval(cfg.Confidence)
	r.MDE = Num(in.mde(cfg.Confidence))
	k.pBad, k.pGood = in.pBelow(floor), in.pAbove(floor)
	k.beyond, k.noMargin = in.est < floor, true
	if math.IsNaN(k.pBad) {
		k.settle(CheckInconclusive, "too few target scores for %s (%d) to bound the mean", info.Name, len(vals))
	}
}

// checkChange tests the change from baseline to target against an allowed
// worsening: a drop for higher-is-better metrics, an increase for
// lower-is-better ones (cost, latency), absolute or relative.
func checkChange(k *check, m suite.Margin, info metric.Info, p *paired, cfg Config) {
	r := &k.res
	higher := info.Direction != metric.LowerIsBetter
	word := "increase"
	if higher {
		word = "drop"
	}
	if m.Relative {
		r.Bound = fmt.Sprintf("%s ≤ %.4g%%", word, m.Value*100)
	} else {
		r.Bound = fmt.Sprintf("%s ≤ %.4g", word, m.Value)
	}
	if m.Value < 0 || math.IsNaN(m.Value) {
		k.settle(CheckError, "a margin cannot be negative (%v)", m.Value)
		return
	}
	// sign turns an allowed worsening into a limit on target - baseline (or
	// on the relative change): below -margin is bad for higher-is-better.
	sign := 1.0
	if higher {
		sign = -1
	}
	var in inference
	if ai, agg := p.aggs[info.Name]; agg {
		r.Baseline, r.Target = Num(ai.base.est), Num(ai.targ.est)
		in = ai.delta
		if m.Relative {
			in = shift(ai.ratio, -1)
		}
	} else if _, isAgg := aggregateInfo[info.Name]; isAgg {
		k.settle(CheckInconclusive, "no pair has %s on both sides (unknown price, or no successful call)", info.Name)
		return
	} else {
		mi := p.metrics[info.Name]
		switch {
		case mi == nil:
			k.settle(CheckInconclusive, "no pair has %s on both sides", info.Name)
			return
		case mi.bv == nil && mi.tv != nil:
			k.settle(CheckInconclusive, "only the target has %s: there is no baseline to compare with", info.Name)
			return
		case mi.bv == nil:
			k.settle(CheckInconclusive, "only the baseline has %s: the target was not scored on it", info.Name)
			return
		case len(mi.idx) == 0:
			k.settle(CheckInconclusive, "no pair has %s scored on both sides (%d pairs, all missing a score on one side)", info.Name, len(p.pairs))
			return
		}
		r.Baseline, r.Target = Num(mi.base.est), Num(mi.targ.est)
		in = mi.delta
		if m.Relative {
			in = relativeChange(mi, cfg)
		}
		if info.PassFail && !m.Relative && m.Value == 0 && !mi.d.clustered() {
			// With no margin and independent pairs, McNemar's exact test on
			// the discordant pairs is the exact test of "the target
			// regresses more samples than it improves".
			k.pBad, k.pGood = mcnemarOneSided(mi, higher)
			r.Estimate = in.interval(cfg.Confidence)
			r.Estimate.Method = MethodMcNemar
			r.Scale, r.Limit = "delta", Num(0)
			r.MDE = Num(in.mde(cfg.Confidence))
			k.beyond = sign*in.est > 0
			return
		}
	}
	r.Scale = "delta"
	if m.Relative {
		r.Scale = "relative"
	}
	limit := sign * m.Value
	r.Limit = Num(limit)
	r.Estimate = in.interval(cfg.Confidence)
	r.MDE = Num(in.mde(cfg.Confidence))
	k.margin = m.Value
	if math.IsNaN(in.est) {
		k.settle(CheckInconclusive, "the relative change of %s is undefined (the baseline's value is 0)", info.Name)
		return
	}
	if higher {
		k.pBad, k.pGood = in.pBelow(limit), in.pAbove(limit)
		k.beyond = in.est < limit
	} else {
		k.pBad, k.pGood = in.pAbove(limit), in.pBelow(limit)
		k.beyond = in.est > limit
	}
	if math.IsNaN(k.pBad) {
		k.settle(CheckInconclusive, "too few pairs (%d) to bound the change of %s", in.n, info.Name)
	}
}

// shift moves an inference by c (a ratio to a relative change).
func shift(in inference, c float64) inference {
	in.est += c
	if in.boot != nil {
		b := make([]float64, len(in.boot))
		for i, x := range in.boot {
			b[i] = x + c
		}
		in.boot = b
	}
	return in
}

// relativeChange bootstraps mean(target)/mean(baseline) - 1 over the pairs
// (whole clusters when clustered).
func relativeChange(mi *metricInf, cfg Config) inference {
	n := len(mi.bv)
	in := inference{est: math.NaN(), se: math.NaN(), n: n, units: mi.d.units(n), method: MethodBootstrap}
	if mi.d.clustered() {
		in.method = MethodClusterBoot
	}
	mb := meanOf(mi.bv)
	if mb == 0 || n == 0 {
		return in
	}
	in.est = meanOf(mi.tv)/mb - 1
	if n < 2 {
		return in
	}
	reps := bootstrap(n, mi.d, cfg.Bootstrap, cfg.seedFor("ratio/"+mi.info.Name), 1, func(idx []int, o []float64) {
		var sb, st float64
		for _, i := range idx {
			sb += mi.bv[i]
			st += mi.tv[i]
		}
		o[0] = st/sb - 1
	})
	in.boot = reps[0]
	if len(in.boot) > 1 {
		in.se = stdDev(in.boot)
	}
	return in
}

func stdDev(x []float64) float64 {
	m := meanOf(x)
	s := 0.0
	for _, v := range x {
		s += (v - m) * (v - m)
	}
	return math.Sqrt(s / float64(len(x)-1))
}

// mcnemarOneSided returns the exact one-sided p-values for "more samples
// regressed than improved" (bad) and the reverse (good).
func mcnemarOneSided(mi *metricInf, higher bool) (pBad, pGood float64) {
	improved, regressed := 0, 0
	for i := range mi.bv {
		bp, tp := mi.bv[i] >= passThreshold, mi.tv[i] >= passThreshold
		if !higher {
			// A lower-is-better pass/fail metric (a failure flag): a 1 is bad.
			bp, tp = !bp, !tp
		}
		switch {
		case tp && !bp:
			improved++
		case bp && !tp:
			regressed++
		}
	}
	return mcnemarRegressed(improved, regressed), mcnemarRegressed(regressed, improved)
}

// checkErrorRate tests the share of the target's paired records that failed
// against a maximum. On error_rate (or an aggregate) that is the share of
// failed calls; on a scored metric, the share of records the metric could not
// score (a failed call or a score error). Independent records get the exact
// binomial test and the Clopper-Pearson interval; clustered ones the
// cluster-robust t.
func checkErrorRate(k *check, maxRate float64, p *paired, cfg Config) {
	r := &k.res
	name := r.Metric
	r.Bound, r.Scale, r.Limit = fmt.Sprintf("error rate ≤ %.4g%%", maxRate*100), "value", Num(maxRate)
	if maxRate < 0 || maxRate > 1 || math.IsNaN(maxRate) {
		k.settle(CheckError, "max_error_rate %v: want a share between 0 and 1", maxRate)
		return
	}
	_, agg := aggregateInfo[name]
	failed := func(o *obs) bool {
		if agg {
			return o.errored
		}
		_, ok := o.scores[name]
		return !ok
	}
	n := len(p.pairs)
	if n == 0 {
		k.settle(CheckInconclusive, "no pairs")
		return
	}
	x := make([]float64, n)
	nb, nt := 0, 0
	for i, pr := range p.pairs {
		if failed(pr.t) {
			x[i] = 1
			nt++
		}
		if failed(pr.b) {
			nb++
		}
	}
	r.Baseline, r.Target = Num(float64(nb)/float64(n)), Num(float64(nt)/float64(n))
	k.beyond, k.noMargin = float64(nt)/float64(n) > maxRate, true
	if p.d.clustered() {
		in := meanInference(x, p.d, cfg.Bootstrap, cfg.seedFor("errors/"+name), false)
		r.Estimate = in.interval(cfg.Confidence)
		r.MDE = Num(in.mde(cfg.Confidence))
		k.pBad, k.pGood = in.pAbove(maxRate), in.pBelow(maxRate)
		if math.IsNaN(k.pBad) {
			k.settle(CheckInconclusive, "too few clusters (%d) to bound the error rate", p.d.g)
		}
		return
	}
	lo, hi := clopperPearson(nt, n, cfg.Confidence)
	r.Estimate = Interval{Est: float64(nt) / float64(n), Lo: lo, Hi: hi, Method: MethodExact, N: n}
	switch maxRate {
	case 0:
		// A zero maximum is broken by the first failure, with certainty.
		k.pBad, k.pGood = 0, 1
		if nt == 0 {
			k.pBad, k.pGood = 1, 0
		}
	case 1:
		k.pBad, k.pGood = 1, 0
	default:
		k.pBad, k.pGood = binomGreater(nt, n, maxRate), binomLess(nt, n, maxRate)
	}
}
