// Command comparebench measures gate.Compare on a large suite: one results
// file with two targets of N samples each, compared on a pass/fail, a
// continuous and a latency criterion (issue 9's goal: 100,000 pairs in at most
// 3 s and 100 MB). It prints the wall time, the CPU time and the peak resident
// memory of the comparison alone (the files are written first, by a separate
// process, so that writing them does not count).
//
//	go run ./bench/comparebench -n 100000
//
// At the default settings (no GOMEMLIMIT) on the 2-core machine, with other
// work keeping its load average at 16–19, 100,000 pairs took 0.70–0.85 s CPU,
// 3.0–5.1 s wall (mostly waiting for a core) and 63–68 MB peak RSS; before the
// gate kept its records as columns and decoded them itself: 3.4–3.6 s CPU,
// 14.1–17.0 s wall and 151–167 MB in the same conditions. README.md's
// Performance section has the other sizes.
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/evalgate/evalgate/internal/gate"
	"github.com/evalgate/evalgate/internal/metric"
	"github.com/evalgate/evalgate/internal/provider"
	"github.com/evalgate/evalgate/internal/results"
	"github.com/evalgate/evalgate/internal/suite"
)

func main() {
	n := flag.Int("n", 100000, "samples (pairs)")
	file := flag.String("file", "", "compare this results file (written by the parent process)")
	cpuprofile := flag.String("cpuprofile", "", "write the comparison's CPU profile to `file`")
	memprofile := flag.String("memprofile", "", "write the comparison's allocation profile to `file`")
	flag.Parse()
	if *file != "" {
		if *cpuprofile != "" {
			f, err := os.Create(*cpuprofile)
			check(err)
			check(pprof.StartCPUProfile(f))
			defer pprof.StopCPUProfile()
		}
		code := compare(*file, *n)
		pprof.StopCPUProfile()
		if *memprofile != "" {
			f, err := os.Create(*memprofile)
			check(err)
			check(pprof.Lookup("allocs").WriteTo(f, 0))
			f.Close()
		}
		os.Exit(code)
	}
	dir, err := os.MkdirTemp("", "comparebench")
	check(err)
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "results.jsonl")
	t0 := time.Now()
	check(write(path, *n))
	fi, err := os.Stat(path)
	check(err)
	fmt.Printf("wrote %d pairs (%.1f MB) in %.2f s\n", *n, float64(fi.Size())/1e6, time.Since(t0).Seconds())
	// Compare in a child process so that its peak RSS is the comparison's.
	cmd := exec.Command(os.Args[0], "-file", path, "-n", strconv.Itoa(*n), "-cpuprofile", *cpuprofile, "-memprofile", *memprofile)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	check(cmd.Run())
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	fmt.Printf("compare: peak RSS %.1f MB, CPU %.2f s\n", float64(ru.Maxrss)/1024, cpu.Seconds())
}

func compare(path string, n int) int {
	t0 := time.Now()
	crit := []suite.Criterion{
		{Metric: "exact_match", MaxDrop: &suite.Margin{Value: 0.02}},
		{Metric: "f1", MaxDrop: &suite.Margin{Value: 0.02}},
		{Metric: "latency_p95", MaxIncrease: &suite.Margin{Value: 0.2, Relative: true}},
	}
	v, err := gate.Compare(context.Background(), gate.Side{Path: path, Target: "base"}, gate.Side{Path: path, Target: "cand"},
		gate.Config{Criteria: crit})
	if err != nil {
		fmt.Fprintln(os.Stderr, "comparebench:", err)
		return 1
	}
	wall := time.Since(t0)
	var st []string
	for _, c := range v.Criteria {
		st = append(st, c.Metric+" "+string(c.Status))
	}
	fmt.Printf("compare: %d pairs in %.2f s wall; verdict %s (%s)\n", v.Pairs, wall.Seconds(), v.Status, strings.Join(st, ", "))
	return 0
}

func write(path string, n int) error {
	h := results.Header{Suite: "bench", SuiteHash: "h", Repeats: 1, Metrics: []metric.Info{
		{Name: "exact_match", Min: 0, Max: 1, Direction: metric.HigherIsBetter, PassFail: true},
		{Name: "f1", Min: 0, Max: 1, Direction: metric.HigherIsBetter},
	}, Targets: []results.TargetInfo{{ID: "base", Provider: "sim", Model: "a"}, {ID: "cand", Provider: "sim", Model: "b"}}}
	w, err := results.Create(path, h)
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range n {
		d := rng.Float64()
		for _, id := range []string{"base", "cand"} {
			cost := 0.001 + 0.001*rng.Float64()
			em := 0.0
			if rng.Float64() < 0.3+0.5*d {
				em = 1
			}
			if err := w.Write(results.Record{SampleID: "s" + strconv.Itoa(i), Target: id,
				LatencyMS: 300 + rng.ExpFloat64()*400, CostUSD: &cost,
				Usage:  provider.Usage{InputTokens: 200 + rng.IntN(100), OutputTokens: 50 + rng.IntN(100)},
				Scores: map[string]float64{"exact_match": em, "f1": 0.3 + 0.5*d + 0.1*rng.NormFloat64()}}); err != nil {
				return err
			}
		}
	}
	return w.Close(results.Summary{Status: results.StatusComplete})
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "comparebench:", err)
		os.Exit(1)
	}
}
