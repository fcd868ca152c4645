package gate

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/evalgate/evalgate/internal/results"
)

// PairRow is one (sample id, repeat) pair with both sides' answers, scores and
// explanations: a row of the HTML report's sample table. Texts are clipped to
// MaxOutputRunes like the verdict's samples.
type PairRow struct {
	SampleID        string
	Repeat          int
	Input           string
	Reference       string
	BaselineOutput  string
	TargetOutput    string
	BaselineError   string
	TargetError     string
	BaselineScores  map[string]float64
	TargetScores    map[string]float64
	BaselineDetails map[string]string
	TargetDetails   map[string]string
}

// RunTarget is one target of a run as its results file's summary describes it:
// a point of the report's model-selection view.
type RunTarget struct {
	ID    string
	Model string
	// Role is "baseline" or "target" for the two compared sides, "" for the
	// run's other targets.
	Role    string
	Summary results.TargetSummary
}

// PairSet is what the HTML report shows beyond the verdict: the pairs, and
// every target of the compared runs.
type PairSet struct {
	// Rows are the pairs by sample id and repeat; at most the limit given
	// to ReadPairs, out of Total.
	Rows  []PairRow
	Total int
	// Targets are the targets of the target's run (and the baseline's, when
	// it is another run), each once.
	Targets []RunTarget
}

// MaxPairRows bounds the rows ReadPairs keeps: the report embeds each one, and
// past this a browser page is slow to open whatever it paginates.
const MaxPairRows = 50000

// ReadPairs streams the verdict's two results files again and returns the
// pairs the verdict compared (records the service failed, left out of the
// verdict, are left out here too), at most limit of them (MaxPairRows when
// limit <= 0). It computes no statistic: the verdict has those.
func ReadPairs(ctx context.Context, v *Verdict, limit int) (*PairSet, error) {
	if limit <= 0 {
		limit = MaxPairRows
	}
	base := map[key]*PairRow{}
	var order []key
	set := &PairSet{}
	keepBase := func(rec results.Record) {
		k := key{rec.SampleID, rec.Repeat}
		if _, dup := base[k]; dup || len(base) >= limit {
			return
		}
		base[k] = &PairRow{SampleID: rec.SampleID, Repeat: rec.Repeat, Input: clip(rec.Input), Reference: clip(rec.Reference),
			BaselineOutput: clip(rec.Output), BaselineError: recErr(rec), BaselineScores: rec.Scores, BaselineDetails: clipAll(rec.Details)}
		order = append(order, k)
	}
	// The baseline is read first, so that of the target only the records
	// that pair are held: memory stays bounded by limit whatever the run's size.
	targets := map[key]results.Record{}
	keepTarget := func(rec results.Record) {
		k := key{rec.SampleID, rec.Repeat}
		if _, ok := base[k]; !ok {
			return
		}
		if _, dup := targets[k]; !dup {
			targets[k] = slimRecord(rec)
		}
	}
	if err := scanRecords(ctx, v.Baseline.Path, nil, map[string]func(results.Record){v.Baseline.Target: keepBase}, v); err != nil {
		return nil, err
	}
	if err := scanRecords(ctx, v.Target.Path, set, map[string]func(results.Record){v.Target.Target: keepTarget}, v); err != nil {
		return nil, err
	}
	if v.Baseline.Path != v.Target.Path {
		// The baseline's own run adds its baseline to the targets shown.
		if err := scanSummary(v.Baseline.Path, set, v); err != nil {
			return nil, err
		}
	}
	for _, k := range order {
		t, ok := targets[k]
		if !ok {
			continue
		}
		row := base[k]
		// The target's rendered prompt is the one under review.
		if t.Input != "" {
			row.Input, row.Reference = t.Input, t.Reference
		}
		row.TargetOutput, row.TargetError, row.TargetScores, row.TargetDetails = t.Output, recErr(t), t.Scores, t.Details
		set.Rows = append(set.Rows, *row)
	}
	slices.SortFunc(set.Rows, func(x, y PairRow) int {
		if c := strings.Compare(x.SampleID, y.SampleID); c != 0 {
			return c
		}
		return x.Repeat - y.Repeat
	})
	set.Total = max(v.Pairs, len(set.Rows))
	return set, nil
}

