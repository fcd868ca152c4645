package main

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/evalgate/evalgate/internal/gate"
	"github.com/evalgate/evalgate/internal/results"
)

// The sequential table (-only seq) runs the sequential procedure of
// run.sequential on simulated data: the samples in a seeded order, a look
// after each of the design's planned shares (gate.DefaultLooks), each look
// judged by gate.Compare at the level the design allots to it (Config.Look),
// stopping at the first look that settles the check, else judging every
// sample at the level left for the final look. Regression mode and
// non_inferiority mode are separate runs of the procedure on the same data
// (each stops when its own check is settled).

// seqCase is one truth and margin, as multiples of the scenario's margin m at
// size n.
type seqCase struct {
	name string
	// truth is the true change in units of m (negative: worse); margin the
	// criterion's margin in units of m.
	truth, margin float64
	// fixed also measures the fixed-size gate on the same data, to show what
	// the looks cost in power.
	fixed bool
	// ses, when set, places the truth instead that many standard errors
	// (of the mean change on n units, at the truth) past the limit: as
	// clear as the continuous rows' 3× margin, whatever the data's
	// variance does as the change grows.
	ses float64
}

var seqCases = []seqCase{
	{name: "at the margin (borderline)", truth: -1, margin: 1, fixed: true},
	{name: "clear regression (3× margin)", truth: -3, margin: 1},
	{name: "clear pass (0, margin 2m)", truth: 0, margin: 2},
	{name: "pass (0, margin m)", truth: 0, margin: 1},
	{name: "regression at 2× margin", truth: -2, margin: 1, fixed: true},
	{name: "clear regression (5.6 standard errors past the limit)", margin: 1, ses: 2 * 2.8},
}

// seqSD is the standard deviation of one unit's change at the true change
// delta: from the pass/fail rates, the error rate's binomial variance, the
// scenario's own sd, or else the one the scenario's margin was sized
// with (powerMargin: the continuous scores).
func seqSD(sc scenario, n int, delta float64) float64 {
	switch {
	case sc.metric == "error_rate":
		return math.Sqrt(-delta * (1 + delta))
	case sc.sd != nil:
		return sc.sd(delta)
	case sc.rates != nil:
		// The rates are of moves of one gap (1 unless the scenario says).
		p01, p10 := sc.rates(delta)
		d := p01 - p10
		gap := sc.gap
		if gap == 0 {
			gap = 1
		}
		return gap * math.Sqrt(p01+p10-d*d)
	}
	return sc.margin(n) * math.Sqrt(float64(n)) / 2.8
}

