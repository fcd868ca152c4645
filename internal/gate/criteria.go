package gate

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/evalgate/evalgate/internal/metric"
	"github.com/evalgate/evalgate/internal/suite"
)

// How a check is decided (documented in the README; STATISTICS.md):
//
// Each check has an estimate, a limit and a bad side. The estimate's interval
// is computed at a one-sided level a (each side holds with probability 1-a;
// a = (1 - confidence)/2 unless Holm's correction lowers it), and the status
// is read off that interval, which is the one the report prints (where the
// estimate has an exact test of its own, pass/fail changes, the interval
// is first kept from claiming more at the limit than that test shows there:
// testedAtLimit):
//
//   - regression: regressed when the whole interval is past the limit;
//     inconclusive when the point estimate is past it but the interval is
//     not (a dip the suite is too small to tell from noise is not a pass);
//     otherwise pass, marked underpowered when the suite cannot detect a
//     move of the margin's size;
//   - non_inferiority: pass only when the whole interval is on the good side
//     of the limit; regressed when it is wholly past it; else inconclusive.
//
// A check whose estimate the data cannot bound (one pair, one cluster, a
// constant unbounded value) is inconclusive in either mode, with the reason.
//
// Holm's correction applies to the regression-mode checks of one verdict:
// the verdict fails when any of them rejects, so their family-wise error must
// be controlled. It is applied to the intervals' level: the checks are taken
// in order of their p-values, the k-th (from 0) of m at level a/(m-k) while
// every earlier one rejected, and every later one at the level where the
// sequence stopped, so that each printed interval agrees with its status.
// At a sequential run's look the k-th is decided at the look's level in the
// design at α/(m-k) (Config.levelAt): a true check then falsely fails at
// some look with probability at most α/(m-k) ≤ α/m₀ (m₀ true ones), so the
// family's α holds over all the looks.
// Non-inferiority checks are not adjusted: the verdict passes only when every
// one of them passes (an intersection-union test, Berger 1982), which
// controls the error at a without correction.

// check is a criterion check being decided.
type check struct {
	res CriterionResult
	// est is what is tested against limit; higher says the bad side is
	// below the limit (a drop of a higher-is-better metric, a floor),
	// otherwise above it (an increase, an error rate).
	est    estimate
	limit  float64
	higher bool
	// margin is the allowed change on the estimate's scale (0 for floors
	// and error rates, which have no margin to compare the MDE with).
	margin float64
	// pBad is the p-value for "beyond the limit", pGood for "within it".
	pBad, pGood float64
	done        bool
}

func (c *check) settle(s CriterionStatus, format string, args ...any) {
	c.res.Status, c.res.Reason, c.done = s, fmt.Sprintf(format, args...), true
}

// beyond reports whether the point estimate is on the bad side of the limit.
func (c *check) beyond() bool {
	if c.higher {
		return c.est.est < c.limit
	}
	return c.est.est > c.limit
}

// pValues sets the check's p-values at its limit.
func (c *check) pValues() {
	if c.higher {
		c.pBad, c.pGood = c.est.pBelow(c.limit), c.est.pAbove(c.limit)
	} else {
		c.pBad, c.pGood = c.est.pAbove(c.limit), c.est.pBelow(c.limit)
	}
}

// test records what a check tests; the criterion functions call it once they
// have the estimate.
func (c *check) test(e estimate, limit float64, higher bool, margin float64) {
	c.est, c.limit, c.higher, c.margin = e, limit, higher, margin
	c.res.Limit = Num(limit)
}

