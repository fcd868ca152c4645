package main

import (
	"fmt"
	"sort"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/evalgate/evalgate/internal/gate"
)

// The pass/fail level table (-only pflevel) shows, with no simulation, the
// level of the gate's check of a change in a pass rate at every
// discordance rate: every table of n pairs is decided by
// gate.PassRateChange at one-sided α, and the probability of the
// tables on which a check at the margin m would falsely fail (regression)
// or falsely pass (non_inferiority) is summed exactly for each rate of
// target-only pairs p01 on a grid of 1,001 (the baseline-only rate is
// p01 + m, the truth at the margin). A simulation samples one discordance
// rate per scenario; this finds the worst one.
//
// Each row of tables (i target-only pairs) is decided by a threshold in j,
// the baseline-only pairs: more of them only lowers the interval's bounds
// and makes the table more extreme for the exact test that checks it. That
// lets the sums run row by row on binomial tails, and the thresholds be
// found by bisection; rowThresholds checks each one at its edge.

// rowThresholds returns, for each row i of tables of n pairs, the fewest
// baseline-only pairs j at which a check at the limit -m fails (n-i+1 when
// none) and the most at which it passes (-1 when none), as the gate decides
// (gate.PassRateChange), with the method that decided. The rows are
// independent and shared among the CPUs (onAllCPUs).
func rowThresholds(n int, m float64) (fail, pass []int, method string, err error) {
	fail, pass = make([]int, n+1), make([]int, n+1)
	methods := make([]string, n+1)
	row := func(i int) error {
		decide := func(j int) (bool, bool) {
			f, p, meth := gate.PassRateChange(i, j, n, alpha, -m)
			methods[i] = meth
			return f, p
		}
		top := n - i
		fail[i] = sort.Search(top+1, func(j int) bool { f, _ := decide(j); return f })
		pass[i] = sort.Search(top+1, func(j int) bool { _, p := decide(j); return !p }) - 1
		// The edges: decided at the threshold, not one short of it.
		failsAt := func(j int) bool { f, _ := decide(j); return f }
		passesAt := func(j int) bool { _, p := decide(j); return p }
		switch {
		case fail[i] <= top && !failsAt(fail[i]):
			return fmt.Errorf("pflevel: n=%d m=%g: row %d does not fail at %d baseline-only pairs", n, m, i, fail[i])
		case fail[i] > 0 && failsAt(fail[i]-1):
			return fmt.Errorf("pflevel: n=%d m=%g: row %d fails below its threshold %d", n, m, i, fail[i])
		case pass[i] >= 0 && !passesAt(pass[i]):
			return fmt.Errorf("pflevel: n=%d m=%g: row %d does not pass at %d baseline-only pairs", n, m, i, pass[i])
		case pass[i] < top && passesAt(pass[i]+1):
			return fmt.Errorf("pflevel: n=%d m=%g: row %d passes past its threshold %d", n, m, i, pass[i])
		}
		return nil
	}
	// Each row writes only its own slots; the total is unused.
	_, err = onAllCPUs(n+1, func(_, i int) (struct{}, error) { return struct{}{}, row(i) }, func(*struct{}, struct{}) {})
	if err != nil {
		return nil, nil, "", err
	}
	return fail, pass, methods[n], nil
}

// rowsProb is the probability of the fail and pass regions at the rates
// p01 (target-only) and p10 (baseline-only): row i has probability
// Binomial(n, p01) at i, and given i the baseline-only count is
// Binomial(n-i, p10/(1-p01)).
func rowsProb(n int, fail, pass []int, p01, p10 float64) (pf, pp float64) {
	rows := distuv.Binomial{N: float64(n), P: p01}
	q := p10 / (1 - p01)
	for i := 0; i <= n; i++ {
		w := rows.Prob(float64(i))
		if p01 == 0 {
			w = 0
			if i == 0 {
				w = 1
			}
		}
		if w < 1e-300 {
			continue
		}
		given := distuv.Binomial{N: float64(n - i), P: q}
		if fail[i] <= n-i {
			pf += w * given.Survival(float64(fail[i])-0.5)
		}
		if pass[i] >= 0 {
			pp += w * given.CDF(float64(pass[i]))
		}
	}
	return pf, pp
}

func runPFLevel(sizes []int, margins []float64) error {
	fmt.Printf("The pass/fail interval's level at every discordance rate: every table of n pairs decided at one-sided α = %.3g, the probability of its false fails and false passes at the margin m summed exactly over the tables for 1,001 target-only rates p01 (the baseline-only rate p01 + m). Worst over the rates, with the rate where it is reached.\n\n", alpha)
	fmt.Println("| n | Margin m | Method | Worst false fail | at p01 | Worst false pass | at p01 | Guarantees |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	for _, n := range sizes {
		for _, m := range margins {
			fail, pass, method, err := rowThresholds(n, m)
			if err != nil {
				return err
			}
			var wf, wp, af, ap float64
			for g := 0; g <= 1000; g++ {
				p01 := (1 - m) / 2 * float64(g) / 1000
				pf, pp := rowsProb(n, fail, pass, p01, p01+m)
				if pf > wf {
					wf, af = pf, p01
				}
				if pp > wp {
					wp, ap = pp, p01
				}
			}
			verdict := "held"
			switch {
			case wf > alpha*(1+1e-9) && wp > alpha*(1+1e-9):
				verdict = "MISSED: false fail and false pass"
			case wf > alpha*(1+1e-9):
				verdict = "MISSED: false fail"
			case wp > alpha*(1+1e-9):
				verdict = "MISSED: false pass"
			}
			fmt.Printf("| %d | %g | %s | %.2f%% | %.4f | %.2f%% | %.4f | %s |\n", n, m, method, 100*wf, af, 100*wp, ap, verdict)
		}
	}
	return nil
}
