// Command httpbench measures what evalgate's Bedrock client adds to a run:
// it starts a fake Bedrock runtime on 127.0.0.1 with a fixed latency, drives
// the real bedrock.Client (the real AWS SDK: signing, serialization, HTTP)
// through -samples calls at -concurrency with a plain retry loop and a
// throttle.Limiter, and prints wall time against the ideal N x latency /
// concurrency.
//
//	go run ./bench/httpbench -samples 2000 -concurrency 16 -latency 50ms [-throttle 0.3]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go/logging"

	"github.com/evalgate/evalgate/internal/provider"
	"github.com/evalgate/evalgate/internal/provider/bedrock"
	"github.com/evalgate/evalgate/internal/provider/bedrock/bedrockfake"
	"github.com/evalgate/evalgate/internal/throttle"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "httpbench:", err)
		os.Exit(1)
	}
}

type settings struct {
	samples, concurrency, retries int
	latency                       time.Duration
	throttleRate                  float64
	capacity                      int
	baseline                      bool
	stream                        bool
	rpm, tpm                      int
	seed                          uint64
}

func run(ctx context.Context, args []string, out io.Writer) error {
	var s settings
	fs := flag.NewFlagSet("httpbench", flag.ContinueOnError)
	fs.IntVar(&s.samples, "samples", 2000, "calls that must succeed")
	fs.IntVar(&s.concurrency, "concurrency", 16, "calls in flight at most")
	fs.DurationVar(&s.latency, "latency", 50*time.Millisecond, "latency of every successful fake call")
	fs.Float64Var(&s.throttleRate, "throttle", 0, "share of calls the fake throttles (0..1)")
	fs.IntVar(&s.capacity, "capacity", 0, "calls in flight beyond which the fake throttles, as a loaded service (0: none)")
	fs.BoolVar(&s.baseline, "baseline", false, "first drive the fake with plain net/http, to tell this machine's loopback cost from the SDK's")
	fs.IntVar(&s.retries, "retries", 10, "retries per sample before it is lost")
	fs.BoolVar(&s.stream, "stream", false, "use ConverseStream (event-stream frames) instead of Converse")
	fs.IntVar(&s.rpm, "rpm", 0, "requests-per-minute limit of the limiter (0: none)")
	fs.IntVar(&s.tpm, "tpm", 0, "tokens-per-minute limit of the limiter (0: none)")
	fs.Uint64Var(&s.seed, "seed", 1, "seed of the fake's throttling decisions")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if s.samples < 1 || s.concurrency < 1 {
		return errors.New("-samples and -concurrency must be at least 1")
	}

	srv := bedrockfake.NewServer(bedrockfake.Options{
		Prefix: "/bench", Latency: s.latency, ThrottleRate: s.throttleRate, Seed: s.seed, Capacity: s.capacity,
	})
	defer srv.Close()

	client, err := bedrock.New(ctx, bedrock.Options{
		Region:   "us-east-1",
		Endpoint: srv.Endpoint(),
		HTTPClient: awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
			t.MaxIdleConnsPerHost = 2 * s.concurrency
		}),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDBENCH", "bench-secret", ""),
		ConfigOptions: []func(*config.LoadOptions) error{
			config.WithSharedConfigFiles([]string{}),
			config.WithSharedCredentialsFiles([]string{}),
			config.WithLogger(logging.Nop{}),
		},
	})
	if err != nil {
		return err
	}
	idealAtCap := time.Duration(0)
	if s.capacity > 0 && s.capacity < s.concurrency {
		idealAtCap = time.Duration(int64(s.samples) * int64(s.latency) / int64(s.capacity))
	}
	if s.baseline {
		wall, err := baseline(ctx, srv, s)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "baseline       %s (plain net/http, no SDK, same fake and concurrency)\n", wall.Round(time.Millisecond))
	}
	limiter := throttle.New(s.rpm, s.tpm, s.concurrency)

	calls0, ok0, thr0 := srv.Calls(), srv.Succeeded(), srv.Throttled()
	cpu0 := cpuTime()
	start := time.Now()
	st := drive(ctx, client, limiter, s)
	wall := time.Since(start)
	cpu := cpuTime() - cpu0

	ideal := time.Duration(int64(s.samples) * int64(s.latency) / int64(s.concurrency))
	calls := srv.Calls() - calls0
	fmt.Fprintf(out, "samples        %d (concurrency %d, latency %s, throttle %.2f, capacity %d, stream %t)\n",
		s.samples, s.concurrency, s.latency, s.throttleRate, s.capacity, s.stream)
	fmt.Fprintf(out, "wall           %s\n", wall.Round(time.Millisecond))
	fmt.Fprintf(out, "ideal          %s (samples x latency / concurrency)\n", ideal)
	if ideal > 0 {
		fmt.Fprintf(out, "overhead       %.1f%%\n", 100*(float64(wall)-float64(ideal))/float64(ideal))
	}
	if idealAtCap > 0 {
		fmt.Fprintf(out, "ideal at cap   %s (samples x latency / capacity): overhead %.1f%%\n", idealAtCap,
			100*(float64(wall)-float64(idealAtCap))/float64(idealAtCap))
	}
	fmt.Fprintf(out, "calls          %d (server saw %d, %d succeeded)\n", st.calls.Load(), calls, srv.Succeeded()-ok0)
	fmt.Fprintf(out, "retries        %d\n", st.retries.Load())
	fmt.Fprintf(out, "throttled      %d (server sent %d)\n", st.throttled.Load(), srv.Throttled()-thr0)
	fmt.Fprintf(out, "lost samples   %d\n", st.lost.Load())
	fmt.Fprintf(out, "final cap      %d calls in flight (max %d)\n", limiter.Limit(), s.concurrency)
	if calls > 0 {
		fmt.Fprintf(out, "cpu per call   %s (client and fake server, user+sys, one process)\n",
			(cpu / time.Duration(calls)).Round(time.Microsecond))
	}
	if st.lost.Load() > 0 {
		return fmt.Errorf("%d samples lost; first error: %v", st.lost.Load(), st.firstErr())
	}
	return nil
}

