// Command gatesim measures the gate's guarantees by simulation. For each kind
// of data and each suite size it draws many comparisons whose truth sits
// exactly at the criterion's margin, and counts how often the gate
//
//   - fails the check in regression mode (a false fail: the truth is not
//     past the margin), which must stay at or below the one-sided α = 2.5%;
//   - passes it in non_inferiority mode (a false pass: the truth is not
//     within the margin), which must stay at or below 2.5% too;
//
// then draws comparisons whose truth is twice the margin and counts how often
// regression mode catches it (its power), next to the power of the ideal
// paired test on the same data (a one-sided paired t test, or the exact
// binomial test for an error rate, that knows nothing of degenerate data).
// Every rate is printed with its 95% Wilson interval; a guarantee is missed
// when the interval lies wholly above 2.5%.
//
// Each comparison writes two results files and calls gate.Compare, so what is
// measured is the gate itself.
//
//	go run ./scripts/gatesim                 # 2000 runs per cell (RESULTS.md)
//	go run ./scripts/gatesim -runs 200       # quicker, noisier
//	go run ./scripts/gatesim -only rare -n 5,30
//	go run ./scripts/gatesim -only seq -n 50,200,1000   # sequential runs
package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"

	"github.com/evalgate/evalgate/internal/gate"
	"github.com/evalgate/evalgate/internal/metric"
	"github.com/evalgate/evalgate/internal/results"
	"github.com/evalgate/evalgate/internal/suite"
	"gonum.org/v1/gonum/stat/distuv"
)

// alpha is the one-sided level at confidence 0.95.
const alpha = 0.025

// draw fills one comparison's records: per sample and repeat the baseline's
// and the target's score (or error flag, for the error-rate scenario), for a
// true change of delta.
type draw func(rng *rand.Rand, n, repeats int, delta float64) (b, t [][]float64)

// scenario is one kind of data.
type scenario struct {
	key, name string
	// metric is what the criterion is on: "score" (0..1), "pass"
	// (pass/fail) or "error_rate".
	metric  string
	repeats int
	// margin is the criterion's margin at suite size n.
	margin func(n int) float64
	draw   draw
	// rates, for pass/fail data, gives the chance that a pair is
	// target-only (p01) or baseline-only (p10) at a true change delta: what
	// the exact analysis of the ideal test needs (ideal.go).
	rates func(delta float64) (p01, p10 float64)
	// gap is the size of a discordant pair's difference when it is not 1
	// (scores of 0.5 or 1): the exact analysis then works in units of gap.
	gap float64
	// lowest is the lowest true change the draw can take (-1 when zero):
	// a pass rate or a judge's share of falls cannot go past it.
	lowest float64
	// sd, when set, is the standard deviation of one unit's change at the
	// true change delta, for a draw whose rates do not give it
	// (sequential.go's seqSD).
	sd func(delta float64) float64
	// agreeGap, when set, says that at no change every pair agrees and the
	// scores take two values agreeGap apart: the sequential table's clear
	// pass then prints the earliest look at which any test that holds its
	// level could pass (sequential.go's earliestPass).
	agreeGap float64
}

// powerMargin is the margin at which the ideal test on n units with the
// given per-unit standard deviation has about 80% power against a change of
// twice the margin, capped so that the scores stay in range.
func powerMargin(sd, limit float64) func(int) float64 {
	return func(n int) float64 { return math.Min(limit, 2.8*sd/math.Sqrt(float64(n))) }
}

func uniform(rng *rand.Rand, w float64) float64 { return (rng.Float64()*2 - 1) * w }

func bern(rng *rand.Rand, p float64) float64 {
	if rng.Float64() < p {
		return 1
	}
	return 0
}

// cells draws a paired pass/fail outcome from its four probabilities:
// q11 both pass, q10 only the baseline passes, q01 only the target.
func cells(rng *rand.Rand, q11, q10, q01 float64) (b, t float64) {
	u := rng.Float64()
	switch {
	case u < q11:
		return 1, 1
	case u < q11+q10:
		return 1, 0
	case u < q11+q10+q01:
		return 0, 1
	}
	return 0, 0
}

