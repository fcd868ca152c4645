package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/evalgate/evalgate/internal/gate"
	"github.com/evalgate/evalgate/internal/results"
	"github.com/evalgate/evalgate/internal/run"
	"github.com/evalgate/evalgate/internal/suite"
)

// sequentialRun is a run with run.sequential: its samples in their seeded
// order, the design's looks, and the look itself, which compares the records
// written so far as the verdict after the run would (gate.Compare on a
// results file), at the level the design allots to the look.
type sequentialRun struct {
	seed    uint64
	total   int
	planned []int
	// base and target are the sides of the verdict in the run's results
	// file; the looks read the same targets from a snapshot of it.
	base, target gate.Side
	resultsPath  string
	cfg          gate.Config
	hdr          results.Header
	dir          string
	// recs are the records written so far, without their texts (the
	// looks need numbers); they live in the goroutine that writes them,
	// as do the looks.
	recs []results.Record
	// taken are the looks taken; stopped, reason and cutoff say where and
	// why the run stopped, or why it did not.
	taken   []int
	stopped bool
	reason  string
	cutoff  string
}

// orderedSamples yields samples from memory, in the order given.
type orderedSamples struct {
	s []suite.Sample
	i int
}

func (o *orderedSamples) Next() (suite.Sample, error) {
	if o.i >= len(o.s) {
		return suite.Sample{}, io.EOF
	}
	o.i++
	return o.s[o.i-1], nil
}

// prepareSequential reads the dataset into memory in the seeded order (a
// sequential run must call its samples in a random order, or the early looks
// see whatever the file puts first), plans the looks and resolves the sides
// the looks compare. A sequential run needs a baseline to look at.
func prepareSequential(e *Env, s *suite.Suite, built []run.Target, ds run.Samples, resultsPath string, baseline string) (*sequentialRun, run.Samples, error) {
	r := &suiteRun{suite: s, targets: built, resultsPath: resultsPath}
	base, target, ok, err := gateSides(r, baseline)
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		why := ""
		if r.gateSkipped != "" {
			why = "; here " + r.gateSkipped
		}
		return nil, nil, usagef("%s: run.sequential stops calling once the verdict is settled, so it needs a verdict: name a baseline (gate.baseline or --baseline) and a target to gate%s", s.Path, why)
	}
	if base.Path != resultsPath {
		if err := wholeRuns(base.Path); err != nil {
			return nil, nil, err
		}
	}
	q := &sequentialRun{seed: s.SequentialSeed(), base: base, target: target, resultsPath: resultsPath, cfg: gate.FromSuite(&s.Config)}
	q.cfg.Samples = -1
	var all []suite.Sample
	for {
		smp, err := ds.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, usageErr(err)
		}
		for _, t := range built {
			if t.Match == nil || t.Match(smp) {
				all = append(all, smp)
				break
			}
		}
	}
	keys := make(map[string]uint64, len(all))
	for _, smp := range all {
		keys[smp.ID] = results.OrderKey(q.seed, smp.ID)
	}
	slices.SortStableFunc(all, func(a, b suite.Sample) int {
		switch ka, kb := keys[a.ID], keys[b.ID]; {
		case ka < kb:
			return -1
		case ka > kb:
			return 1
		}
		return strings.Compare(a.ID, b.ID)
	})
	q.total = len(all)
	shares := s.Config.Run.SequentialLooks
	if len(shares) == 0 {
		shares = gate.DefaultLooks
	}
	q.planned = gate.PlanLooks(shares, q.total)
	if len(q.planned) == 1 {
		q.reason = fmt.Sprintf("%d samples leave no room for a look before the end (the first look compares at least %d samples, and fewer than all)", q.total, gate.MinFirstLook)
	}
	fmt.Fprintf(e.Stderr, "sequential run: %d samples in a random order (seed %d), looks after %s samples\n", q.total, q.seed, joinInts(q.planned))
	return q, &orderedSamples{s: all}, nil
}

func joinInts(x []int) string {
	s := make([]string, len(x))
	for i, v := range x {
		s[i] = fmt.Sprint(v)
	}
	return strings.Join(s, ", ")
}

// options are the engine's sequential options: the interim looks.
func (q *sequentialRun) options() *run.Sequential {
	return &run.Sequential{Looks: q.planned[:len(q.planned)-1], Look: q.look}
}

// writer writes each record to w and keeps its numbers for the looks.
func (q *sequentialRun) writer(w run.RecordWriter) run.RecordWriter { return teeWriter{w, q} }

type teeWriter struct {
	w run.RecordWriter
	q *sequentialRun
}

func (t teeWriter) Write(r results.Record) error {
	if err := t.w.Write(r); err != nil {
		return err
	}
	r.Input, r.Reference, r.Output, r.Details, r.Raw, r.ScoreErrors = "", "", "", nil, nil, nil
	t.q.recs = append(t.q.recs, r)
	return nil
}

// look compares the first n samples, the last of which is last, at the
// level of look k, and reports whether every fail-severity check is settled.
func (q *sequentialRun) look(ctx context.Context, k, n int, last string) (bool, error) {
	if q.dir == "" {
		dir, err := os.MkdirTemp("", "evalgate-look-")
		if err != nil {
			return false, q.failed(err)
		}
		q.dir = dir
	}
	snap := filepath.Join(q.dir, "look.jsonl")
	w, err := results.Create(snap, q.hdr)
	if err != nil {
		return false, q.failed(err)
	}
	for _, r := range q.recs {
		if err := w.Write(r); err != nil {
			w.Discard()
			return false, q.failed(err)
		}
	}
	if err := w.Close(results.Summary{Status: results.StatusComplete}); err != nil {
		return false, q.failed(err)
	}
	side := func(s gate.Side) gate.Side {
		if s.Path == q.resultsPath {
			s.Path = snap
		}
		return s
	}
	cutoff := results.FormatKey(results.OrderKey(q.seed, last))
	cfg := q.cfg
	cfg.Look = &results.Sequential{Seed: q.seed, Total: q.total, Planned: q.planned, Looks: q.planned[:k+1], Stopped: true, Cutoff: cutoff}
	v, err := gate.Compare(ctx, side(q.base), side(q.target), cfg)
	if err != nil {
		return false, q.failed(err)
	}
	q.taken = q.planned[:k+1]
	settled, why := gate.Settled(v)
	if !settled {
		q.reason = fmt.Sprintf("at look %d of %d (%d samples): %s", k+1, len(q.planned), n, why)
		return false, nil
	}
	q.stopped, q.cutoff = true, cutoff
	q.reason = why
	return true, nil
}

// failed ends the looks: the run goes on to its end and is judged there.
func (q *sequentialRun) failed(err error) error {
	q.reason = "the looks stopped on an error, so the run went on to its end: " + err.Error()
	return err
}

// summary is what the results file says of the run's looks; it also
// removes the looks' snapshots.
func (q *sequentialRun) summary() *results.Sequential {
	if q.dir != "" {
		os.RemoveAll(q.dir)
	}
	s := &results.Sequential{Seed: q.seed, Total: q.total, Planned: q.planned, Looks: q.taken, Stopped: q.stopped, Reason: q.reason}
	if q.stopped {
		s.Cutoff = q.cutoff
	}
	return s
}
