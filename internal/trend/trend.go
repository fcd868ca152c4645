// Package trend keeps the history of a suite's scheduled runs: one line per
// run with each criterion's numbers, appended run after run and carried from
// one run to the next (in the GitHub Action, as an artifact), so that a
// provider's silent model change shows as a step, at the run where it
// happened.
package trend

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"time"

	"github.com/evalgate/evalgate/internal/gate"
)

// MaxEntries is how many runs a history keeps: three months of nightly runs,
// enough to see a step and what came before it; older runs are dropped.
const MaxEntries = 90

// Run identifies the run an entry is from; every field may be empty (a run
// outside GitHub Actions has no id).
type Run struct {
	ID     int64  `json:"run_id,omitempty"`
	URL    string `json:"run_url,omitempty"`
	Commit string `json:"commit,omitempty"`
}

// Entry is one run's verdict, as numbers.
type Entry struct {
	Time time.Time `json:"time"`
	Run
	Status string  `json:"status"`
	Target string  `json:"target"`
	Checks []Check `json:"checks"`
}

// Check is one criterion check of a run: the target's and the baseline's
// value of its metric, and the tested estimate with its interval and limit.
type Check struct {
	Metric   string   `json:"metric"`
	Check    string   `json:"check"`
	Status   string   `json:"status"`
	Target   gate.Num `json:"target"`
	Baseline gate.Num `json:"baseline"`
	Estimate gate.Num `json:"estimate"`
	Limit    gate.Num `json:"limit"`
}

// Name is how reports name the check: "correctness max_drop".
func (c Check) Name() string { return c.Metric + " " + c.Check }

// FromVerdict is the entry of a run that ended with v.
func FromVerdict(v *gate.Verdict, run Run, at time.Time) Entry {
	e := Entry{Time: at.UTC(), Run: run, Status: string(v.Status), Target: v.Target.Label()}
	for _, c := range v.Criteria {
		e.Checks = append(e.Checks, Check{Metric: c.Metric, Check: c.Check, Status: string(c.Status),
			Target: c.Target, Baseline: c.Baseline, Estimate: gate.Num(c.Estimate.Est), Limit: c.Limit})
	}
	return e
}

// num reads a number, or null as NaN (gate.Num writes NaN as null).
type num struct{ v float64 }

// UnmarshalJSON reads a number or null.
func (n *num) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		n.v = math.NaN()
		return nil
	}
	return json.Unmarshal(b, &n.v)
}

// Read reads a history file; a missing file is an empty history (the first
// scheduled run). A line that is not an entry is an error naming it.
func Read(path string) ([]Entry, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	return Parse(data, path)
}

// Parse reads a history's lines; name is used in errors.
func Parse(data []byte, name string) ([]Entry, error) {
	var out []Entry
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var e struct {
			Entry
			Checks []struct {
				Metric, Check, Status string
				Target                num
				Baseline              num
				Estimate              num
				Limit                 num
			} `json:"checks"`
		}
		if err := json.Unmarshal(b, &e); err != nil || e.Time.IsZero() {
			return nil, fmt.Errorf("history %s line %d: not a history entry (want a JSON object with a time); delete the file to start a new history", name, line)
		}
		e.Entry.Checks = nil
		for _, c := range e.Checks {
			e.Entry.Checks = append(e.Entry.Checks, Check{Metric: c.Metric, Check: c.Check, Status: c.Status,
				Target: gate.Num(c.Target.v), Baseline: gate.Num(c.Baseline.v), Estimate: gate.Num(c.Estimate.v), Limit: gate.Num(c.Limit.v)})
		}
		out = append(out, e.Entry)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("history %s: %w", name, err)
	}
	return out, nil
}

// Append adds e to the history and keeps the last MaxEntries runs.
func Append(history []Entry, e Entry) []Entry {
	history = append(history, e)
	if len(history) > MaxEntries {
		history = history[len(history)-MaxEntries:]
	}
	return history
}

// Write writes the history, one entry per line.
func Write(path string, history []Entry) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	for _, e := range history {
		if err := enc.Encode(e); err != nil {
			return fmt.Errorf("history %s: %w", path, err)
		}
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("history: %w", err)
	}
	return nil
}

// Series is one check's target values over the history, oldest first (NaN
// where a run lacks it), with the check's latest form.
type Series struct {
	Check  Check
	Values []float64
	Runs   []Entry
}

// Step is the largest move between two consecutive runs of a series: the run
// where a silent model change shows.
type Step struct {
	// From and To index Values; Delta is Values[To] - Values[From].
	From, To int
	Delta    float64
}

// Largest returns the series' largest move between two runs that both have a
// value, and false when it has fewer than two.
func (s Series) Largest() (Step, bool) {
	best, found, prev := Step{}, false, -1
	for i, v := range s.Values {
		if math.IsNaN(v) {
			continue
		}
		if prev >= 0 {
			d := v - s.Values[prev]
			if !found || math.Abs(d) > math.Abs(best.Delta) {
				best, found = Step{From: prev, To: i, Delta: d}, true
			}
		}
		prev = i
	}
	return best, found
}

// BySeries returns, for each check of the latest run, its values over the
// history.
func BySeries(history []Entry) []Series {
	if len(history) == 0 {
		return nil
	}
	var out []Series
	for _, c := range history[len(history)-1].Checks {
		s := Series{Check: c, Runs: history}
		for _, e := range history {
			v := math.NaN()
			for _, ec := range e.Checks {
				if ec.Metric == c.Metric && ec.Check == c.Check {
					v = float64(ec.Target)
				}
			}
			s.Values = append(s.Values, v)
		}
		out = append(out, s)
	}
	return out
}