func grid(n, repeats int) (b, t [][]float64) {
	b, t = make([][]float64, n), make([][]float64, n)
	for i := range b {
		b[i], t[i] = make([]float64, repeats), make([]float64, repeats)
	}
	return b, t
}

// skewedJudge draws a judge score that is 1 for 90% of the baseline's
// samples and 0.5 otherwise; the target falls from 1 on a further share of
// the same samples, to 0 with probability toZero and to 0.5 otherwise, the
// share set so that the mean falls by -delta: one-sided differences, rare
// at small n.
func skewedJudge(toZero float64) draw {
	share := 1 / (0.5*(1-toZero) + toZero)
	return func(rng *rand.Rand, n, reps int, delta float64) ([][]float64, [][]float64) {
		b, t := grid(n, reps)
		for i := range b {
			u := rng.Float64()
			b[i][0], t[i][0] = 0.5, 0.5
			if u < 0.9 {
				b[i][0], t[i][0] = 1, 1
			}
			if u < 0.9 && u >= 0.9+share*delta {
				t[i][0] = 0.5
				if toZero > 0 && rng.Float64() < toZero {
					t[i][0] = 0
				}
			}
		}
		return b, t
	}
}

var scenarios = []scenario{
	{
		key: "cont", name: "continuous score, correlated pairs", metric: "score", repeats: 1,
		margin: powerMargin(0.0816, 0.1),
		draw: func(rng *rand.Rand, n, reps int, delta float64) ([][]float64, [][]float64) {
			b, t := grid(n, reps)
			for i := range b {
				d := rng.Float64()
				b[i][0] = 0.3 + 0.4*d + uniform(rng, 0.1)
				t[i][0] = 0.3 + 0.4*d + delta + uniform(rng, 0.1)
			}
			return b, t
		},
	},
	{
		key: "indep", name: "continuous score, independent pairs", metric: "score", repeats: 1,
		margin: powerMargin(0.183, 0.1),
		draw: func(rng *rand.Rand, n, reps int, delta float64) ([][]float64, [][]float64) {
			b, t := grid(n, reps)
			for i := range b {
				b[i][0] = 0.3 + 0.4*rng.Float64() + uniform(rng, 0.1)
				t[i][0] = 0.3 + 0.4*rng.Float64() + delta + uniform(rng, 0.1)
			}
			return b, t
		},
	},
	{
		key: "clustered", name: "continuous score, 3 repeats (clustered by sample)", metric: "score", repeats: 3,
		margin: powerMargin(0.073, 0.1),
		draw: func(rng *rand.Rand, n, reps int, delta float64) ([][]float64, [][]float64) {
			b, t := grid(n, reps)
			for i := range b {
				d := rng.Float64()
				// A sample-level effect shared by the target's repeats:
				// correlated noise that pairing does not cancel.
				u := uniform(rng, 0.1)
				for r := range reps {
					b[i][r] = 0.3 + 0.4*d + uniform(rng, 0.1)
					t[i][r] = 0.3 + 0.4*d + delta + u + uniform(rng, 0.1)
				}
			}
			return b, t
		},
	},
	{
		key: "pf", name: "pass/fail, correlated pairs", metric: "pass", repeats: 1,
		margin: powerMargin(0.387, 0.2),
		draw: func(rng *rand.Rand, n, reps int, delta float64) ([][]float64, [][]float64) {
			b, t := grid(n, reps)
			for i := range b {
				b[i][0], t[i][0] = cells(rng, 0.4, 0.05-delta, 0.05)
			}
			return b, t
		},
		rates:  func(delta float64) (float64, float64) { return 0.05, 0.05 - delta },
		lowest: -0.5,
	},
	{
		key: "pfindep", name: "pass/fail, independent pairs", metric: "pass", repeats: 1,
		margin: powerMargin(0.69, 0.25),
		draw: func(rng *rand.Rand, n, reps int, delta float64) ([][]float64, [][]float64) {
			b, t := grid(n, reps)
			for i := range b {
				b[i][0], t[i][0] = bern(rng, 0.6), bern(rng, 0.6+delta)
			}
			return b, t
		},
		rates:  func(delta float64) (float64, float64) { return (0.6 + delta) * 0.4, 0.6 * (0.4 - delta) },
		lowest: -0.6,
	},
	{
		key: "pfnear1", name: "pass/fail near 1 (97% pass)", metric: "pass", repeats: 1,
		margin: powerMargin(0.2, 0.05),
		draw: func(rng *rand.Rand, n, reps int, delta float64) ([][]float64, [][]float64) {
			b, t := grid(n, reps)
			for i := range b {
				b[i][0], t[i][0] = cells(rng, 0.96+delta, 0.01-delta, 0.01)
			}
			return b, t
		},
		rates:  func(delta float64) (float64, float64) { return 0.01, 0.01 - delta },
		lowest: -0.96,
	},
	{
		key: "rare", name: "degenerate: constant score with rare failures", metric: "score", repeats: 1,
		margin: func(n int) float64 { return math.Min(0.1, 3/float64(n)+0.005) },
		draw: func(rng *rand.Rand, n, reps int, delta float64) ([][]float64, [][]float64) {
			// The baseline always scores 1; the target scores 0 with
			// probability -delta. Most small samples are all equal.
			b, t := grid(n, reps)
			for i := range b {
				b[i][0], t[i][0] = 1, 1-bern(rng, -delta)
			}
			return b, t
		},
		rates:    func(delta float64) (float64, float64) { return 0, -delta },
		agreeGap: 1,
	},
	{
		key: "skew", name: "skewed score: 1 or 0.5, nearly always 1", metric: "score", repeats: 1,
		margin: func(n int) float64 { return math.Min(0.05, 1.5/float64(n)+0.0025) },
		draw:   skewedJudge(0),
		rates:  func(delta float64) (float64, float64) { return 0, -2 * delta },
		gap:    0.5,
		// The share of the samples that fall is at most 0.9.
		lowest:   -0.45,
		agreeGap: 0.5,
	},
	{
		key: "skew3", name: "skewed score: 1, 0.5 or 0, nearly always 1", metric: "score", repeats: 1,
		margin: func(n int) float64 { return math.Min(0.05, 1.5/float64(n)+0.0025) },
		draw:   skewedJudge(1.0 / 3),
		lowest: -0.6,
		// With no change the target falls nowhere: the scores are the
		// baseline's, 1 or 0.5.
		agreeGap: 0.5,
		// A share f = 1.5·|delta| of the samples falls, by 1 a third of the
		// time and by 0.5 otherwise.
		sd: func(delta float64) float64 { return math.Sqrt(-1.5*delta/2 - delta*delta) },
	},
	{
		key: "errors", name: "error rate near 0 (max_error_rate = margin)", metric: "error_rate", repeats: 1,
		margin: func(n int) float64 { return math.Max(0.02, math.Min(0.1, 6/float64(n))) },
		// An error rate of 1 has no spread to measure a distance in.
		lowest: -0.999,
		draw: func(rng *rand.Rand, n, reps int, delta float64) ([][]float64, [][]float64) {
			// delta is minus the target's true error rate.
			b, t := grid(n, reps)
			for i := range b {
				t[i][0] = bern(rng, -delta)
			}
			return b, t
		},
	},
}

