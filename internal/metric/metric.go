// Package metric holds the per-record scorers: deterministic text metrics,
// operational metrics (latency, cost) and scores imported from dataset columns.
// LLM-as-judge metrics live in metric/judge and satisfy the same interface.
package metric

import (
	"cmp"
	"context"
	"encoding/json"
	"math"
	"time"

	"github.com/evalgate/evalgate/internal/provider"
)

// Direction says which way a metric improves.
type Direction string

// The two directions.
const (
	HigherIsBetter Direction = "higher"
	LowerIsBetter  Direction = "lower"
)

// Info describes a metric: its name, range and direction. The gate reads it to
// choose a statistic (PassFail metrics get McNemar's test) and to read deltas
// the right way round.
type Info struct {
	Name      string    `json:"name"`
	Min       float64   `json:"min"`
	Max       float64   `json:"max"` // +Inf for unbounded metrics (latency, cost); null in JSON
	Direction Direction `json:"direction"`
	// PassFail is true for metrics whose scores are only 0 or 1.
	PassFail bool `json:"pass_fail,omitempty"`
	// NeedsReference is true for metrics that compare with the ground truth; a
	// sample without one is an error for them, not a zero.
	NeedsReference bool `json:"needs_reference,omitempty"`
}

// Input is everything a metric may look at for one record.
type Input struct {
	// Output is the model's answer.
	Output string
	// Reference is the ground truth as written in the dataset; References is
	// it split on the suite's delimiter ("<OR>" by default, pieces not trimmed,
	// as fmeval does). Metrics that compare with the reference take the best
	// score over References. Both are empty when the sample has no reference.
	Reference  string
	References []string
	// Question is the rendered user input, for metrics that need it (judges).
	Question string
	// Fields are all the sample's dataset fields (context, logged scores, ...).
	Fields map[string]string
	// Latency of the call; CostUSD is nil when the price is unknown.
	Latency time.Duration
	CostUSD *float64
}

// Score is one metric's result for one record.
type Score struct {
	Value float64
	// Raw is the score before normalization (a judge's 1..10), when it differs.
	Raw *float64
	// Detail is a short explanation (a judge's reasoning, an SME's note).
	Detail string
	// Usage and CostUSD are what scoring cost, for metrics that call a model
	// (judges); CostUSD is nil when that model's price is unknown.
	Usage   provider.Usage
	CostUSD *float64
}

// Metric scores one record.
type Metric interface {
	Info() Info
	// Score returns the record's score, or an error when the metric cannot be
	// computed for it (no reference, invalid regex input, judge failure). An
	// error is recorded for that record; it is never turned into a zero.
	Score(ctx context.Context, in Input) (Score, error)
}

// Spec is a metric as the suite declares it: a built-in name and its options.
type Spec struct {
	// Name is what the metric is called in results and criteria.
	Name string
	// Type is the built-in metric to use; empty means Name.
	Type string
	// Options are the metric's settings (pattern for regex, value for
	// contains, schema for json_schema, field for imported, min/max for length).
	Options map[string]any
	// BaseDir resolves relative file paths in options (a JSON Schema file).
	BaseDir string
	// Targets are the target ids the metric scores; empty means all. An
	// imported score describes the answer it was logged for (the source
	// model's) and is scored for that target only.
	Targets []string
}

// Kind is the built-in metric the spec uses: Type, or Name when Type is
// empty. The registry, the judges and the cli all ask the spec, so the rule
// is written once.
func (s Spec) Kind() string { return cmp.Or(s.Type, s.Name) }

// infoJSON is Info on the wire: JSON has no infinity, so an unbounded
// maximum is written as null.
type infoJSON struct {
	Name           string    `json:"name"`
	Min            float64   `json:"min"`
	Max            *float64  `json:"max"`
	Direction      Direction `json:"direction"`
	PassFail       bool      `json:"pass_fail,omitempty"`
	NeedsReference bool      `json:"needs_reference,omitempty"`
}

// MarshalJSON writes an unbounded Max as null.
func (i Info) MarshalJSON() ([]byte, error) {
	j := infoJSON{Name: i.Name, Min: i.Min, Direction: i.Direction, PassFail: i.PassFail, NeedsReference: i.NeedsReference}
	if !math.IsInf(i.Max, 1) {
		j.Max = &i.Max
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads a null Max as +Inf.
func (i *Info) UnmarshalJSON(b []byte) error {
	var j infoJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*i = Info{Name: j.Name, Min: j.Min, Max: math.Inf(1), Direction: j.Direction, PassFail: j.PassFail, NeedsReference: j.NeedsReference}
	if j.Max != nil {
		i.Max = *j.Max
	}
	return nil
}
