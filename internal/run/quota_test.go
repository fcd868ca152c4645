package run

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/provider"
	"github.com/evalgate/evalgate/internal/provider/bedrock/bedrockfake"
	"github.com/evalgate/evalgate/internal/throttle"
)

// Issue 14, item 3: a throttled call retries at once while the service
// answers other calls (the limiter's window keeps the load in check); only
// refusals in a row with no success between wait, a jittered doubling time.
// The old backoff (from 0.5 s, doubling, full jitter) waited 0.25 s on
// average before a first retry alone.
func TestThrottledRetriesWaitOnlyOnRefusalsInARow(t *testing.T) {
	t.Parallel()
	srv := bedrockfake.NewServer(bedrockfake.Options{Prefix: "/vpce", ThrottleRate: 0.3, Seed: 7})
	t.Cleanup(srv.Close)
	clk := newFakeClock()
	target := bedrockTarget(t, srv.Endpoint())
	target.Limiter = throttle.New(0, 0, 1, throttle.WithClock(optionsClock{clk}))
	e := withClock(New([]Target{target}, nil, Options{Concurrency: 1, Retries: 1}), clk)
	sum, err := e.Run(context.Background(), &sliceSamples{n: 300}, &memWriter{})
	require.NoError(t, err)
	assert.Zero(t, sum.Targets[0].Errors)
	assert.EqualValues(t, 300, srv.Succeeded())
	require.Greater(t, srv.Throttled(), int64(60), "the fake throttled about 30%% of calls")
	assert.Equal(t, int(srv.Throttled()), sum.Targets[0].Retries)

	var waited time.Duration
	waits := 0
	for _, d := range clk.sleeps() {
		waited += d
		if d > 0 {
			waits++
		}
	}
	// A second refusal in a row waits up to 10 ms, a third up to 20 ms...
	// about a third of the refused calls are refused again.
	assert.Less(t, waits, int(srv.Throttled())/2, "a first refusal retries without a wait")
	assert.Less(t, waited, time.Second)
}

// Issue 14, item 3: a service that throttles the calls beyond its capacity
// (the fake Bedrock, through the real AWS SDK client): every sample gets its
// answer and no refusal counts as the model's error, however the calls
// happen to overlap. How fast the window settles, and how few calls it gets
// refused, depend on timing, so they are shown deterministically on a
// simulated service in internal/throttle and measured by bench/enginebench,
// not asserted here.
func TestWindowFindsTheServicesCapacity(t *testing.T) {
	t.Parallel()
	const capacity, n = 2, 50
	srv := bedrockfake.NewServer(bedrockfake.Options{Prefix: "/vpce", Capacity: capacity, Latency: 40 * time.Millisecond})
	t.Cleanup(srv.Close)
	clk := newFakeClock()
	target := bedrockTarget(t, srv.Endpoint())
	lim := throttle.New(0, 0, 8)
	target.Limiter = lim
	windows := &windowSampler{lim: lim, n: n}
	e := withClock(New([]Target{target}, nil, Options{Concurrency: 8, Retries: 1, Progress: windows}), clk)
	sum, err := e.Run(context.Background(), &sliceSamples{n: n}, &memWriter{})
	require.NoError(t, err)
	assert.Zero(t, sum.Targets[0].Errors, "throttled calls are retried, never the model's errors")
	assert.Equal(t, n, sum.Targets[0].Records)
	assert.EqualValues(t, n, srv.Succeeded())
	assert.LessOrEqual(t, windows.max, capacity*4, "the window stays within its ceiling")
}

// windowSampler is a Progress that notes the largest window a limiter
// reached at any record.
type windowSampler struct {
	lim     *throttle.Limiter
	n, seen int
	max     int
}

func (w *windowSampler) Update(Stats) {
	w.seen++
	w.max = max(w.max, w.lim.Limit())
}
func (w *windowSampler) Done(Stats) {}

// Issue 14, item 3: a reply saying the requests of the quota are spent
// (x-ratelimit-remaining-requests: 0) holds the model's next call until
// the quota is replenished (x-ratelimit-reset-requests).
func TestSpentQuotaHoldsTheNextCall(t *testing.T) {
	t.Parallel()
	srv := newOpenAIServer(t, func(n int64, w http.ResponseWriter) {
		if n == 1 {
			w.Header().Set("X-Ratelimit-Remaining-Requests", "0")
			w.Header().Set("X-Ratelimit-Reset-Requests", "20s")
		} else {
			w.Header().Set("X-Ratelimit-Remaining-Requests", "7")
			w.Header().Set("X-Ratelimit-Reset-Requests", "8s")
		}
		answers(w, "ok")
	})
	clk := newFakeClock()
	target := openAITarget(t, srv.baseURL(), nil)
	target.Limiter = throttle.New(0, 0, 1, throttle.WithClock(optionsClock{clk}))
	e := withClock(New([]Target{target}, nil, Options{Concurrency: 1}), clk)
	sum, err := e.Run(context.Background(), &sliceSamples{n: 3}, &memWriter{})
	require.NoError(t, err)
	assert.Zero(t, sum.Targets[0].Errors)
	assert.Equal(t, []time.Duration{20 * time.Second}, clk.sleeps(), "the second call waited for the reset; the third did not wait")
}

// Issue 14, item 3: a throttled call waiting out rounds of refusals goes as
// soon as another call to the model succeeds: the service has room again,
// and sleeping on would leave it unused.
func TestSuccessEndsTheWaitOfARefusedCall(t *testing.T) {
	t.Parallel()
	lim := throttle.New(0, 0, 4)
	// Two rounds of refusals with no success between: the next retry waits.
	for range 2 {
		release, err := lim.Acquire(t.Context(), 0)
		require.NoError(t, err)
		release(throttle.Throttled, 0)
	}
	refused := &fakeProvider{fn: func(n int64, _ provider.Request) (provider.Response, error) {
		if n == 1 {
			return provider.Response{}, &provider.Error{Kind: provider.KindThrottled, Provider: "fake", Err: errors.New("slow down")}
		}
		return provider.Response{Text: "ok"}, nil
	}}
	tg := target("a", refused)
	tg.Limiter = lim
	c := NewCaller(Options{})
	waiting := make(chan time.Duration, 1)
	// A sleep that ends only with its context: the wait ends early or never.
	c.opts.sleep = func(ctx context.Context, d time.Duration) error {
		waiting <- d
		<-ctx.Done()
		return ctx.Err()
	}
	done := make(chan error, 1)
	go func() {
		_, err := c.complete(t.Context(), &tg, provider.Request{Model: "m"})
		done <- err
	}()
	assert.Positive(t, <-waiting, "the third round of refusals waits")
	release, err := lim.Acquire(t.Context(), 0)
	require.NoError(t, err)
	release(throttle.OK, 0)
	select {
	case err := <-done:
		require.NoError(t, err, "the success ended the wait and the retry got through")
	case <-time.After(time.Minute): // only a failing test gets here
		t.Fatal("the refused call still waits after a success")
	}
	assert.EqualValues(t, 2, refused.calls.Load())
}
