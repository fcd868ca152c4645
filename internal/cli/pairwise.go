package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/evalgate/evalgate/internal/gate"
	"github.com/evalgate/evalgate/internal/metric"
	"github.com/evalgate/evalgate/internal/metric/judge"
	"github.com/evalgate/evalgate/internal/results"
)

// preferenceInfo is how the gate reads a pairwise preference: the target's
// mean score is its win rate (ties count half).
func preferenceInfo(name string) metric.Info {
	return metric.Info{Name: name, Min: 0, Max: 1, Direction: metric.HigherIsBetter}
}

// judgePairwise asks each pairwise-preference judge of the suite to compare
// the baseline's and the target's answers, pair by pair, after the run. Its
// calls go through the run's caller: the same cache, retries, limits and
// budget. The per-pair outcomes become pair scores the gate checks like any
// metric.
func judgePairwise(ctx context.Context, e *Env, r *suiteRun, base, target gate.Side) ([]gate.PairScores, error) {
	bRecs, err := targetRecords(base)
	if err != nil {
		return nil, usageErr(fmt.Errorf("pairwise preference: %w", err))
	}
	tRecs, err := targetRecords(target)
	if err != nil {
		return nil, usageErr(fmt.Errorf("pairwise preference: %w", err))
	}
	pairs, _ := pairsFromRecords(bRecs, tRecs)
	var out []gate.PairScores
	for _, spec := range r.pairwise {
		p, closeJudge, err := buildPairwise(ctx, e, r.suite, spec, r.caller, r.limiters)
		if err != nil {
			return nil, err
		}
		res, err := p.Compare(ctx, pairs)
		closeJudge()
		if err != nil {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return nil, outcome(ExitIncomplete, "pairwise preference %q: %v", spec.Name, err)
			}
			return nil, providerErr(fmt.Errorf("pairwise preference %q: %w", spec.Name, err))
		}
		r.pairwiseResults = append(r.pairwiseResults, res)
		ps := gate.PairScores{Info: preferenceInfo(spec.Name), Scores: map[gate.PairKey]float64{}}
		for _, o := range res.Outcomes {
			k := gate.PairKey{SampleID: o.SampleID, Repeat: o.Repeat}
			switch o.Winner {
			case judge.WinTarget:
				ps.Scores[k] = 1
			case judge.WinBaseline:
				ps.Scores[k] = 0
			case judge.Tie:
				ps.Scores[k] = 0.5
			}
		}
		out = append(out, ps)
	}
	return out, nil
}

// targetRecords reads one target's records from a results file. Pairwise
// judging shows the judge both answers of every pair, so the two targets'
// outputs are held in memory for it.
func targetRecords(s gate.Side) ([]results.Record, error) {
	rd, err := results.Open(s.Path)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	id := s.Target
	if id == "" {
		if ts := rd.Header().Targets; len(ts) == 1 {
			id = ts[0].ID
		} else {
			return nil, fmt.Errorf("%s holds several targets: name one as FILE#target", s.Path)
		}
	}
	var out []results.Record
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if rec.Target == id {
			out = append(out, rec)
		}
	}
}

// printPairwise writes each pairwise preference's result.
func printPairwise(w io.Writer, res []judge.PairwiseResult) {
	for _, p := range res {
		rate := "no pair judged"
		if !math.IsNaN(p.WinRate) {
			rate = fmt.Sprintf("win rate %.3f [%.3f, %.3f] (Wilson %.0f%%)", p.WinRate, p.Low, p.High, 100*p.Confidence)
		}
		cost := "cost unknown"
		if p.CostUSD != nil {
			cost = fmt.Sprintf("$%.4f", *p.CostUSD)
		}
		fmt.Fprintf(w, "pairwise %s: target preferred %d, baseline %d, ties %d, undecided %d; %s; judging %d in / %d out tokens, %s\n",
			p.Name, p.TargetWins, p.BaselineWins, p.Ties, p.Errors, rate, p.Usage.InputTokens, p.Usage.OutputTokens, cost)
	}
}

// pairsFromRecords pairs the records of two targets (or of a baseline run
// and a target run) by sample id and repeat. Records that failed (Error set)
// are left out, as are samples only one side has; dropped counts them.
func pairsFromRecords(baseline, target []results.Record) (pairs []judge.Pair, dropped int) {
	type key struct {
		id     string
		repeat int
	}
	base := make(map[key]results.Record, len(baseline))
	for _, r := range baseline {
		base[key{r.SampleID, r.Repeat}] = r
	}
	seen := make(map[key]bool, len(target))
	for _, t := range target {
		k := key{t.SampleID, t.Repeat}
		seen[k] = true
		b, ok := base[k]
		if !ok || b.Error != nil || t.Error != nil {
			dropped++
			continue
		}
		pairs = append(pairs, judge.Pair{SampleID: t.SampleID, Repeat: t.Repeat,
			Question: cmp.Or(t.Input, b.Input), Reference: cmp.Or(t.Reference, b.Reference), Baseline: b.Output, Target: t.Output})
	}
	for k := range base {
		if !seen[k] {
			dropped++
		}
	}
	slices.SortFunc(pairs, func(a, b judge.Pair) int {
		return cmp.Or(cmp.Compare(a.SampleID, b.SampleID), cmp.Compare(a.Repeat, b.Repeat))
	})
	return pairs, dropped
}
