package gate

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/evalgate/evalgate/internal/metric"
	"github.com/evalgate/evalgate/internal/results"
	"github.com/evalgate/evalgate/internal/suite"
)

// Status is the verdict of a comparison.
type Status string

// The verdicts (DESIGN.md's vocabulary).
const (
	StatusPass         Status = "pass"
	StatusRegressed    Status = "regressed"
	StatusInconclusive Status = "inconclusive"
	StatusIncomplete   Status = "incomplete"
	StatusError        Status = "error"
)

// CriterionStatus is the outcome of one check of a criterion.
type CriterionStatus string

// The outcomes of a check.
const (
	CheckPass         CriterionStatus = "pass"
	CheckFail         CriterionStatus = "fail"
	CheckInconclusive CriterionStatus = "inconclusive"
	CheckError        CriterionStatus = "error"
)

// Interval is an estimate with its confidence interval. Lo and Hi are NaN
// when the data cannot bound the estimate (too few pairs); JSON writes them
// as null.
type Interval struct {
	Est    float64 `json:"estimate"`
	Lo     float64 `json:"lo"`
	Hi     float64 `json:"hi"`
	Method string  `json:"method,omitempty"`
	// N is the number of pairs (or records) the estimate is over.
	N int `json:"n"`
}

// Format writes "est [lo, hi]" with f formatting each number: an unbounded
// side as ∞ or −∞ (20 latencies bound a p95 from below only), and "[n/a]"
// when the data give no interval at all.
func (iv Interval) Format(f func(float64) string) string {
	if math.IsNaN(iv.Lo) || math.IsNaN(iv.Hi) {
		return f(iv.Est) + " [n/a]"
	}
	end := func(x float64) string {
		switch {
		case math.IsInf(x, 1):
			return "∞"
		case math.IsInf(x, -1):
			return "−∞"
		}
		return f(x)
	}
	return fmt.Sprintf("%s [%s, %s]", f(iv.Est), end(iv.Lo), end(iv.Hi))
}

// Bounded reports whether the interval has finite bounds.
func (iv Interval) Bounded() bool {
	return !math.IsNaN(iv.Lo) && !math.IsNaN(iv.Hi) && !math.IsInf(iv.Lo, 0) && !math.IsInf(iv.Hi, 0)
}

// MarshalJSON writes NaN and infinite values as null: JSON has no NaN.
func (iv Interval) MarshalJSON() ([]byte, error) {
	type out struct {
		Est    *float64 `json:"estimate"`
		Lo     *float64 `json:"lo"`
		Hi     *float64 `json:"hi"`
		Method string   `json:"method,omitempty"`
		N      int      `json:"n"`
	}
	return json.Marshal(out{numPtr(iv.Est), numPtr(iv.Lo), numPtr(iv.Hi), iv.Method, iv.N})
}

// Num is a float64 that JSON writes as null when it is NaN or infinite.
type Num float64

// MarshalJSON writes NaN and infinite values as null.
func (n Num) MarshalJSON() ([]byte, error) {
	if p := numPtr(float64(n)); p != nil {
		return json.Marshal(*p)
	}
	return []byte("null"), nil
}

