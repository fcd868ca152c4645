package throttle_test

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/throttle"
)

// fakeClock never sleeps: Sleep moves its time forward and records the wait.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	slept  time.Duration
	sleeps int
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.slept += d
	c.sleeps++
	return nil
}

func (c *fakeClock) total() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.slept
}

// call acquires and releases at once with the given outcome.
func call(t *testing.T, l *throttle.Limiter, est, used int, o throttle.Outcome) {
	t.Helper()
	release, err := l.Acquire(t.Context(), est)
	require.NoError(t, err)
	release(o, used)
}

func TestRequestsPerMinuteSpacesCalls(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	l := throttle.New(60, 0, 1, throttle.WithClock(clk)) // one per second, burst 1
	for range 5 {
		call(t, l, 0, 0, throttle.OK)
	}
	assert.Equal(t, 4*time.Second, clk.total())
}

func TestRequestsPerMinuteBurstIsConcurrency(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	l := throttle.New(60, 0, 4, throttle.WithClock(clk))
	for range 4 {
		call(t, l, 0, 0, throttle.OK)
	}
	assert.Zero(t, clk.total(), "the first maxConcurrency calls go at once")
	call(t, l, 0, 0, throttle.OK)
	assert.Equal(t, time.Second, clk.total())
}

func TestTokensPerMinute(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	l := throttle.New(0, 600, 4, throttle.WithClock(clk)) // 10 tokens a second, burst 600
	call(t, l, 600, 600, throttle.OK)
	assert.Zero(t, clk.total())
	call(t, l, 300, 300, throttle.OK)
	assert.Equal(t, 30*time.Second, clk.total())
}

func TestTokensUsedBeyondEstimateDelayNextCall(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	l := throttle.New(0, 600, 4, throttle.WithClock(clk))
	call(t, l, 100, 700, throttle.OK) // 100 reserved, 600 more taken on release
	assert.Zero(t, clk.total())
	call(t, l, 60, 60, throttle.OK)
	// The bucket of 600 is 100 in debt: 160 tokens at 10 a second.
	assert.Equal(t, 16*time.Second, clk.total())
}

func TestEstimateLargerThanBucketWaitsForFullBucket(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	l := throttle.New(0, 60, 1, throttle.WithClock(clk))
	call(t, l, 1000, 60, throttle.OK)
	assert.Zero(t, clk.total())
	call(t, l, 1000, 60, throttle.OK)
	assert.Equal(t, time.Minute, clk.total())
}

func TestCancelledWaitReturnsTokens(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	l := throttle.New(0, 600, 4, throttle.WithClock(clk))
	call(t, l, 600, 600, throttle.OK)

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := l.Acquire(ctx, 300)
	require.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, l.InFlight(), "a failed Acquire holds no slot")

	call(t, l, 300, 300, throttle.OK)
	assert.Equal(t, 30*time.Second, clk.total(), "the cancelled reservation gave its tokens back")
}

func TestThrottledBurstHalvesOnce(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	l := throttle.New(0, 0, 8, throttle.WithClock(clk))
	later := func() { require.NoError(t, clk.Sleep(t.Context(), throttle.DefaultCooldown)) }
	var releases []func(throttle.Outcome, int)
	for range 8 {
		r, err := l.Acquire(t.Context(), 0)
		require.NoError(t, err)
		releases = append(releases, r)
	}
	for _, r := range releases {
		r(throttle.Throttled, 0)
	}
	assert.Equal(t, 4, l.Limit(), "calls throttled together halve the cap once")

	call(t, l, 0, 0, throttle.Throttled)
	assert.Equal(t, 4, l.Limit(), "no second halving within the cooldown")
	later()
	call(t, l, 0, 0, throttle.Throttled)
	assert.Equal(t, 2, l.Limit())
	later()
	call(t, l, 0, 0, throttle.Throttled)
	assert.Equal(t, 1, l.Limit())
	later()
	call(t, l, 0, 0, throttle.Throttled)
	assert.Equal(t, 1, l.Limit(), "never below one")
}