// checkCriteria checks every criterion on the paired set.
func checkCriteria(p *paired, b, t *side, v *Verdict, cfg Config) []CriterionResult {
	var checks []*check
	for _, c := range cfg.Criteria {
		checks = append(checks, criterionChecks(c, p, b, t, v, cfg)...)
	}
	alpha := (1 - cfg.Confidence) / 2
	level := make([]float64, len(checks))
	// The p-values, and Holm's family of regression-mode checks.
	var fam []int
	for i, c := range checks {
		c.res.P, c.res.PAdjusted = Num(math.NaN()), Num(math.NaN())
		level[i] = alpha
		if c.done {
			continue
		}
		if !c.est.bounded() {
			c.res.Estimate = c.est.intervalAt(alpha)
			c.res.MDE = Num(math.NaN())
			c.res.Underpowered = true
			// Several units whose values do not vary (a replayed cassette's
			// cost on both sides) show no move at all: in regression mode
			// that is no evidence of a regression. One pair or one cluster
			// shows nothing, and non-inferiority needs an interval.
			if c.res.Mode == suite.ModeRegression && c.est.units >= 2 && !c.beyond() && !math.IsNaN(c.est.est) {
				c.settle(CheckPass, "%s: no move past the limit %s, but no interval either, because %s", describeEstimate(c.res.Estimate, c.res.Scale), describeLimit(c.limit, c.res.Scale), c.est.why)
				continue
			}
			c.settle(CheckInconclusive, "%s: no interval, because %s", describeEstimate(c.res.Estimate, c.res.Scale), c.est.why)
			continue
		}
		c.pValues()
		if c.res.Mode == suite.ModeRegression {
			c.res.P = Num(c.pBad)
			fam = append(fam, i)
		} else {
			c.res.P, c.res.PAdjusted = Num(c.pGood), Num(c.pGood)
		}
	}
	ps := make([]float64, len(fam))
	for j, i := range fam {
		ps[j] = checks[i].pBad
	}
	for j, a := range holm(ps) {
		checks[fam[j]].res.PAdjusted = Num(a)
	}
	levelAt := cfg.levelAt
	if levelAt == nil {
		levelAt = func(j int) float64 { return alpha / float64(j) }
	}
	for i, a := range holmLevels(ps, levelAt) {
		level[fam[i]] = a
	}
	out := make([]CriterionResult, 0, len(checks))
	for i, c := range checks {
		if !c.done {
			decide(c, level[i], alpha, len(fam))
		}
		out = append(out, c.res)
	}
	return out
}

// holmLevels returns the one-sided level at which each of the p-values' checks
// is decided under Holm's step-down procedure (see the comment at the top of
// this file): levelAt(m-k) for the k-th smallest while every smaller one
// rejected at its level, then the level where the sequence stopped.
// levelAt(j) is the level of a check that holds the share 1/j of α: a/j at a
// fixed size.
func holmLevels(p []float64, levelAt func(j int) float64) []float64 {
	m := len(p)
	order := make([]int, m)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(x, y int) int { return cmpFloat(p[x], p[y]) })
	out := make([]float64, m)
	stopped := -1
	for k, i := range order {
		lv := levelAt(m - k)
		if stopped >= 0 {
			lv = levelAt(m - stopped)
		} else if !(p[i] < lv) {
			stopped = k
		}
		out[i] = lv
	}
	return out
}

// testedAtLimit keeps an interval from claiming more at the limit than the
// estimate's own exact test (estimate.p) shows there. Two cases need it:
//   - the exact unconditional test (up to exactPairsMax pairs) orders its
//     tables anew for every hypothesised change, so its p-value need not be
//     monotone in the change, and the bisection for an interval's end can
//     stop at a crossing beyond the limit while the p-value at the limit is
//     (by 1-2%) above the level (TestIntervalClaimsNoMoreThanTheTestAtTheLimit);
//   - Tango's corrected interval (above) is a normal approximation that
//     claims too much where discordant pairs are few and one-sided, and the
//     exact test on its statistic checks it (tangoExactP).
//
// When the p-value at the limit (pGood or pBad) does not show the side the
// interval claims, that end is moved to the limit and the check is not
// decided. Then the tables on which a check passes or fails lie within the
// exact test's rejection region at the limit, whose level is shown by
// enumeration. Estimates with no p of their own invert their interval for
// their p-values and need none of this.
func testedAtLimit(c *check, iv Interval, a float64) Interval {
	if c.est.p == nil || !iv.Bounded() {
		return iv
	}
	lowSide, highSide := c.pBad, c.pGood // the p-values of "below" and "above" the limit
	if !c.higher {
		lowSide, highSide = c.pGood, c.pBad
	}
	if iv.Hi < c.limit && !(lowSide <= a) {
		iv.Hi = c.limit
	}
	if iv.Lo > c.limit && !(highSide <= a) {
		iv.Lo = c.limit
	}
	return iv
}