func numPtr(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// SideInfo describes one side of the comparison.
type SideInfo struct {
	Path      string `json:"path"`
	Target    string `json:"target"`
	Provider  string `json:"provider,omitempty"`
	Model     string `json:"model,omitempty"`
	Suite     string `json:"suite"`
	SuiteHash string `json:"suite_hash,omitempty"`
	// Records is the number of the target's records in the file;
	// MaxTokensStops how many of its answers were cut at max_tokens.
	Records        int `json:"records"`
	MaxTokensStops int `json:"max_tokens_stops,omitempty"`
	// CacheReadTokens and CacheWriteTokens total the side's prompt-cache
	// tokens; CacheSavingUSD what caching saved on them (records' cache_saving_usd).
	CacheReadTokens  int     `json:"cache_read_tokens,omitempty"`
	CacheWriteTokens int     `json:"cache_write_tokens,omitempty"`
	CacheSavingUSD   float64 `json:"cache_saving_usd,omitempty"`
	// Status and Reason are the run's summary (incomplete: why it stopped).
	Status results.Status `json:"status"`
	Reason string         `json:"reason,omitempty"`
}

// Label is how the report names the side: the target id and its model.
func (s SideInfo) Label() string {
	if s.Model != "" && s.Model != s.Target {
		return s.Target + " (" + s.Model + ")"
	}
	return s.Target
}

// Verdict is the outcome of a comparison with everything the report shows.
type Verdict struct {
	Status Status `json:"status"`
	// Reason is the verdict in one sentence.
	Reason     string     `json:"reason"`
	Baseline   SideInfo   `json:"baseline"`
	Target     SideInfo   `json:"target"`
	Mode       suite.Mode `json:"mode"`
	Confidence float64    `json:"confidence"`
	// Pairs is the number of (sample id, repeat) pairs on both sides;
	// Evaluated the pairs where neither call failed.
	Pairs     int `json:"pairs"`
	Evaluated int `json:"evaluated"`
	Samples   int `json:"samples"`
	Repeats   int `json:"repeats"`
	// Cluster is the cluster field used for cluster-robust errors ("" when
	// none); Clusters the number of clusters among the pairs. With repeats and
	// no cluster field, each sample is a cluster (its repeats are correlated).
	Cluster  string `json:"cluster,omitempty"`
	Clusters int    `json:"clusters,omitempty"`
	// BaselineOnly and TargetOnly list (up to MaxListed) the sample ids on one
	// side only; the counts are complete.
	BaselineOnly      []string `json:"baseline_only,omitempty"`
	TargetOnly        []string `json:"target_only,omitempty"`
	BaselineOnlyCount int      `json:"baseline_only_count"`
	TargetOnlyCount   int      `json:"target_only_count"`

	// Headline says, when it is so, that the suite is too small for some of
	// its criteria (TooSmall names their checks): the report shows it first.
	Headline string   `json:"headline,omitempty"`
	TooSmall []string `json:"too_small,omitempty"`
	// Sequential is set for a sequential run: the look the verdict is
	// taken at, the samples it used and its level.
	Sequential *Look `json:"sequential,omitempty"`

	Criteria   []CriterionResult  `json:"criteria"`
	Metrics    []MetricComparison `json:"metrics"`
	Aggregates []AggregateResult  `json:"aggregates"`
	Cost       CostProjection     `json:"cost"`
	Flips      []FlipStats        `json:"flips,omitempty"`
	Agreement  []AgreementResult  `json:"agreement,omitempty"`
	Regressed  []SampleDiff       `json:"most_regressed,omitempty"`
	Improved   []SampleDiff       `json:"most_improved,omitempty"`
	SampleBy   string             `json:"samples_by,omitempty"`
	Warnings   []string           `json:"warnings,omitempty"`
	metricInfo map[string]metric.Info
}

// MaxListed caps the sample ids listed as present on one side only; the
// counts stay exact.
const MaxListed = 50

// CriterionResult is one check of one criterion: a criterion with a floor and
// an allowed drop gives two checks.
type CriterionResult struct {
	Metric string `json:"metric"`
	// Check is "min", "max_drop", "max_increase" or "max_error_rate".
	Check    string         `json:"check"`
	Mode     suite.Mode     `json:"mode"`
	Severity suite.Severity `json:"severity"`
	// Bound is the criterion as the report prints it ("drop ≤ 0.05").
	Bound  string          `json:"bound"`
	Status CriterionStatus `json:"status"`
	// Reason says why, with the numbers.
	Reason string `json:"reason"`
	// Baseline and Target are the two sides' values of the metric.
	Baseline Num `json:"baseline"`
	Target   Num `json:"target"`
	// Estimate is what was tested, on the Scale it is tested on: "delta"
	// (target - baseline), "relative" (target / baseline - 1) or "value" (the
	// target's value against a floor or a maximum error rate).
	Estimate Interval `json:"estimate"`
	// Confidence is the two-sided level of Estimate's interval: the gate's
	// confidence, or more under Holm's correction.
	Confidence float64 `json:"confidence"`
	Scale      string  `json:"scale"`
	// Limit is the tested bound on Scale (e.g. -0.05 for a drop of 0.05).
	Limit Num `json:"limit"`
	// P is the one-sided p-value of the test the mode decides on, PAdjusted
	// after Holm's correction (regression-mode checks only; see checkCriteria).
	P         Num `json:"p"`
	PAdjusted Num `json:"p_adjusted"`
	// MDE is the minimum detectable effect on Scale: how far beyond the bound
	// the truth must be for this suite to see it with 80% power.
	MDE Num `json:"mde"`
	// Underpowered is set when MDE exceeds the margin: the suite is too
	// small to detect a drop of twice the margin (or, in non_inferiority, to
	// show a system with no drop within it) with 80% power.
	Underpowered bool `json:"underpowered,omitempty"`
}

// Blocks reports whether the check keeps the verdict from passing.
func (c CriterionResult) Blocks() bool {
	if c.Severity == suite.SeverityWarn {
		return false
	}
	switch c.Status {
	case CheckFail, CheckError:
		return true
	case CheckInconclusive:
		return c.Mode == suite.ModeNonInferiority
	}
	return false
}

// MetricComparison is one metric compared on the pairs scored on both sides.
type MetricComparison struct {
	Metric    string           `json:"metric"`
	Direction metric.Direction `json:"direction"`
	PassFail  bool             `json:"pass_fail,omitempty"`
	// N pairs have a score on both sides; Missing pairs lack one (a failed
	// call or a score error), and are left out rather than counted as zero.
	N       int `json:"n"`
	Missing int `json:"missing"`
	// Baseline and Target are the means with their intervals; Delta is the
	// paired mean difference target - baseline.
	Baseline Interval `json:"baseline"`
	Target   Interval `json:"target"`
	Delta    Interval `json:"delta"`
	// MDE is the smallest true delta this suite detects with 80% power.
	MDE Num `json:"mde"`
	// McNemar is set for pass/fail metrics.
	McNemar *McNemarResult `json:"mcnemar,omitempty"`
	// OneSide is "baseline" or "target" when only that side has the metric.
	OneSide string `json:"one_side,omitempty"`
}

// McNemarResult counts the samples a pass/fail metric improved, regressed or
// left unchanged, with McNemar's exact two-sided p-value.
type McNemarResult struct {
	Improved  int `json:"improved"`
	Regressed int `json:"regressed"`
	Unchanged int `json:"unchanged"`
	P         Num `json:"p"`
}

// AggregateResult is an operational aggregate (cost, latency, tokens, error
// rate) of both sides, with the target's ratio to the baseline and the
// difference, each with its interval (t and Fieller for means, order
// statistics for percentiles, Clopper-Pearson and Tango for the error rate).
type AggregateResult struct {
	Metric   string   `json:"metric"`
	Unit     string   `json:"unit"`
	N        int      `json:"n"`
	Baseline Interval `json:"baseline"`
	Target   Interval `json:"target"`
	Delta    Interval `json:"delta"`
	Ratio    Interval `json:"ratio"`
}

// CostProjection is the cost per 1,000 calls and per month of traffic.
type CostProjection struct {
	Known           bool `json:"known"`
	BaselinePer1K   Num  `json:"baseline_per_1k"`
	TargetPer1K     Num  `json:"target_per_1k"`
	MonthlyCalls    int  `json:"monthly_calls,omitempty"`
	BaselineMonthly Num  `json:"baseline_monthly,omitempty"`
	TargetMonthly   Num  `json:"target_monthly,omitempty"`
}

// FlipStats describes, for a pass/fail metric run with repeats, how many
// samples pass k of n times and which flip between repeats.
type FlipStats struct {
	Metric  string `json:"metric"`
	Repeats int    `json:"repeats"`
	// BaselineFlipping and TargetFlipping count samples whose repeats
	// disagree; Stable counts samples stable on both sides.
	BaselineFlipping int `json:"baseline_flipping"`
	TargetFlipping   int `json:"target_flipping"`
	// TargetPassK[k] counts the samples the target passed k times.
	TargetPassK   []int `json:"target_pass_k"`
	BaselinePassK []int `json:"baseline_pass_k"`
	// Samples lists (up to MaxListed) the flipping samples.
	Samples []FlipSample `json:"samples,omitempty"`
}

// FlipSample is one sample's pass count on each side.
type FlipSample struct {
	SampleID     string `json:"sample_id"`
	BaselinePass int    `json:"baseline_pass"`
	BaselineN    int    `json:"baseline_n"`
	TargetPass   int    `json:"target_pass"`
	TargetN      int    `json:"target_n"`
}

// AgreementResult is how well a judge metric agrees with a human metric on
// the records of one side where both are scored.
type AgreementResult struct {
	Judge     string `json:"judge"`
	Human     string `json:"human"`
	Side      string `json:"side"`
	N         int    `json:"n"`
	Spearman  Num    `json:"spearman"`
	SpearmanP Num    `json:"spearman_p"`
	Kendall   Num    `json:"kendall_tau_b"`
	KendallP  Num    `json:"kendall_p"`
	// PassAgreement is the share of records where both agree on pass/fail
	// (a score at or above its threshold passes); Kappa is Cohen's kappa
	// (agreement beyond chance).
	JudgeThreshold float64 `json:"judge_threshold"`
	HumanThreshold float64 `json:"human_threshold"`
	PassAgreement  Num     `json:"pass_agreement"`
	Kappa          Num     `json:"kappa"`
}

// Trusted reports whether the judge agrees well enough with the humans to
// gate on: a rank correlation of at least 0.5 and 80% pass/fail agreement.
// These are rules of thumb (moderate-to-strong correlation), stated in the
// report so a user can judge for themselves.
func (a AgreementResult) Trusted() bool {
	return float64(a.Spearman) >= 0.5 && float64(a.PassAgreement) >= 0.8
}

// SampleDiff is one sample's change on the metric the samples are chosen by,
// with both answers (truncated to MaxOutputRunes).
type SampleDiff struct {
	SampleID string `json:"sample_id"`
	Repeat   int    `json:"repeat"`
	// Delta is the mean change over the sample's repeats, target - baseline.
	Delta          float64 `json:"delta"`
	BaselineScore  Num     `json:"baseline_score"`
	TargetScore    Num     `json:"target_score"`
	Input          string  `json:"input,omitempty"`
	Reference      string  `json:"reference,omitempty"`
	BaselineOutput string  `json:"baseline_output"`
	TargetOutput   string  `json:"target_output"`
	BaselineError  string  `json:"baseline_error,omitempty"`
	TargetError    string  `json:"target_error,omitempty"`
	// BaselineDetails and TargetDetails are the records' explanations by
	// metric: a judge's reasoning, an SME's note.
	BaselineDetails map[string]string `json:"baseline_details,omitempty"`
	TargetDetails   map[string]string `json:"target_details,omitempty"`
}

// MaxOutputRunes caps each answer kept for the report: the report shortens
// further to fit a PR comment, and the gate must not hold whole outputs.
const MaxOutputRunes = 4000

// Info returns what the results headers say about a metric.
func (v *Verdict) Info(name string) (metric.Info, bool) {
	i, ok := v.metricInfo[name]
	return i, ok
}

// Blocks reports whether the verdict fails the check: a regression, or an
// inconclusive criterion in non_inferiority mode (not shown to be within its
// margin, so not a pass). An inconclusive criterion in regression mode does
// not block: there is no evidence of a regression, and the report warns.
// Incomplete and error verdicts are neither passes nor regressions; the cli
// maps each status to its exit code (cli/exit.go).
func (v *Verdict) Blocks() bool {
	switch v.Status {
	case StatusRegressed:
		return true
	case StatusInconclusive:
		for _, c := range v.Criteria {
			if c.Blocks() {
				return true
			}
		}
	}
	return false
}

// Passes reports whether the verdict lets the change through: a pass, or an
// inconclusive verdict that does not block.
func (v *Verdict) Passes() bool {
	return v.Status == StatusPass || v.Status == StatusInconclusive && !v.Blocks()
}

func (v *Verdict) warn(format string, args ...any) {
	v.Warnings = append(v.Warnings, fmt.Sprintf(format, args...))
}

// headline names the checks the suite is too small for: no interval at all,
// or a minimum detectable effect larger than the margin. A pass there means
// only that no regression was seen, and the reader must see that first.
func (v *Verdict) headline() {
	v.TooSmall = nil
	for _, c := range v.Criteria {
		if c.Underpowered && c.Status != CheckFail {
			v.TooSmall = append(v.TooSmall, c.Metric+" "+c.Check)
		}
	}
	if len(v.TooSmall) == 0 {
		v.Headline = ""
		return
	}
	units := fmt.Sprintf("%d pairs", v.Pairs)
	if v.Cluster != "" {
		units = fmt.Sprintf("%d clusters of %d pairs", v.Clusters, v.Pairs)
	}
	v.Headline = fmt.Sprintf("The suite is too small for %d of its %d checks (%s): with %s it cannot tell a move of the margin's size from noise, so a pass there means no regression was seen, not that there is none. Add samples or repeats, or widen the margin.",
		len(v.TooSmall), len(v.Criteria), strings.Join(v.TooSmall, ", "), units)
}

// decide sets the verdict from the checks, in order of precedence: a broken
// criterion (error) over a shown regression over an incomplete run over an
// inconclusive check. A regression found on an incomplete run is still a
// regression on the pairs that ran.
func (v *Verdict) decide() {
	var errs, fails, inconclusive, warned []string
	for _, c := range v.Criteria {
		name := c.Metric + " " + c.Check
		switch {
		case c.Status == CheckError:
			errs = append(errs, name+": "+c.Reason)
		case c.Severity == suite.SeverityWarn && c.Status != CheckPass:
			warned = append(warned, name)
		case c.Status == CheckFail:
			fails = append(fails, name)
		case c.Status == CheckInconclusive:
			inconclusive = append(inconclusive, name)
		}
	}
	if len(warned) > 0 {
		v.warn("criteria with severity warn did not pass: %s", strings.Join(warned, ", "))
	}
	v.headline()
	switch {
	case len(errs) > 0:
		v.Status = StatusError
		v.Reason = "criteria cannot be checked: " + strings.Join(errs, "; ")
	case len(fails) > 0:
		v.Status = StatusRegressed
		v.Reason = "regressed: " + strings.Join(fails, ", ")
	case v.Evaluated == 0:
		v.Status = StatusIncomplete
		switch {
		case v.Pairs == 0:
			v.Reason = fmt.Sprintf("nothing to compare: no (sample id, repeat) pair is on both sides (baseline %d records, target %d)", v.Baseline.Records, v.Target.Records)
		default:
			v.Reason = fmt.Sprintf("nothing was evaluated: all %d pairs have a failed call on one side", v.Pairs)
		}
	case v.Target.Status == results.StatusIncomplete:
		v.Status = StatusIncomplete
		v.Reason = "the target's run is incomplete"
		if v.Target.Reason != "" {
			v.Reason += " (" + v.Target.Reason + ")"
		}
		v.Reason += "; no criterion regressed on the pairs that ran"
	case len(inconclusive) > 0:
		v.Status = StatusInconclusive
		if !v.Blocks() {
			v.Reason = "no significant regression, but inconclusive: " + strings.Join(inconclusive, ", ")
		} else {
			v.Reason = "not shown to be within the margin: " + strings.Join(inconclusive, ", ")
		}
	default:
		v.Status = StatusPass
		if len(v.Criteria) == 0 {
			v.Reason = "no criteria: compared only"
		} else {
			v.Reason = "all criteria passed"
		}
	}
}