type stats struct {
	calls, retries, throttled, lost atomic.Int64

	mu  sync.Mutex
	err error
}

func (s *stats) fail(err error) {
	s.lost.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
	}
}

func (s *stats) firstErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// drive runs the samples through a worker pool. Workers are as many as the
// limiter's maximum; the limiter decides how many are really in flight.
func drive(ctx context.Context, c *bedrock.Client, l *throttle.Limiter, s settings) *stats {
	st := &stats{}
	work := make(chan int)
	var wg sync.WaitGroup
	for w := range s.concurrency {
		rng := rand.New(rand.NewPCG(s.seed, uint64(w)))
		wg.Go(func() {
			for i := range work {
				if err := sample(ctx, c, l, s, i, rng, st); err != nil {
					st.fail(err)
				}
			}
		})
	}
	for i := range s.samples {
		work <- i
	}
	close(work)
	wg.Wait()
	return st
}

// estTokens is the fake's input plus output tokens, the estimate a run
// would make from the prompt length.
const estTokens = 130

// sample calls until the sample succeeds, retrying retryable kinds with
// capped exponential backoff and full jitter, or the Retry-After asked for.
func sample(ctx context.Context, c *bedrock.Client, l *throttle.Limiter, s settings, i int, rng *rand.Rand, st *stats) error {
	req := provider.Request{
		Model:    "us.anthropic.claude-3-5-haiku-20241022-v1:0",
		System:   "Answer from the context only.",
		Messages: []provider.Message{{Role: provider.RoleUser, Content: fmt.Sprintf("Question %d: how long does a refund take?", i)}},
		Params:   provider.Params{Temperature: aws.Float64(0), MaxTokens: aws.Int(400)},
		Stream:   s.stream,
	}
	for attempt := 0; ; attempt++ {
		release, err := l.Acquire(ctx, estTokens)
		if err != nil {
			return err
		}
		st.calls.Add(1)
		resp, err := c.Complete(ctx, req)
		kind := provider.KindOf(err)
		switch {
		case err == nil:
			release(throttle.OK, resp.Usage.InputTokens+resp.Usage.OutputTokens)
			return nil
		case kind == provider.KindThrottled:
			st.throttled.Add(1)
			release(throttle.Throttled, 0)
		default:
			release(throttle.Failed, 0)
		}
		if !kind.Retryable() || attempt >= s.retries {
			return fmt.Errorf("sample %d after %d attempts: %w", i, attempt+1, err)
		}
		st.retries.Add(1)
		wait := provider.RetryAfterOf(err)
		if wait == 0 {
			backoff := min(time.Second, 10*time.Millisecond<<attempt)
			wait = time.Duration(rng.Int64N(int64(backoff)) + 1)
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// baseline sends the same number of Converse requests at the same concurrency
// with a bare net/http client: the floor the SDK's overhead is measured from.
func baseline(ctx context.Context, srv *bedrockfake.Server, s settings) (time.Duration, error) {
	if s.throttleRate > 0 || s.capacity > 0 {
		return 0, errors.New("-baseline needs a fake that does not throttle")
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2 * s.concurrency}}
	defer hc.CloseIdleConnections()
	url := srv.Endpoint() + "/model/baseline/converse"
	body := `{"messages":[{"role":"user","content":[{"text":"how long does a refund take?"}]}]}`
	work := make(chan struct{})
	errs := make(chan error, s.concurrency)
	var wg sync.WaitGroup
	start := time.Now()
	for range s.concurrency {
		wg.Go(func() {
			for range work {
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
				resp, err := hc.Do(req)
				if err != nil {
					errs <- err
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
			}
		})
	}
	for range s.samples {
		work <- struct{}{}
	}
	close(work)
	wg.Wait()
	wall := time.Since(start)
	select {
	case err := <-errs:
		return 0, fmt.Errorf("baseline: %w", err)
	default:
	}
	return wall, nil
}

// cpuTime is the user and system CPU time of this process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