// decide sets a check's status from its interval at the one-sided level a
// (see the comment at the top of this file).
func decide(c *check, a, alpha float64, family int) {
	r := &c.res
	iv := testedAtLimit(c, c.est.intervalAt(a), a)
	r.Estimate, r.Confidence = iv, 1-2*a
	r.MDE = Num(c.est.mde(a))
	lo, hi := iv.Lo, iv.Hi
	bad, good, beyond := hi < c.limit, lo > c.limit, c.beyond()
	if !c.higher {
		bad, good = lo > c.limit, hi < c.limit
	}
	est := describeEstimate(iv, r.Scale)
	lim := describeLimit(c.limit, r.Scale)
	lvl := fmt.Sprintf("%s interval", fmtLevel(1-2*a))
	if a < alpha {
		lvl += fmt.Sprintf(" (Holm's correction across %d checks)", family)
	}
	switch r.Mode {
	case suite.ModeRegression:
		switch {
		case bad:
			c.settle(CheckFail, "%s: the %s is wholly past the limit %s (p = %s)", est, lvl, lim, fmtP(c.pBad))
		case beyond:
			c.settle(CheckInconclusive, "%s is past the limit %s, but the %s reaches back within it (p = %s): the data cannot tell a regression from noise", est, lim, lvl, fmtP(c.pBad))
		default:
			c.settle(CheckPass, "%s: no significant move past the limit %s", est, lim)
		}
	default:
		switch {
		case good:
			c.settle(CheckPass, "%s: the %s is wholly within the limit %s (p = %s)", est, lvl, lim, fmtP(c.pGood))
		case bad:
			c.settle(CheckFail, "%s: the %s is wholly past the limit %s (p = %s)", est, lvl, lim, fmtP(c.pBad))
		default:
			c.settle(CheckInconclusive, "%s: the %s crosses the limit %s, so the data does not show it within (p = %s)", est, lvl, lim, fmtP(c.pGood))
		}
	}
	switch mde := float64(r.MDE); {
	case c.margin <= 0 || mde <= c.margin || r.Status == CheckFail:
		// A significant failure is decided whatever the suite's power.
	case math.IsNaN(mde):
		r.Underpowered = true
		r.Reason += "; the suite is too small for this margin: its interval is unbounded on one side"
	default:
		r.Underpowered = true
		r.Reason += fmt.Sprintf("; the suite is too small for this margin: it detects a move of %s past the limit with 80%% power, more than the margin %s", describeLimit(mde, scaleMagnitude(r.Scale)), describeLimit(c.margin, scaleMagnitude(r.Scale)))
	}
}

// fmtLevel writes a confidence level as a percentage with the digits it needs.
func fmtLevel(c float64) string {
	// Two significant digits of the miss 1-c: a sequential run's first look
	// is at 99.99989%, which two decimals would round to 100%.
	digits := 2
	if miss := (1 - c) * 100; miss > 0 {
		digits = max(digits, int(math.Ceil(-math.Log10(miss)))+1)
	}
	s := strconv.FormatFloat(c*100, 'f', digits, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s + "%"
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
	case p >= 0.5:
		return "≥ 0.5"
	}
	return fmt.Sprintf("%.3f", p)
}