func main() {
	runs := flag.Int("runs", 2000, "simulated comparisons per cell")
	seed := flag.Uint64("seed", 1, "simulation seed")
	ns := flag.String("n", "5,10,20,30,50,200,1000", "suite sizes (independent units)")
	only := flag.String("only", "", "comma-separated scenario keys to run (all when empty); seq runs the sequential table, seqexact the exact sequential designs on error rates, pflevel the pass/fail interval's level at every discordance rate")
	seqData := flag.String("seqdata", "cont,pf,errors", "scenario keys of the sequential table (-only seq)")
	seqRows := flag.String("seqrows", "", "comma-separated rows of the sequential table to run, from 1 (all when empty): 1 is at the margin")
	pfMargins := flag.String("margins", "0.005,0.01,0.02,0.05", "margins of the pass/fail level table (-only pflevel)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile to `file`")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "gatesim:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	var sizes []int
	for _, f := range strings.Split(*ns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "gatesim: -n %q: want sizes like 5,10,20\n", *ns)
			os.Exit(2)
		}
		sizes = append(sizes, n)
	}
	dir, err := os.MkdirTemp(tmpBase(), "gatesim")
	if err != nil {
		fmt.Fprintln(os.Stderr, "gatesim:", err)
		os.Exit(1)
	}
	defer os.RemoveAll(dir)
	if *only == "seqexact" {
		runSeqExact(sizes)
		return
	}
	if *only == "pflevel" {
		var margins []float64
		for _, f := range strings.Split(*pfMargins, ",") {
			m, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
			if err != nil || !(m > 0 && m < 1) {
				fmt.Fprintf(os.Stderr, "gatesim: -margins %q: want margins in (0, 1) like 0.01,0.05\n", *pfMargins)
				os.Exit(2)
			}
			margins = append(margins, m)
		}
		if err := runPFLevel(sizes, margins); err != nil {
			fmt.Fprintln(os.Stderr, "gatesim:", err)
			os.Exit(1)
		}
		return
	}
	if *only == "seq" {
		var rows []int
		for _, r := range strings.Split(*seqRows, ",") {
			if r == "" {
				continue
			}
			k, err := strconv.Atoi(r)
			if err != nil || k < 1 || k > len(seqCases) {
				fmt.Fprintf(os.Stderr, "gatesim: -seqrows %q: rows are numbers from 1 to %d\n", *seqRows, len(seqCases))
				os.Exit(2)
			}
			rows = append(rows, k-1)
		}
		if err := runSequential(dir, strings.Split(*seqData, ","), rows, sizes, *runs, *seed); err != nil {
			fmt.Fprintln(os.Stderr, "gatesim:", err)
			os.Exit(1)
		}
		return
	}

	fmt.Printf("%d runs per cell, confidence 0.95 (one-sided α = 2.5%%), seed %d. Rates with 95%% Wilson intervals.\n\n", *runs, *seed)
	fmt.Println("| Data | n | Margin | False fail at margin (regression) | False pass at margin (non_inferiority) | Power at 2× margin (regression) | Ideal paired test's power | Ideal test's false fail at margin | Ideal test's worst-case false fail (exact) | Ideal test held to 2.5%: power (exact) | Guarantees |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|")
	for si, sc := range scenarios {
		if *only != "" && !strings.Contains(","+*only+",", ","+sc.key+",") {
			continue
		}
		for _, n := range sizes {
			m := sc.margin(n)
			atMargin, err := simulate(dir, si, sc, n, -m, m, *runs, *seed)
			if err != nil {
				fmt.Fprintln(os.Stderr, "gatesim:", err)
				os.Exit(1)
			}
			twice, err := simulate(dir, si, sc, n, -2*m, m, *runs, *seed+1)
			if err != nil {
				fmt.Fprintln(os.Stderr, "gatesim:", err)
				os.Exit(1)
			}
			units := strconv.Itoa(n)
			if sc.repeats > 1 {
				units += "×" + strconv.Itoa(sc.repeats)
			}
			var notes []string
			if lo, _ := wilson(atMargin.regFail, *runs); lo > alpha {
				notes = append(notes, "MISSED: false fail")
			}
			if lo, _ := wilson(atMargin.niPass, *runs); lo > alpha {
				notes = append(notes, "MISSED: false pass")
			}
			gap := 100 * float64(twice.ideal-twice.regFail) / float64(*runs)
			// A power gap counts only against an ideal test that keeps its
			// own level: a test that false-fails more often is not a bar.
			idealValid := true
			if lo, _ := wilson(atMargin.ideal, *runs); lo > alpha {
				idealValid = false
				notes = append(notes, "the ideal test's own false fails exceed 2.5%")
			}
			worst, held := "—", "—"
			if sc.rates != nil && n <= exactMaxN {
				p01, p10 := sc.rates(-2 * m)
				ex := analyseIdeal(n, m/cmp.Or(sc.gap, 1), p01, p10)
				worst, held = pct(ex.worstSize), pct(ex.heldPower)
				if idealValid && ex.worstSize > alpha {
					idealValid = false
					notes = append(notes, fmt.Sprintf("the ideal test is not a level-2.5%% test here (worst case %s)", pct(ex.worstSize)))
				}
				// When the ideal test false-fails more than α (measured, or
				// at some discordance rate), the bar is the same test held
				// to α, and the gap counts when even the gate's power's
				// upper Wilson bound is 2 points below it.
				if _, hi := wilson(twice.regFail, *runs); !idealValid && 100*(ex.heldPower-hi) > 2 {
					notes = append(notes, fmt.Sprintf("power %.1f points below the ideal test held to 2.5%%", 100*(ex.heldPower-float64(twice.regFail)/float64(*runs))))
				}
			}
			if gap > 2 && idealValid {
				notes = append(notes, fmt.Sprintf("power %.1f points below ideal", gap))
			}
			if len(notes) == 0 {
				notes = append(notes, "held")
			}
			fmt.Printf("| %s | %s | %.3g | %s | %s | %s | %s | %s | %s | %s | %s |\n", sc.name, units, m,
				rate(atMargin.regFail, *runs), rate(atMargin.niPass, *runs),
				rate(twice.regFail, *runs), rate(twice.ideal, *runs), rate(atMargin.ideal, *runs), worst, held, strings.Join(notes, "; "))
		}
	}
}