// sesTruth is the true change that lies ses standard errors past the limit
// −m at size n, searched down to lowest; ok is false when even lowest is
// not that far past it (a pass rate cannot fall that much).
func sesTruth(sc scenario, n int, m, ses, lowest float64) (delta float64, ok bool) {
	past := func(d float64) float64 { return (-m - d) * math.Sqrt(float64(n)) / seqSD(sc, n, d) }
	if !(past(lowest) >= ses) {
		return lowest, false
	}
	lo, hi := lowest, -m
	for range 100 {
		mid := (lo + hi) / 2
		if past(mid) >= ses {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo, true
}

// earliestPass is the fewest samples at which any test that holds its level
// under the design's spending could pass non-inferiority at the margin p
// (a rate: the share of pairs that would have to fall, by the scores' whole
// gap, for the truth to sit at the margin) when every pair agrees. Under
// that truth the data agree on k pairs with probability (1-p)^k, the most
// likely outcome of all; a procedure that passes on it at look j crosses
// with at least that probability by look j, which the spending allows only
// when (1-p)^k ≤ α·t_j². It returns n when no look before the last allows
// it (and the last look may not either: a clear pass need not be possible).
func earliestPass(n int, p float64) int {
	for _, k := range gate.PlanLooks(gate.DefaultLooks, n) {
		t := float64(k) / float64(n)
		if math.Pow(1-p, float64(k)) <= alpha*t*t {
			return k
		}
	}
	return n
}

// seqTally counts one cell: how often each mode's procedure failed and passed
// the check, the samples each used in all, and the fixed-size gate's fails.
type seqTally struct {
	regFail, regPass, niFail, niPass int
	regUsed, niUsed                  float64
	fixedFail, fixedPass             int
}

// runSequential prints the sequential table: the rows (indexes into
// seqCases; all when empty) of each kind of data and size.
func runSequential(dir string, kinds []string, rows []int, sizes []int, runs int, seed uint64) error {
	fmt.Printf("Sequential runs: looks at %v of the samples (the first at least %d), alpha spent as α·t² with group-sequential boundaries (the looks' correlation), %d runs per cell, seed %d. Rates with 95%% Wilson intervals.\n\n", gate.DefaultLooks, gate.MinFirstLook, runs, seed)
	fmt.Println("| Data | n | Margin m | Truth | Regression mode fails | Non-inferiority passes | Mean share of samples used | Notes |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	for si, sc := range scenarios {
		if !slices.Contains(kinds, sc.key) {
			continue
		}
		for _, n := range sizes {
			m := sc.margin(n)
			for ci, c := range seqCases {
				if len(rows) > 0 && !slices.Contains(rows, ci) {
					continue
				}
				delta, name := c.truth*m, c.name
				if c.ses > 0 {
					lowest := sc.lowest
					if lowest == 0 {
						lowest = -1
					}
					d, ok := sesTruth(sc, n, m, c.ses, lowest)
					if !ok {
						fmt.Printf("| %s | %d | %.3g | %s | — | — | — | no change of this kind of data is that far past the limit at this n (a fall of %.3g is %.1f standard errors past it) |\n",
							sc.name, n, m, name, -d, (-m-d)*math.Sqrt(float64(n))/seqSD(sc, n, d))
						continue
					}
					delta = d
					name = fmt.Sprintf("%s: %.3g", name, delta)
				}
				t, err := simulateSeq(dir, si, sc, n, delta, c.margin*m, c.fixed, runs, seed+uint64(ci))
				if err != nil {
					return err
				}
				var notes []string
				if c.truth == -c.margin {
					if lo, _ := wilson(t.regFail, runs); lo > alpha {
						notes = append(notes, "MISSED: false fail")
					}
					if lo, _ := wilson(t.niPass, runs); lo > alpha {
						notes = append(notes, "MISSED: false pass")
					}
					if len(notes) == 0 {
						notes = append(notes, "held")
					}
				}
				if c.truth == 0 && sc.agreeGap > 0 {
					k := earliestPass(n, c.margin*m/sc.agreeGap)
					notes = append(notes, fmt.Sprintf("every pair agrees: no test that holds its level passes before %d of the %d samples (%.0f%%)", k, n, 100*float64(k)/float64(n)))
				}
				switch {
				case c.fixed && c.truth == -c.margin:
					// What the looks add to the intervals' own error
					// rates, on the same draws.
					notes = append(notes, "fixed-size gate: false fail "+rate(t.fixedFail, runs)+", false pass "+rate(t.fixedPass, runs))
				case c.fixed:
					notes = append(notes, "fixed-size gate fails "+rate(t.fixedFail, runs))
				}
				// With one criterion both modes settle at the same look (the
				// same interval excludes the limit); they differ only when a
				// run goes to the end.
				used := fmt.Sprintf("%.0f%%", 100*t.regUsed/float64(runs))
				if ni := fmt.Sprintf("%.0f%%", 100*t.niUsed/float64(runs)); ni != used {
					used += " (non-inferiority " + ni + ")"
				}
				fmt.Printf("| %s | %d | %.3g | %s | %s | %s | %s | %s |\n", sc.name, n, m, name,
					rate(t.regFail, runs), rate(t.niPass, runs), used, strings.Join(notes, "; "))
			}
		}
	}
	return nil
}

// simulateSeq runs one cell on all CPUs.
func simulateSeq(dir string, si int, sc scenario, n int, delta, margin float64, fixed bool, runs int, seed uint64) (seqTally, error) {
	return onAllCPUs(runs, func(worker, run int) (seqTally, error) {
		return seqOnce(dir, worker, si, sc, n, delta, margin, fixed, run, seed)
	}, func(t *seqTally, r seqTally) {
		t.regFail += r.regFail
		t.regPass += r.regPass
		t.niFail += r.niFail
		t.niPass += r.niPass
		t.regUsed += r.regUsed
		t.niUsed += r.niUsed
		t.fixedFail += r.fixedFail
		t.fixedPass += r.fixedPass
	})
}

// seqOnce draws one comparison and runs the sequential procedure on it in
// both modes.
func seqOnce(dir string, worker, si int, sc scenario, n int, delta, margin float64, fixed bool, run int, seed uint64) (seqTally, error) {
	rng := rand.New(rand.NewPCG(seed, 1<<63|uint64(si)<<48|uint64(n)<<24|uint64(run)))
	bv, tv := sc.draw(rng, n, sc.repeats, delta)
	paths, err := writeSides(dir, worker, sc, bv, tv)
	if err != nil {
		return seqTally{}, err
	}
	// The seeded order of the samples, as a sequential run calls them.
	order := seed + uint64(run)
	keys := make([]uint64, n)
	for i := range keys {
		keys[i] = results.OrderKey(order, "s"+strconv.Itoa(i))
	}
	slices.Sort(keys)
	planned := gate.PlanLooks(gate.DefaultLooks, n)
	compare := func(look *results.Sequential) (*gate.Verdict, error) {
		v, err := gate.Compare(context.Background(), gate.Side{Path: paths[0]}, gate.Side{Path: paths[1]},
			gate.Config{Criteria: bothModes(sc, margin), Samples: -1, Look: look})
		if err == nil {
			err = checkTwo(v)
		}
		return v, err
	}
	var t seqTally
	// decided[0] is regression mode's procedure, decided[1] non-inferiority's.
	var decided [2]bool
	settle := func(mode int, c gate.CriterionResult, used int) {
		decided[mode] = true
		frac := float64(used) / float64(n)
		switch mode {
		case 0:
			t.regUsed += frac
			if c.Status == gate.CheckFail {
				t.regFail = 1
			} else if c.Status == gate.CheckPass {
				t.regPass = 1
			}
		default:
			t.niUsed += frac
			if c.Status == gate.CheckPass {
				t.niPass = 1
			} else if c.Status == gate.CheckFail {
				t.niFail = 1
			}
		}
	}
	for k := 0; k < len(planned)-1 && !(decided[0] && decided[1]); k++ {
		v, err := compare(&results.Sequential{Seed: order, Total: n, Planned: planned, Looks: planned[:k+1],
			Stopped: true, Cutoff: results.FormatKey(keys[planned[k]-1])})
		if err != nil {
			return t, err
		}
		if v.Sequential == nil || v.Sequential.Samples != planned[k] || v.Pairs != planned[k]*sc.repeats {
			return t, fmt.Errorf("look %d compared %d pairs, want the first %d samples", k+1, v.Pairs, planned[k])
		}
		for mode, c := range v.Criteria {
			if !decided[mode] && c.Settled() {
				settle(mode, c, planned[k])
			}
		}
	}
	if !(decided[0] && decided[1]) {
		v, err := compare(&results.Sequential{Seed: order, Total: n, Planned: planned, Looks: planned[:len(planned)-1]})
		if err != nil {
			return t, err
		}
		for mode, c := range v.Criteria {
			if !decided[mode] {
				settle(mode, c, n)
			}
		}
	}
	if fixed {
		v, err := compare(nil)
		if err != nil {
			return t, err
		}
		if v.Criteria[0].Status == gate.CheckFail {
			t.fixedFail = 1
		}
		if v.Criteria[1].Status == gate.CheckPass {
			t.fixedPass = 1
		}
	}
	if math.IsNaN(t.regUsed) {
		return t, fmt.Errorf("no samples used")
	}
	return t, nil
}