// slimRecord keeps what a row shows of a target's record, clipped, so that
// holding every target record costs what the row will.
func slimRecord(rec results.Record) results.Record {
	return results.Record{Input: clip(rec.Input), Reference: clip(rec.Reference), Output: clip(rec.Output),
		Error: rec.Error, Scores: rec.Scores, Details: clipAll(rec.Details)}
}

// scanRecords reads one results file and hands the records of the named
// targets (those the service did not fail) to keep; with a set, it adds the
// file's targets from its summary to it.
func scanRecords(ctx context.Context, path string, set *PairSet, keep map[string]func(results.Record), v *Verdict) error {
	r, err := results.Open(path)
	if err != nil {
		return fmt.Errorf("reading pairs: %w", err)
	}
	defer r.Close()
	// Only lines that quote a wanted target's id are decoded: a run's
	// other targets are most of its file. A line that has the id as a string
	// elsewhere is decoded and then dropped by its target.
	var needles [][]byte
	for id := range keep {
		needles = append(needles, quoted(id))
	}
	skipUnlessQuoted(r, needles)
	err = eachRecord(ctx, r, func(rec results.Record) {
		if f, ok := keep[rec.Target]; ok && !rec.Error.Infrastructure() {
			f(rec)
		}
	})
	if err != nil {
		return fmt.Errorf("reading pairs: %w", err)
	}
	if set != nil {
		addTargets(set, path, r.Header(), r.Summary(), v)
	}
	return nil
}

// scanSummary adds the targets of a results file's summary to set, reading
// past its records without decoding them.
func scanSummary(path string, set *PairSet, v *Verdict) error {
	r, err := results.Open(path)
	if err != nil {
		return fmt.Errorf("reading pairs: %w", err)
	}
	defer r.Close()
	r.SkipRecords(func([]byte) bool { return true })
	for {
		_, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("reading pairs: %w", err)
		}
	}
	addTargets(set, path, r.Header(), r.Summary(), v)
	return nil
}

// addTargets adds the targets of one run's summary: every target of the
// target's run, and only the baseline of another run.
func addTargets(set *PairSet, path string, h results.Header, sum *results.Summary, v *Verdict) {
	if sum == nil {
		return
	}
	models := map[string]string{}
	for _, t := range h.Targets {
		models[t.ID] = t.Model
	}
	for _, ts := range sum.Targets {
		role := ""
		switch {
		case path == v.Target.Path && ts.ID == v.Target.Target:
			role = "target"
		case path == v.Baseline.Path && ts.ID == v.Baseline.Target:
			role = "baseline"
		case path != v.Target.Path:
			continue
		}
		set.Targets = append(set.Targets, RunTarget{ID: ts.ID, Model: models[ts.ID], Role: role, Summary: ts})
	}
}

// Flaky returns the sample ids whose repeats disagree on a pass/fail metric of
// the verdict's repeat statistics (v.Flips), on either side: the samples its
// counts of flipping samples count, all of them rather than MaxListed.
func (s *PairSet) Flaky(v *Verdict) map[string]bool {
	out := map[string]bool{}
	for _, f := range v.Flips {
		counts := map[string]*passCounts{}
		for _, r := range s.Rows {
			c := counts[r.SampleID]
			if c == nil {
				c = &passCounts{}
				counts[r.SampleID] = c
			}
			b, okb := r.BaselineScores[f.Metric]
			c.addBaseline(b, okb && !math.IsNaN(b))
			t, okt := r.TargetScores[f.Metric]
			c.addTarget(t, okt && !math.IsNaN(t))
		}
		for id, c := range counts {
			if bf, tf := c.flipping(); bf || tf {
				out[id] = true
			}
		}
	}
	return out
}