// A service that throttles a share of calls whatever the load: the cap dips
// and recovers instead of sinking to one.
func TestRandomThrottlingDoesNotCollapseTheCap(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	l := throttle.New(0, 0, 16, throttle.WithClock(clk))
	rng := rand.New(rand.NewPCG(1, 2))
	low := 16
	for i := range 20000 {
		outcome := throttle.OK
		if rng.Float64() < 0.3 {
			outcome = throttle.Throttled
		}
		call(t, l, 0, 0, outcome)
		if i%20 == 0 { // 20 calls a millisecond
			require.NoError(t, clk.Sleep(t.Context(), time.Millisecond))
		}
		low = min(low, l.Limit())
	}
	assert.GreaterOrEqual(t, low, 4, "one halving per cooldown, growth on successes")
}

func TestSuccessesGrowCapBackToMax(t *testing.T) {
	t.Parallel()
	l := throttle.New(0, 0, 3, throttle.WithIncreaseAfter(2), throttle.WithCooldown(0))
	call(t, l, 0, 0, throttle.Throttled)
	call(t, l, 0, 0, throttle.Throttled)
	require.Equal(t, 1, l.Limit())

	call(t, l, 0, 0, throttle.OK)
	assert.Equal(t, 1, l.Limit())
	call(t, l, 0, 0, throttle.OK)
	assert.Equal(t, 2, l.Limit())
	call(t, l, 0, 0, throttle.Failed) // failures neither shrink nor grow
	assert.Equal(t, 2, l.Limit())
	for range 10 {
		call(t, l, 0, 0, throttle.OK)
	}
	assert.Equal(t, 3, l.Limit(), "never above the configured max")
}

func TestFullLimiterBlocksUntilRelease(t *testing.T) {
	t.Parallel()
	l := throttle.New(0, 0, 2)
	r1, err := l.Acquire(t.Context(), 0)
	require.NoError(t, err)
	_, err = l.Acquire(t.Context(), 0)
	require.NoError(t, err)

	done, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = l.Acquire(done, 0)
	require.ErrorIs(t, err, context.Canceled, "no slot: waits until the context ends")

	got := make(chan error, 1)
	go func() {
		_, err := l.Acquire(t.Context(), 0)
		got <- err
	}()
	r1(throttle.OK, 0)
	require.NoError(t, <-got)
	assert.Equal(t, 2, l.InFlight())
}

func TestReleaseTwiceIsIgnored(t *testing.T) {
	t.Parallel()
	l := throttle.New(0, 0, 2)
	r, err := l.Acquire(t.Context(), 0)
	require.NoError(t, err)
	r(throttle.OK, 0)
	r(throttle.Throttled, 0)
	assert.Zero(t, l.InFlight())
	assert.Equal(t, 2, l.Limit())
}

func TestConcurrentCallersStayUnderCap(t *testing.T) {
	t.Parallel()
	const maxConc = 6
	l := throttle.New(0, 0, maxConc, throttle.WithIncreaseAfter(3))
	var inFlight, peak atomic.Int64
	var wg sync.WaitGroup
	for g := range 32 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			for range 200 {
				release, err := l.Acquire(t.Context(), 10)
				if !assert.NoError(t, err) {
					return
				}
				n := inFlight.Add(1)
				for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
				}
				inFlight.Add(-1)
				outcome := throttle.OK
				if rng.IntN(10) == 0 {
					outcome = throttle.Throttled
				}
				release(outcome, 10)
			}
		})
	}
	wg.Wait()
	assert.LessOrEqual(t, peak.Load(), int64(maxConc))
	assert.Zero(t, l.InFlight())
	assert.GreaterOrEqual(t, l.Limit(), 1)
	assert.LessOrEqual(t, l.Limit(), maxConc)
}

func TestRegistrySharesLimiterPerKey(t *testing.T) {
	t.Parallel()
	created := 0
	create := func() *throttle.Limiter { created++; return throttle.New(0, 0, 1) }
	r := throttle.NewRegistry()
	a := r.Get(throttle.Key{Provider: "bedrock/us-east-1", Model: "m"}, create)
	b := r.Get(throttle.Key{Provider: "bedrock/us-east-1", Model: "m"}, create)
	c := r.Get(throttle.Key{Provider: "bedrock/us-west-2", Model: "m"}, create)
	assert.Same(t, a, b)
	assert.NotSame(t, a, c)
	assert.Equal(t, 2, created)
}
