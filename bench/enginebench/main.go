// Command enginebench measures the run engine: N samples through a local fake
// provider with a fixed latency, streamed from a real JSONL dataset through
// real metrics into a real results file. It prints wall time against the ideal
// N x latency / concurrency, CPU time per sample and peak RSS.
//
//	go run ./bench/enginebench -samples 2000 -concurrency 16 -latency 50ms
//
// With -bedrock the calls go over HTTP through the real AWS SDK client to a
// fake Bedrock runtime on 127.0.0.1 (the same engine, retries and adaptive
// limiter as `evalgate run`); -throttle makes the fake throttle that share of
// calls at random, -capacity throttles calls beyond that many in flight. The
// last line sets the wall time against issue 14's goals: at most 1.3 times
// the capacity bound (N x latency / capacity), at most 1.5 times the ideal
// under random throttling, and no sample lost.
//
//	go run ./bench/enginebench -bedrock -samples 2000 -concurrency 16 -latency 50ms -throttle 0.3
//	go run ./bench/enginebench -bedrock -samples 2000 -concurrency 16 -latency 50ms -capacity 8
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go/logging"

	"github.com/evalgate/evalgate/internal/metric"
	"github.com/evalgate/evalgate/internal/provider"
	"github.com/evalgate/evalgate/internal/provider/bedrock"
	"github.com/evalgate/evalgate/internal/provider/bedrock/bedrockfake"
	"github.com/evalgate/evalgate/internal/results"
	"github.com/evalgate/evalgate/internal/run"
	"github.com/evalgate/evalgate/internal/suite"
	"github.com/evalgate/evalgate/internal/throttle"
)

// fixedLatency answers every call after the same delay, like a model server
// whose latency does not depend on load.
type fixedLatency struct{ d time.Duration }

func (f fixedLatency) Complete(ctx context.Context, req provider.Request) (provider.Response, error) {
	t := time.NewTimer(f.d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		return provider.Response{}, ctx.Err()
	}
	return provider.Response{Text: "You can reset it from Settings > Security; the link expires after one hour.",
		Usage: provider.Usage{InputTokens: 120, OutputTokens: 24}, Latency: f.d}, nil
}

func main() {
	var o opts
	flag.IntVar(&o.n, "samples", 2000, "samples to evaluate")
	flag.IntVar(&o.conc, "concurrency", 16, "calls in flight")
	flag.DurationVar(&o.lat, "latency", 50*time.Millisecond, "fake provider latency")
	flag.BoolVar(&o.bedrock, "bedrock", false, "call a fake Bedrock over HTTP through the AWS SDK client")
	flag.Float64Var(&o.throttle, "throttle", 0, "with -bedrock: share of calls the fake throttles at random")
	flag.IntVar(&o.capacity, "capacity", 0, "with -bedrock: calls in flight beyond which the fake throttles")
	flag.Parse()
	if err := bench(o); err != nil {
		fmt.Fprintln(os.Stderr, "enginebench:", err)
		os.Exit(1)
	}
}

// capSamples and capTotal average the limiter's cap over the run.
var capSamples, capTotal, flightTotal atomic.Int64

type opts struct {
	n, conc, capacity int
	lat               time.Duration
	bedrock           bool
	throttle          float64
}