func describeEstimate(iv Interval, scale string) string {
	name := map[string]string{"delta": "the change", "relative": "the relative change", "value": "the target's value"}[scale]
	return name + " " + iv.Format(func(x float64) string { return describeLimit(x, scale) })
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
	mode := cmp.Or(c.Mode, cfg.Mode)
	sev := cmp.Or(c.Severity, suite.SeverityFail)
	base := CriterionResult{Metric: c.Metric, Mode: mode, Severity: sev,
		Baseline: Num(math.NaN()), Target: Num(math.NaN()), Limit: Num(math.NaN()), MDE: Num(math.NaN()),
		Estimate: Interval{Est: math.NaN(), Lo: math.NaN(), Hi: math.NaN()}}
	fail := func(kind, format string, args ...any) []*check {
		k := &check{res: base}
		k.res.Check = kind
		k.settle(CheckError, format, args...)
		return []*check{k}
	}
	_, modeErr := suite.ParseMode(string(mode))
	_, sevErr := suite.ParseSeverity(string(sev))
	switch {
	case modeErr != nil:
		return fail("mode", "mode %v", modeErr)
	case sevErr != nil:
		return fail("severity", "severity %v", sevErr)
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
		add("min", func(k *check) { checkFloor(k, *c.Min, info, p) })
	}
	if c.MaxDrop != nil {
		add("max_drop", func(k *check) { checkChange(k, *c.MaxDrop, info, p) })
	}
	if c.MaxIncrease != nil {
		add("max_increase", func(k *check) {
			if info.Direction == metric.HigherIsBetter {
				k.settle(CheckError, "max_increase bounds how much a lower-is-better metric may grow, and %s is better higher: use max_drop", c.Metric)
				return
			}
			checkChange(k, *c.MaxIncrease, info, p)
		})
	}
	if c.MaxErrorRate != nil {
		add("max_error_rate", func(k *check) { checkErrorRate(k, *c.MaxErrorRate, p) })
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
func checkFloor(k *check, floor float64, info metric.Info, p *paired) {
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
	idx, vals := p.oneSideScores(info.Name, true)
	if mi := p.metrics[info.Name]; mi != nil && mi.onB {
		r.Baseline = Num(mi.base.est)
	}
	if len(vals) == 0 {
		k.settle(CheckInconclusive, "%s", noTargetScores(info.Name, p))
		return
	}
	e := levelEstimate(info, vals, p.d.subset(idx))
	r.Target = Num(e.est)
	k.test(e, floor, true, 0)
}

// noTargetScores says why the target has no score for a metric.
func noTargetScores(name string, p *paired) string {
	failed := 0
	for _, pr := range p.pairs {
		if p.t.recs.errored[pr.t] {
			failed++
		}
	}
	if failed == len(p.pairs) && failed > 0 {
		return fmt.Sprintf("the target produced no scored record for %s: all %d of its paired calls failed (see error_rate and the records' errors)", name, failed)
	}
	return fmt.Sprintf("the target produced no scored record for %s: %d of its %d paired calls failed, and the rest were not scored on it (a score error, or the metric is restricted to other targets)", name, failed, len(p.pairs))
}

// checkChange tests the change from baseline to target against an allowed
// worsening: a drop for higher-is-better metrics, an increase for
// lower-is-better ones (cost, latency), absolute or relative.
func checkChange(k *check, m suite.Margin, info metric.Info, p *paired) {
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
	if m.Value < 0 || math.IsNaN(m.Value) || math.IsInf(m.Value, 0) {
		k.settle(CheckError, "a margin must be a finite number ≥ 0 (got %v)", m.Value)
		return
	}
	// sign turns an allowed worsening into a limit on target - baseline (or
	// on the relative change): below -margin is bad for higher-is-better.
	sign := 1.0
	if higher {
		sign = -1
	}
	r.Scale = "delta"
	if m.Relative {
		r.Scale = "relative"
	}
	var e estimate
	if ai, agg := p.aggs[info.Name]; agg {
		r.Baseline, r.Target = Num(ai.base.est), Num(ai.targ.est)
		e = ai.delta
		if m.Relative {
			e = ai.ratio.shifted(-1)
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
		case !mi.onT:
			k.settle(CheckInconclusive, "%s", noTargetScores(info.Name, p))
			return
		case !mi.onB:
			k.settle(CheckInconclusive, "the baseline has no score for %s (it is scored on the target only, or every baseline call failed): there is nothing to compare the target with", info.Name)
			return
		case mi.n == 0:
			k.settle(CheckInconclusive, "no pair has %s scored on both sides (%d pairs, all missing a score on one side)", info.Name, len(p.pairs))
			return
		}
		r.Baseline, r.Target = Num(mi.base.est), Num(mi.targ.est)
		e = mi.delta
		if m.Relative {
			idx, bv, tv := p.scoredPairs(info.Name)
			e = ratioEstimate(bv, tv, p.d.subset(idx), metricSpan(info)).shifted(-1)
		}
	}
	k.test(e, sign*m.Value, higher, m.Value)
}

// checkErrorRate tests the share of the target's paired records that failed
// against a maximum. On error_rate (or an aggregate) that is the share of
// failed calls; on a scored metric, the share of records the metric could not
// score (a failed call or a score error). The interval is Clopper-Pearson's
// exact one (with the design effect when clustered): 0 errors in 30 calls
// bound the rate only below 11.6%.
func checkErrorRate(k *check, maxRate float64, p *paired) {
	r := &k.res
	name := r.Metric
	r.Bound, r.Scale, r.Limit = fmt.Sprintf("error rate ≤ %.4g%%", maxRate*100), "value", Num(maxRate)
	if maxRate < 0 || maxRate > 1 || math.IsNaN(maxRate) {
		k.settle(CheckError, "max_error_rate %v: want a share between 0 and 1", maxRate)
		return
	}
	_, agg := aggregateInfo[name]
	// failed says whether record i of side s failed: its call, or (on a
	// scored metric) its score.
	failed := func(s *side, col []float64, i int32) bool {
		if agg {
			return s.recs.errored[i]
		}
		_, ok := scoreAt(col, i)
		return !ok
	}
	bc, tc := p.b.column(name), p.t.column(name)
	n := len(p.pairs)
	if n == 0 {
		k.settle(CheckInconclusive, "no pairs")
		return
	}
	x := make([]float64, n)
	nb, nt := 0, 0
	for i, pr := range p.pairs {
		if failed(p.t, tc, pr.t) {
			x[i] = 1
			nt++
		}
		if failed(p.b, bc, pr.b) {
			nb++
		}
	}
	r.Baseline, r.Target = Num(float64(nb)/float64(n)), Num(float64(nt)/float64(n))
	// A rate twice the allowed one is the move this check must see.
	k.test(proportionEstimate(nt, n, p.d, x), maxRate, false, maxRate)
}

// PassRateChange reports how the gate decides a check of the change in a
// pass rate (target - baseline) on n independent pairs, targetOnly of
// which pass on the target only and baselineOnly on the baseline only, whose
// limit is limit (below it is bad) at the one-sided level a: whether it
// fails in regression mode and passes in non_inferiority mode, through the
// same path as Compare, and the method that decided. scripts/gatesim
// enumerates it over every table to show the level at every discordance
// rate.
func PassRateChange(targetOnly, baselineOnly, n int, a, limit float64) (fails, passes bool, method string) {
	e := pairedProportionEstimate(targetOnly, baselineOnly, n, design{}, nil)
	status := func(mode suite.Mode) CriterionStatus {
		c := &check{res: CriterionResult{Mode: mode}}
		c.test(e, limit, true, 0)
		c.pValues()
		decide(c, a, a, 1)
		return c.res.Status
	}
	return status(suite.ModeRegression) == CheckFail, status(suite.ModeNonInferiority) == CheckPass, e.method
}