// tmpBase prefers memory-backed /dev/shm for the many small results files.
func tmpBase() string {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		return "/dev/shm"
	}
	return ""
}

// pct formats an exact rate as a percentage.
func pct(p float64) string { return fmt.Sprintf("%.1f%%", 100*p) }

// rate formats k of n as a percentage with its Wilson interval.
func rate(k, n int) string {
	lo, hi := wilson(k, n)
	return fmt.Sprintf("%.1f%% [%.1f, %.1f]", 100*float64(k)/float64(n), 100*lo, 100*hi)
}

// wilson is the 95% Wilson score interval of k successes in n.
func wilson(k, n int) (lo, hi float64) {
	const z = 1.959963984540054
	p, nn := float64(k)/float64(n), float64(n)
	c := (p + z*z/(2*nn)) / (1 + z*z/nn)
	h := z / (1 + z*z/nn) * math.Sqrt(p*(1-p)/nn+z*z/(4*nn*nn))
	return math.Max(0, c-h), math.Min(1, c+h)
}

type tally struct{ regFail, niPass, ideal int }

// simulate runs one cell on all CPUs.
func simulate(dir string, si int, sc scenario, n int, delta, margin float64, runs int, seed uint64) (tally, error) {
	return onAllCPUs(runs, func(worker, run int) (tally, error) {
		return once(dir, worker, si, sc, n, delta, margin, run, seed)
	}, func(t *tally, r tally) {
		t.regFail += r.regFail
		t.niPass += r.niPass
		t.ideal += r.ideal
	})
}

