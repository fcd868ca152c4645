// Command gatesim measures the gate by simulation: how often it passes when
// nothing changed (A/A: the same stochastic system evaluated twice) and how
// often it catches a true drop, next to a naive gate that fails whenever the
// target's mean is below the baseline's. Every run writes two results files
// and calls gate.Compare, so what is measured is the gate itself.
//
//	go run ./scripts/gatesim            # 1000 runs per scenario
//	go run ./scripts/gatesim -runs 200  # quicker, noisier
package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"

	"github.com/evalgate/evalgate/internal/gate"
	"github.com/evalgate/evalgate/internal/metric"
	"github.com/evalgate/evalgate/internal/results"
	"github.com/evalgate/evalgate/internal/suite"
)

// scenario is one simulated situation.
type scenario struct {
	name    string
	n       int     // samples
	repeats int     // repeats per sample
	shift   float64 // true change of the target's quality (negative: a drop)
	metric  string  // "score" (continuous, 0..1) or "pass" (pass/fail)
	margin  float64 // allowed drop (absolute)
	mode    gate.Mode
	// clusters > 0 groups samples into clusters sharing a random effect;
	// clusterField says whether the gate is told about it.
	clusters     int
	clusterField bool
	// extra adds criteria on other metrics (for Holm across criteria).
	extra bool
	want  string
}

func main() {
	runs := flag.Int("runs", 1000, "simulated comparisons per scenario")
	seed := flag.Uint64("seed", 1, "simulation seed")
	flag.Parse()
	scenarios := []scenario{
		{name: "A/A, continuous score", n: 200, metric: "score", margin: 0.03, mode: gate.ModeRegression, want: "pass ≥ 95%"},
		{name: "A/A, continuous score, zero margin", n: 200, metric: "score", margin: 0, mode: gate.ModeRegression, want: "pass ≥ 95%"},
		{name: "A/A, pass/fail", n: 200, metric: "pass", margin: 0.05, mode: gate.ModeRegression, want: "pass ≥ 95%"},
		{name: "A/A, pass/fail, zero margin (McNemar)", n: 200, metric: "pass", margin: 0, mode: gate.ModeRegression, want: "pass ≥ 95%"},
		{name: "A/A, 3 repeats, pass/fail", n: 100, repeats: 3, metric: "pass", margin: 0.05, mode: gate.ModeRegression, want: "pass ≥ 95%"},
		{name: "A/A, 5 criteria (Holm)", n: 200, metric: "score", margin: 0, extra: true, mode: gate.ModeRegression, want: "pass ≥ 95%"},
		{name: "A/A, small suite (n=20, bootstrap)", n: 20, metric: "score", margin: 0.03, mode: gate.ModeRegression, want: "pass ≥ 95%"},
		{name: "A/A, clustered, cluster field set", n: 200, clusters: 25, clusterField: true, metric: "score", margin: 0, mode: gate.ModeRegression, want: "pass ≥ 95%"},
		{name: "A/A, clustered, cluster field NOT set", n: 200, clusters: 25, metric: "score", margin: 0, mode: gate.ModeRegression, want: "(shows why clusters matter)"},
		{name: "drop = 2 × margin, continuous", n: 200, shift: -0.06, metric: "score", margin: 0.03, mode: gate.ModeRegression, want: "fail ≥ 80%"},
		{name: "drop = 2 × margin, continuous, margin below MDE", n: 200, shift: -0.03, metric: "score", margin: 0.015, mode: gate.ModeRegression, want: "(underpowered: warned)"},
		{name: "drop = 2 × margin, pass/fail", n: 200, shift: -0.30, metric: "pass", margin: 0.15, mode: gate.ModeRegression, want: "fail ≥ 80%"},
		{name: "drop = 2 × margin, pass/fail, margin below MDE", n: 200, shift: -0.10, metric: "pass", margin: 0.05, mode: gate.ModeRegression, want: "(underpowered: warned)"},
		{name: "drop = margin / 2, continuous", n: 200, shift: -0.015, metric: "score", margin: 0.03, mode: gate.ModeRegression, want: "pass (within margin)"},
		{name: "A/A, non_inferiority", n: 200, metric: "score", margin: 0.03, mode: gate.ModeNonInferiority, want: "pass = power to show NI"},
		{name: "drop = 2 × margin, non_inferiority", n: 200, shift: -0.06, metric: "score", margin: 0.03, mode: gate.ModeNonInferiority, want: "pass ≤ 5%"},
	}
	dir, err := os.MkdirTemp("", "gatesim")
	if err != nil {
		fmt.Fprintln(os.Stderr, "gatesim:", err)
		os.Exit(1)
	}
	defer os.RemoveAll(dir)

	fmt.Printf("%d runs per scenario, confidence 0.95, seed %d\n\n", *runs, *seed)
	fmt.Println("| Scenario | n | Truth | Margin | Mode | evalgate exit 0 | verdict pass | verdict regressed | verdict inconclusive | underpowered warning | naive gate fails | Requirement |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|")
	for si, sc := range scenarios {
		r, err := simulate(dir, si, sc, *runs, *seed)
		if err != nil {
			fmt.Fprintln(os.Stderr, "gatesim:", err)
			os.Exit(1)
		}
		total := float64(*runs)
		n := strconv.Itoa(sc.n)
		if sc.repeats > 1 {
			n += "×" + strconv.Itoa(sc.repeats)
		}
		fmt.Printf("| %s | %s | %+.3f | %.3f | %s | %.1f%% | %.1f%% | %.1f%% | %.1f%% | %.0f%% | %.1f%% | %s |\n",
			sc.name, n, sc.shift, sc.margin, sc.mode,
			100*float64(r.exit0)/total, 100*float64(r.pass)/total, 100*float64(r.fail)/total, 100*float64(r.inconclusive)/total,
			100*float64(r.underpowered)/total, 100*float64(r.naiveFail)/total, sc.want)
	}
}

