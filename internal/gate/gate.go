// Package gate compares a target's results with a baseline's on paired
// samples, checks the suite's success criteria with confidence intervals, and
// returns a verdict. It reads results files as streams and keeps only the
// per-pair numbers in memory; model outputs are read again, in a second pass,
// for the few samples the report shows.
package gate

import (
	"context"
	"fmt"
	"strings"

	"github.com/evalgate/evalgate/internal/results"
	"github.com/evalgate/evalgate/internal/suite"
)

// Side is one side of a comparison: a results file and a target in it. A file
// may hold several targets; baseline and target may be two targets of one file.
type Side struct {
	// Path is the results file.
	Path string
	// Target is the target id; empty means the file's only target.
	Target string
}

// String is the side as written on the command line: FILE#target.
func (s Side) String() string {
	if s.Target == "" {
		return s.Path
	}
	return s.Path + "#" + s.Target
}

// ParseSide reads FILE or FILE#target (the last '#' separates the target).
func ParseSide(s string) (Side, error) {
	if s == "" {
		return Side{}, fmt.Errorf("empty results path: want FILE or FILE#target")
	}
	if i := strings.LastIndexByte(s, '#'); i >= 0 {
		if i == 0 || i == len(s)-1 {
			return Side{}, fmt.Errorf("%q: want FILE or FILE#target", s)
		}
		return Side{Path: s[:i], Target: s[i+1:]}, nil
	}
	return Side{Path: s}, nil
}

// AgreementPair names a judge metric and a human (SME) metric scored on the
// same samples, whose agreement the report shows.
type AgreementPair struct {
	Judge string `json:"judge"`
	Human string `json:"human"`
	// Threshold makes pass/fail of both scores (score >= Threshold passes);
	// nil means the midpoint of the metric's range (0.5 for 0..1 scores).
	Threshold *float64 `json:"threshold,omitempty"`
}

// Config is how a comparison is made: the criteria and the gate's settings.
type Config struct {
	// Criteria are the success criteria; without any, the comparison is
	// reported and the verdict passes unless nothing was evaluated.
	Criteria []suite.Criterion
	// Mode is the default mode of criteria that do not set one
	// (suite.ModeRegression when empty).
	Mode suite.Mode
	// Confidence of intervals and tests (suite.DefaultConfidence when zero).
	Confidence float64
	// Cluster is the dataset column whose equal values share a cluster; the
	// records carry its value. Empty uses the results header's cluster field.
	Cluster string
	// NoCluster ignores the results' cluster field (compare --cluster ""):
	// samples are independent, except the repeats of one sample.
	NoCluster bool
	// MonthlyCalls projects cost to a month of traffic in the report.
	MonthlyCalls int
	// Agreement pairs judge and human metrics; pairs are also found by name
	// (see FindAgreementPairs).
	Agreement []AgreementPair
	// SampleMetric is the metric by which the most regressed and improved
	// samples are chosen; empty means the first criterion's metric.
	SampleMetric string
	// Samples is how many of the most regressed and of the most improved
	// samples to show (DefaultSamples when zero, none when negative).
	Samples int
	// AllowSuiteMismatch compares results of differently named suites.
	AllowSuiteMismatch bool
	// AllowInputMismatch compares pairs whose input or reference differs
	// between the two sides (with a warning) instead of refusing them.
	AllowInputMismatch bool
	// PairScores are metrics scored on pairs after the run (pairwise
	// preference), compared and checked like the others.
	PairScores []PairScores
	// Look, when set, judges the comparison as that look of a sequential
	// run (see sequential.go) instead of what the target's results say.
	Look *results.Sequential
	// levelAt, set by applyLook, is the one-sided level at which a check
	// holding the share 1/j of the gate's α is decided: α/j at a fixed
	// size, the look's level in the design at α/j in a sequential run
	// (Holm's correction across criteria, criteria.go).
	levelAt func(j int) float64
}

// DefaultSamples is how many most-regressed and most-improved samples the
// report shows: enough to see a pattern, few enough to read in a PR comment.
const DefaultSamples = 5