// onAllCPUs runs f for runs 0..runs-1 on every CPU (worker numbers the
// goroutine, for its files), adds each result into the total, and returns
// the first error.
func onAllCPUs[T any](runs int, f func(worker, run int) (T, error), add func(total *T, r T)) (T, error) {
	var mu sync.Mutex
	var total T
	var firstErr error
	jobs := make(chan int)
	var wg sync.WaitGroup
	for w := range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for run := range jobs {
				r, err := f(w, run)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				add(&total, r)
				mu.Unlock()
			}
		}()
	}
	for run := range runs {
		jobs <- run
	}
	close(jobs)
	wg.Wait()
	return total, firstErr
}

var metrics = []metric.Info{
	{Name: "score", Min: 0, Max: 1, Direction: metric.HigherIsBetter},
	{Name: "pass", Min: 0, Max: 1, Direction: metric.HigherIsBetter, PassFail: true},
}

// once simulates one comparison and checks the criterion in both modes.
func once(dir string, worker, si int, sc scenario, n int, delta, margin float64, run int, seed uint64) (tally, error) {
	rng := rand.New(rand.NewPCG(seed, uint64(si)<<48|uint64(n)<<24|uint64(run)))
	bv, tv := sc.draw(rng, n, sc.repeats, delta)
	paths, err := writeSides(dir, worker, sc, bv, tv)
	if err != nil {
		return tally{}, err
	}
	// One comparison checks the criterion in both modes: the regression
	// check is alone in Holm's family, and non-inferiority is not adjusted.
	v, err := gate.Compare(context.Background(), gate.Side{Path: paths[0]}, gate.Side{Path: paths[1]},
		gate.Config{Criteria: bothModes(sc, margin), Samples: -1})
	if err != nil {
		return tally{}, err
	}
	if err := checkTwo(v); err != nil {
		return tally{}, err
	}
	var t tally
	if v.Criteria[0].Status == gate.CheckFail {
		t.regFail = 1
	}
	if v.Criteria[1].Status == gate.CheckPass {
		t.niPass = 1
	}
	if idealRejects(sc, bv, tv, margin) {
		t.ideal = 1
	}
	return t, nil
}