type tally struct{ exit0, pass, fail, inconclusive, underpowered, naiveFail int }

// simulate runs one scenario on all CPUs.
func simulate(dir string, si int, sc scenario, runs int, seed uint64) (tally, error) {
	var mu sync.Mutex
	var t tally
	var firstErr error
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for run := range jobs {
				res, err := once(dir, si, sc, run, seed)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				t.exit0 += res.exit0
				t.pass += res.pass
				t.fail += res.fail
				t.inconclusive += res.inconclusive
				t.underpowered += res.underpowered
				t.naiveFail += res.naiveFail
				mu.Unlock()
			}
		}()
	}
	for run := range runs {
		jobs <- run
	}
	close(jobs)
	wg.Wait()
	return t, firstErr
}

var metrics = []metric.Info{
	{Name: "score", Min: 0, Max: 1, Direction: metric.HigherIsBetter},
	{Name: "pass", Min: 0, Max: 1, Direction: metric.HigherIsBetter, PassFail: true},
	{Name: "f1", Min: 0, Max: 1, Direction: metric.HigherIsBetter},
}

// once simulates one comparison: a dataset of samples of varying difficulty,
// evaluated by the baseline and by the target (whose quality is shifted).
func once(dir string, si int, sc scenario, run int, seed uint64) (tally, error) {
	rng := rand.New(rand.NewPCG(seed, uint64(si)<<32|uint64(run)))
	diff := make([]float64, sc.n)
	for i := range diff {
		diff[i] = rng.Float64()
	}
	var effect []float64
	if sc.clusters > 0 {
		// A cluster (a document) makes its questions easier or harder for
		// this evaluation: correlated noise the pairs do not cancel.
		effect = make([]float64, sc.clusters)
	}
	reps := max(sc.repeats, 1)
	h := results.Header{Suite: "sim", SuiteHash: "h", Repeats: reps, Metrics: metrics}
	if sc.clusterField {
		h.Cluster = "doc"
	}
	var bMean, tMean float64
	paths := [2]string{}
	for side, shift := range []float64{0, sc.shift} {
		for c := range effect {
			effect[c] = rng.NormFloat64() * 0.05
		}
		id := []string{"baseline", "target"}[side]
		h.Targets = []results.TargetInfo{{ID: id, Provider: "sim", Model: id}}
		paths[side] = filepath.Join(dir, fmt.Sprintf("%d-%d-%s.jsonl", si, run, id))
		w, err := results.Create(paths[side], h)
		if err != nil {
			return tally{}, err
		}
		sum := 0.0
		for i, d := range diff {
			cl := ""
			e := 0.0
			if effect != nil {
				c := i % sc.clusters
				cl, e = "doc"+strconv.Itoa(c), effect[c]
			}
			for r := range reps {
				score := clamp(0.3 + 0.5*d + shift + e + rng.NormFloat64()*0.1)
				pass := 0.0
				if rng.Float64() < clamp(0.2+0.7*d+shift+e) {
					pass = 1
				}
				f1 := clamp(0.4 + 0.4*d + e + rng.NormFloat64()*0.1)
				cost := 0.002 * (0.8 + 0.4*rng.Float64())
				if sc.metric == "score" {
					sum += score
				} else {
					sum += pass
				}
				if err := w.Write(results.Record{
					SampleID: "s" + strconv.Itoa(i), Target: id, Repeat: r, Cluster: cl,
					LatencyMS: 500 + rng.ExpFloat64()*300, CostUSD: &cost,
					Scores: map[string]float64{"score": score, "pass": pass, "f1": f1},
				}); err != nil {
					return tally{}, err
				}
			}
		}
		if err := w.Close(results.Summary{Status: results.StatusComplete}); err != nil {
			return tally{}, err
		}
		if side == 0 {
			bMean = sum
		} else {
			tMean = sum
		}
	}
	defer os.Remove(paths[0])
	defer os.Remove(paths[1])

	crit := []suite.Criterion{{Metric: sc.metric, MaxDrop: &suite.Margin{Value: sc.margin}}}
	if sc.extra {
		crit = append(crit,
			suite.Criterion{Metric: "pass", MaxDrop: &suite.Margin{Value: 0}},
			suite.Criterion{Metric: "f1", MaxDrop: &suite.Margin{Value: 0}},
			suite.Criterion{Metric: "latency_p95", MaxIncrease: &suite.Margin{Value: 0, Relative: true}},
			suite.Criterion{Metric: "cost_per_1k", MaxIncrease: &suite.Margin{Value: 0, Relative: true}},
		)
	}
	v, err := gate.Compare(context.Background(), gate.Side{Path: paths[0]}, gate.Side{Path: paths[1]},
		gate.Config{Criteria: crit, Mode: sc.mode, Samples: -1, Seed: uint64(run)})
	if err != nil {
		return tally{}, err
	}
	var t tally
	switch {
	case v.Status == gate.StatusRegressed:
		t.fail = 1
	case v.Status == gate.StatusInconclusive:
		t.inconclusive = 1
	case v.Status == gate.StatusPass:
		t.pass = 1
	default:
		return t, fmt.Errorf("unexpected verdict %s: %s", v.Status, v.Reason)
	}
	if v.ExitCode() == gate.ExitPass {
		t.exit0 = 1
	}
	for _, c := range v.Criteria {
		if c.Underpowered {
			t.underpowered = 1
		}
	}
	if tMean < bMean {
		t.naiveFail = 1
	}
	return t, nil
}

func clamp(x float64) float64 { return math.Min(1, math.Max(0, x)) }