func bench(o opts) error {
	n, conc, lat := o.n, o.conc, o.lat
	dir, err := os.MkdirTemp("", "enginebench-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := writeDataset(filepath.Join(dir, "data.jsonl"), n); err != nil {
		return err
	}
	// The suite gives the dataset, prompt and metrics; its target is replaced
	// by the in-process fake below, so its command is never run.
	cfg := fmt.Sprintf("version: 1\nname: bench\ndataset: {path: data.jsonl}\nprompts:\n  p: {system: be brief, user: \"Context: {{context}}\\nQuestion: {{question}}\"}\n"+
		"targets:\n  - {id: fake, provider: command, command: [unused], model: fake, prompt: p}\nmetrics: [f1, rouge_l, exact_match]\nrun: {concurrency: %d}\n", conc)
	cfgPath := filepath.Join(dir, "evalgate.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		return err
	}
	s, err := suite.Load(cfgPath)
	if err != nil {
		return err
	}
	var metrics []metric.Metric
	var infos []metric.Info
	for _, spec := range s.Metrics {
		m, err := metric.New(spec)
		if err != nil {
			return err
		}
		metrics = append(metrics, m)
		infos = append(infos, m.Info())
	}
	tpl := s.Templates["p"]
	target := run.Target{Info: results.TargetInfo{ID: "fake", Provider: "fake", Model: "fake"},
		Provider: fixedLatency{lat}, Render: tpl.Render}
	retries := 0
	var srv *bedrockfake.Server
	if o.bedrock {
		srv = bedrockfake.NewServer(bedrockfake.Options{Prefix: "/bench", Latency: lat, ThrottleRate: o.throttle, Capacity: o.capacity, Seed: 1,
			Reply: bedrockfake.Reply{Text: "You can reset it from Settings > Security; the link expires after one hour.", InputTokens: 120, OutputTokens: 24}})
		defer srv.Close()
		client, err := bedrock.New(context.Background(), bedrock.Options{
			Region:      "us-east-1",
			Endpoint:    srv.Endpoint(),
			Credentials: credentials.NewStaticCredentialsProvider("AKIDBENCH", "bench-secret", ""),
			ConfigOptions: []func(*config.LoadOptions) error{
				config.WithSharedConfigFiles([]string{}), config.WithSharedCredentialsFiles([]string{}), config.WithLogger(logging.Nop{}),
			},
		})
		if err != nil {
			return err
		}
		target.Info.Provider, target.Provider = "bedrock", client
		lim := throttle.New(0, 0, conc)
		target.Limiter = lim
		retries = 10
		// Sample the adaptive cap, to see what throttling did to it.
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			t := time.NewTicker(50 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-t.C:
					capSamples.Add(1)
					capTotal.Add(int64(lim.Limit()))
					flightTotal.Add(int64(lim.InFlight()))
				}
			}
		}()
	}
	w, err := results.Create(filepath.Join(dir, "results.jsonl"), results.Header{Suite: "bench", Metrics: infos})
	if err != nil {
		return err
	}
	ds, err := suite.OpenDataset(s)
	if err != nil {
		return err
	}
	defer ds.Close()

	cpu0 := cpuTime()
	start := time.Now()
	sum, err := run.New([]run.Target{target}, metrics, run.Options{Concurrency: conc, Retries: retries}).Run(context.Background(), ds, w)
	wall := time.Since(start)
	cpu := cpuTime() - cpu0
	if err != nil {
		return err
	}
	if err := w.Close(sum); err != nil {
		return err
	}
	ideal := time.Duration(n) * lat / time.Duration(conc)
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	ts := sum.Targets[0]
	fmt.Printf("samples=%d concurrency=%d latency=%s bedrock=%t throttle=%.2f capacity=%d\n", n, conc, lat, o.bedrock, o.throttle, o.capacity)
	fmt.Printf("records=%d errors=%d skipped=%d lost=%d status=%s\n", ts.Records, ts.Errors, ts.Skipped, n-(ts.Records-ts.Errors), sum.Status)
	if srv != nil {
		mean := 0.0
		if n := capSamples.Load(); n > 0 {
			mean = float64(capTotal.Load()) / float64(n)
		}
		fmt.Printf("calls=%d retries=%d throttled=%d mean_concurrency_cap=%.1f mean_in_flight=%.1f\n", srv.Calls(), ts.Retries, srv.Throttled(), mean, float64(flightTotal.Load())/float64(max(capSamples.Load(), 1)))
	}
	fmt.Printf("wall=%.3fs ideal=%.3fs overhead=%+.2f%%\n", wall.Seconds(), ideal.Seconds(), 100*(wall.Seconds()/ideal.Seconds()-1))
	fmt.Printf("cpu=%.3fs cpu_per_sample=%.1fus\n", cpu.Seconds(), float64(cpu.Microseconds())/float64(n))
	fmt.Printf("peak_rss=%.1fMiB\n", float64(ru.Maxrss)/1024)
	fmt.Println(goals(o, wall, ideal, n-(ts.Records-ts.Errors)))
	return nil
}

// Issue 14's goals for a run against a fake Bedrock that throttles.
const (
	// goalAtCapacity bounds the wall time over the capacity bound when
	// the service serves at most -capacity calls at once.
	goalAtCapacity = 1.3
	// goalThrottled bounds the wall time over the ideal when the service
	// throttles a share of calls at random.
	goalThrottled = 1.5
)

// goals sets the wall time and the samples lost against the goals, side by
// side: wall / capacity bound, wall / ideal, lost.
func goals(o opts, wall, ideal time.Duration, lost int) string {
	met := lost == 0
	line := fmt.Sprintf("goals: wall/ideal=%.2f", wall.Seconds()/ideal.Seconds())
	if o.bedrock && o.throttle > 0 {
		line += fmt.Sprintf(" (goal <= %.1f)", goalThrottled)
		met = met && wall.Seconds() <= goalThrottled*ideal.Seconds()
	}
	if o.bedrock && o.capacity > 0 && o.capacity < o.conc {
		bound := time.Duration(o.n) * o.lat / time.Duration(o.capacity)
		ratio := wall.Seconds() / bound.Seconds()
		line += fmt.Sprintf(" capacity_bound=%.3fs wall/capacity_bound=%.2f (goal <= %.1f)", bound.Seconds(), ratio, goalAtCapacity)
		met = met && ratio <= goalAtCapacity
	}
	return line + fmt.Sprintf(" lost=%d (goal 0) met=%t", lost, met)
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// writeDataset writes n samples of realistic size (a paragraph of context).
func writeDataset(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	ctx := "Password resets are done from Settings > Security. A reset link is emailed and expires after one hour. Accounts that use single sign-on reset their password with the identity provider instead."
	for i := 0; i < n; i++ {
		row := map[string]string{
			"sample_id":           fmt.Sprintf("s%06d", i),
			"question":            fmt.Sprintf("How do I reset my password (case %d)?", i),
			"context":             ctx,
			"answer_ground_truth": "Reset it from Settings > Security with the emailed link, valid for one hour.",
		}
		if err := enc.Encode(row); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}