// writeSides writes one comparison's two results files (a worker's own, reused
// run after run) and returns their paths.
func writeSides(dir string, worker int, sc scenario, bv, tv [][]float64) ([2]string, error) {
	h := results.Header{Suite: "sim", SuiteHash: "h", Repeats: sc.repeats, Metrics: metrics}
	var paths [2]string
	for side, vals := range [][][]float64{bv, tv} {
		id := []string{"baseline", "target"}[side]
		h.Targets = []results.TargetInfo{{ID: id, Provider: "sim", Model: id}}
		paths[side] = filepath.Join(dir, fmt.Sprintf("w%d-%s.jsonl", worker, id))
		w, err := results.Create(paths[side], h)
		if err != nil {
			return paths, err
		}
		for i, reps := range vals {
			for r, x := range reps {
				rec := results.Record{SampleID: "s" + strconv.Itoa(i), Target: id, Repeat: r, LatencyMS: 500}
				if sc.metric == "error_rate" {
					if x == 1 {
						rec.Error = &results.RecordError{Kind: "invalid_request", Message: "simulated"}
					} else {
						rec.Scores = map[string]float64{"score": 1}
					}
				} else {
					rec.Scores = map[string]float64{sc.metric: x}
				}
				if err := w.Write(rec); err != nil {
					return paths, err
				}
			}
		}
		if err := w.Close(results.Summary{Status: results.StatusComplete}); err != nil {
			return paths, err
		}
	}
	return paths, nil
}

// bothModes is the scenario's criterion in regression mode, then in
// non_inferiority mode.
func bothModes(sc scenario, margin float64) []suite.Criterion {
	crit := func(mode suite.Mode) suite.Criterion {
		c := suite.Criterion{Metric: sc.metric, Mode: mode}
		if sc.metric == "error_rate" {
			c.MaxErrorRate = &margin
		} else {
			c.MaxDrop = &suite.Margin{Value: margin}
		}
		return c
	}
	return []suite.Criterion{crit(suite.ModeRegression), crit(suite.ModeNonInferiority)}
}

// checkTwo checks that a comparison made the two checks of bothModes.
func checkTwo(v *gate.Verdict) error {
	if len(v.Criteria) != 2 {
		return fmt.Errorf("%d checks, want 2", len(v.Criteria))
	}
	for _, c := range v.Criteria {
		if c.Status == gate.CheckError {
			return fmt.Errorf("check error: %s", c.Reason)
		}
	}
	return nil
}

// idealRejects is the textbook test of "the change is past the margin" at
// one-sided α: a paired t test on the per-sample mean differences, or the
// exact binomial test of an error rate.
func idealRejects(sc scenario, bv, tv [][]float64, margin float64) bool {
	n := len(bv)
	if sc.metric == "error_rate" {
		k := 0
		for i := range tv {
			k += int(tv[i][0])
		}
		// P(X >= k) under the allowed rate.
		return distuv.Binomial{N: float64(n), P: margin}.Survival(float64(k)-1) < alpha
	}
	d := make([]float64, n)
	for i := range bv {
		for r := range bv[i] {
			d[i] += tv[i][r] - bv[i][r]
		}
		d[i] /= float64(len(bv[i]))
	}
	mean, ss := 0.0, 0.0
	for _, x := range d {
		mean += x
	}
	mean /= float64(n)
	for _, x := range d {
		ss += (x - mean) * (x - mean)
	}
	se := math.Sqrt(ss / float64(n-1) / float64(n))
	if se == 0 {
		return mean < -margin
	}
	q := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(n - 1)}.Quantile(1 - alpha)
	return (mean+margin)/se < -q
}