// FromSuite returns the gate settings of a suite: its criteria and gate block.
func FromSuite(c *suite.Config) Config {
	var agreement []AgreementPair
	for _, a := range c.Gate.Agreement {
		agreement = append(agreement, AgreementPair{Judge: a.Judge, Human: a.Human, Threshold: a.Threshold})
	}
	return Config{
		Agreement:    agreement,
		Criteria:     c.Criteria,
		Mode:         c.Gate.Mode,
		Confidence:   c.Gate.Confidence,
		Cluster:      c.Gate.Cluster,
		MonthlyCalls: c.Gate.MonthlyCalls,
	}
}

func (c Config) withDefaults() (Config, error) {
	if c.Mode == "" {
		c.Mode = suite.ModeRegression
	}
	if _, err := suite.ParseMode(string(c.Mode)); err != nil {
		return c, fmt.Errorf("gate mode %w", err)
	}
	if c.Confidence == 0 {
		c.Confidence = suite.DefaultConfidence
	}
	if !(c.Confidence >= 0.5 && c.Confidence < 1) {
		return c, fmt.Errorf("gate confidence %v: want a level in [0.5, 1), such as 0.95", c.Confidence)
	}
	if c.Samples == 0 {
		c.Samples = DefaultSamples
	}
	if c.MonthlyCalls < 0 {
		return c, fmt.Errorf("gate monthly_calls %d: want a number of calls >= 0", c.MonthlyCalls)
	}
	return c, nil
}

// Compare pairs the target's records with the baseline's on (sample id,
// repeat), compares every metric, checks the criteria and returns the verdict.
// An error means the inputs cannot be compared at all (unreadable or
// truncated file, unknown target, different suites, invalid settings): a data
// or usage error. A regression is a verdict, not an error.
func Compare(ctx context.Context, baseline, target Side, cfg Config) (*Verdict, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	// 1. Read both sides as streams, keeping the numbers of each record.
	b, t, err := load(ctx, baseline, target)
	if err != nil {
		return nil, err
	}
	injectPairScores(b, t, cfg.PairScores)
	// A sequential run is judged on the samples it used, at its look's level.
	look, err := applyLook(&cfg, b, t)
	if err != nil {
		return nil, err
	}
	// 2. Check that the two are comparable (suite, metric definitions).
	v := newVerdict(b, t, cfg)
	v.Sequential = look
	if err := checkComparable(b, t, cfg, v); err != nil {
		return nil, err
	}
	// 3. Pair on (sample id, repeat); list what is on one side only; refuse
	// pairs that are not the same sample.
	p := pairUp(b, t, cfg, v)
	if err := checkSameSamples(p, cfg, v); err != nil {
		return nil, err
	}
	// 4. Compare the operational aggregates and every metric.
	v.Aggregates = compareAggregates(p, cfg)
	v.Cost = projectCost(v.Aggregates, cfg.MonthlyCalls)
	v.Metrics = compareMetrics(p, b, t, cfg)
	if len(p.unscored) > 0 {
		v.warn("not scored on either side, so not compared: %s (a metric restricted to other targets, or every call failed)", strings.Join(p.unscored, ", "))
	}
	for _, m := range v.Metrics {
		if m.Missing > 0 && m.OneSide == "" {
			v.warn("%s: %d of %d pairs lack a score on one side (a failed call or a score error) and are left out, not counted as zero", m.Metric, m.Missing, v.Pairs)
		}
	}
	// 5. Repeats: k of n per sample and the samples that flip.
	v.Flips = flips(p, v.Metrics)
	// 6. Judge-human agreement, where both are scored.
	v.Agreement = agreement(b, t, cfg)
	// 7. Check the criteria, with Holm's correction across them.
	v.Criteria = checkCriteria(p, b, t, v, cfg)
	// The aggregates' intervals are spent; a percentile's hold its sorted
	// values, which need not stay through the next step's pass over the
	// files.
	p.aggs = nil
	// 8. Pick the most regressed and improved samples and read their outputs.
	if err := pickSamples(ctx, p, b, t, v, cfg); err != nil {
		return nil, err
	}
	// 9. Decide.
	v.decide()
	return v, nil
}
