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

func TestThrottledBurstShrinksOnce(t *testing.T) {
	t.Parallel()
	l := throttle.New(0, 0, 8)
	var releases []func(throttle.Outcome, int)
	for range 8 {
		r, err := l.Acquire(t.Context(), 0)
		require.NoError(t, err)
		releases = append(releases, r)
	}
	for i := len(releases) - 1; i >= 0; i-- {
		releases[i](throttle.Throttled, 0)
	}
	assert.Equal(t, 4, l.Limit(), "calls throttled together shrink the window once: below the level of the fourth refusal")

	call(t, l, 0, 0, throttle.Throttled)
	assert.Equal(t, 2, l.Limit(), "a call started after the decrease is a new epoch; by at most half")
	call(t, l, 0, 0, throttle.Throttled)
	call(t, l, 0, 0, throttle.Throttled)
	assert.Equal(t, 1, l.Limit(), "never below one")
}

// A refusal at a level where the service answers most calls is random
// throttling: the window keeps its size.
func TestRefusalAmongSuccessesKeepsTheWindow(t *testing.T) {
	t.Parallel()
	l := throttle.New(0, 0, 4)
	for range 3 {
		call(t, l, 0, 0, throttle.OK)
	}
	call(t, l, 0, 0, throttle.Throttled)
	call(t, l, 0, 0, throttle.Throttled)
	assert.Equal(t, 4, l.Limit(), "2 refused of 5")
	call(t, l, 0, 0, throttle.Throttled)
	call(t, l, 0, 0, throttle.Throttled)
	assert.Equal(t, 4, l.Limit(), "4 refused of 7")
	call(t, l, 0, 0, throttle.Throttled)
	call(t, l, 0, 0, throttle.Throttled)
	assert.Equal(t, 2, l.Limit(), "6 refused of 9: two in three")
}

// fill acquires every slot of the window and releases them all with o: one
// round trip of a full window.
func fill(t *testing.T, l *throttle.Limiter, o throttle.Outcome) {
	t.Helper()
	var releases []func(throttle.Outcome, int)
	for range l.Limit() {
		r, err := l.Acquire(t.Context(), 0)
		require.NoError(t, err)
		releases = append(releases, r)
	}
	for _, r := range releases {
		r(o, 0)
	}
}

func TestSuccessesGrowWindowByOnePerRoundTrip(t *testing.T) {
	t.Parallel()
	l := throttle.New(0, 0, 6)
	for range 6 { // 6, 6, 6 (fewer than four refusals are no evidence) -> 3 -> 1.5 -> 1
		call(t, l, 0, 0, throttle.Throttled)
	}
	require.Equal(t, 1, l.Limit())
	// Each success adds 1/window: 1, 2, 2.9, 3.55, 4.34, 5.20, 6.
	for _, want := range []int{2, 2, 3, 4, 5, 6} {
		fill(t, l, throttle.OK)
		assert.Equal(t, want, l.Limit(), "about one more per window's worth of successes")
	}
	fill(t, l, throttle.Failed)
	assert.Equal(t, 6, l.Limit(), "failures neither shrink nor grow the window")
	fill(t, l, throttle.OK)
	assert.Equal(t, 6, l.Limit(), "never above the configured max")
}

// While fewer calls are wanted than the window allows, successes do not
// grow it: they say nothing of a larger window.
func TestWindowDoesNotGrowUnused(t *testing.T) {
	t.Parallel()
	l := throttle.New(0, 0, 8)
	fill(t, l, throttle.Throttled)
	call(t, l, 0, 0, throttle.Throttled)
	require.Equal(t, 4, l.Limit())
	for range 50 {
		call(t, l, 0, 0, throttle.OK) // one call at a time
	}
	assert.Equal(t, 4, l.Limit())
	fill(t, l, throttle.OK)
	assert.Equal(t, 4, l.Limit(), "4 + 1/4 + ...: the window grows once full")
	fill(t, l, throttle.OK)
	assert.Equal(t, 5, l.Limit())
}

// service simulates a model service step by step for a limiter: every step
// each free slot of the window starts a call; the service answers it after
// latency steps unless it refuses it at once (throttles), because capacity
// answered calls are in flight or at random. There is always more work.
type service struct {
	capacity int     // answered calls it serves at once; 0: any number
	random   float64 // share of calls refused whatever the load
	latency  int
	rng      *rand.Rand
	now      int // the step
	running  []running

	throttled, answered int
	// sumLimit and sumServing add up, over the measured steps, the window
	// and the calls being answered.
	sumLimit, sumServing, measured int
}

type running struct {
	release func(throttle.Outcome, int)
	end     int
}

func newService(capacity int, random float64) *service {
	return &service{capacity: capacity, random: random, latency: 10, rng: rand.New(rand.NewPCG(3, 4))}
}

// run drives l through steps more, measuring from the warmup-th on.
func (s *service) run(t *testing.T, l *throttle.Limiter, steps, warmup int) {
	t.Helper()
	for i := range steps {
		s.now++
		now := s.now
		keep := s.running[:0]
		for _, r := range s.running {
			if r.end > now {
				keep = append(keep, r)
				continue
			}
			r.release(throttle.OK, 0)
			s.answered++
		}
		s.running = keep
		// One start per slot free at the beginning of the step, as long as
		// the window (which a refusal may shrink) has room.
		for range l.Limit() - l.InFlight() {
			if l.InFlight() >= l.Limit() {
				break
			}
			release, err := l.Acquire(t.Context(), 0)
			require.NoError(t, err)
			if (s.capacity > 0 && len(s.running) >= s.capacity) || s.rng.Float64() < s.random {
				release(throttle.Throttled, 0)
				s.throttled++
				continue
			}
			s.running = append(s.running, running{release: release, end: now + s.latency})
		}
		if i >= warmup {
			s.sumLimit += l.Limit()
			s.sumServing += len(s.running)
			s.measured++
		}
	}
}

func (s *service) meanLimit() float64   { return float64(s.sumLimit) / float64(s.measured) }
func (s *service) meanServing() float64 { return float64(s.sumServing) / float64(s.measured) }

// A service that throttles the calls beyond its capacity: the window finds
// the capacity within a few round trips and stays there, probing one above
// about once a round trip.
func TestWindowSettlesAtTheServicesCapacity(t *testing.T) {
	t.Parallel()
	for _, capacity := range []int{3, 8, 12} {
		l := throttle.New(0, 0, 16)
		s := newService(capacity, 0)
		s.run(t, l, 3000, 100)
		assert.GreaterOrEqual(t, s.meanServing(), 0.9*float64(capacity), "capacity %d: calls answered at once", capacity)
		assert.GreaterOrEqual(t, s.meanLimit(), float64(capacity), "capacity %d: the window", capacity)
		assert.LessOrEqual(t, s.meanLimit(), float64(capacity)+1, "capacity %d: the window", capacity)
		assert.Less(t, float64(s.throttled), 0.25*float64(s.answered), "capacity %d: throttled calls per answered call", capacity)
	}
}

// A service that throttles 30% of calls whatever the load: the window stays
// near its maximum instead of sinking, as a smaller one would not help.
func TestRandomThrottlingKeepsTheWindow(t *testing.T) {
	t.Parallel()
	l := throttle.New(0, 0, 16)
	s := newService(0, 0.3)
	s.run(t, l, 3000, 0)
	assert.GreaterOrEqual(t, s.meanLimit(), 15.0)
	assert.GreaterOrEqual(t, s.meanServing(), 14.0, "of 16: a refused slot starts again the next step")
	assert.Greater(t, s.throttled, 1000, "the service did throttle")
}

// When the service's capacity falls, what it served before no longer holds:
// the share of refused calls rises and the window follows it down.
func TestWindowFollowsAFallingCapacity(t *testing.T) {
	t.Parallel()
	l := throttle.New(0, 0, 16)
	s := newService(12, 0)
	s.run(t, l, 500, 0)
	require.GreaterOrEqual(t, l.Limit(), 12)
	s.capacity = 4
	s.sumLimit, s.sumServing, s.measured = 0, 0, 0
	s.run(t, l, 1000, 200)
	assert.GreaterOrEqual(t, s.meanLimit(), 4.0)
	assert.LessOrEqual(t, s.meanLimit(), 5.0)
	assert.GreaterOrEqual(t, s.meanServing(), 3.6)
}

// A service that refuses every call: the window sinks to one and each round
// of refusals doubles the wait before a retry.
func TestRefusalsInARowBackOff(t *testing.T) {
	t.Parallel()
	l := throttle.New(0, 0, 16, throttle.WithRetryBase(10*time.Millisecond))
	call(t, l, 0, 0, throttle.OK)
	// Calls in flight together are one round: throttled at once, they
	// retry at once, into the window that just shrank.
	var releases []func(throttle.Outcome, int)
	for range 4 {
		r, err := l.Acquire(t.Context(), 0)
		require.NoError(t, err)
		releases = append(releases, r)
	}
	for _, r := range releases {
		r(throttle.Throttled, 0)
	}
	assert.Zero(t, l.RetryDelay(), "the first round of refusals retries without a wait")
	for round := 2; round <= 6; round++ {
		call(t, l, 0, 0, throttle.Throttled)
		ceiling := 10 * time.Millisecond << (round - 2)
		for range 20 {
			d := l.RetryDelay()
			assert.Positive(t, d, "round %d", round)
			assert.LessOrEqual(t, d, ceiling, "round %d", round)
		}
	}
	assert.Equal(t, 1, l.Limit())
	call(t, l, 0, 0, throttle.OK)
	assert.Zero(t, l.RetryDelay(), "a success ends the refusals")
}

func TestRoomOpensOnASuccess(t *testing.T) {
	t.Parallel()
	l := throttle.New(0, 0, 4)
	room := l.Room()
	call(t, l, 0, 0, throttle.Throttled)
	call(t, l, 0, 0, throttle.Failed)
	select {
	case <-room:
		t.Fatal("a refusal or a failure is no room")
	default:
	}
	call(t, l, 0, 0, throttle.OK)
	_, open := <-room
	assert.False(t, open, "a success closes the channel")
	select {
	case <-l.Room():
		t.Fatal("the next wait gets a new channel")
	default:
	}
}

func TestPauseHoldsNewCalls(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	l := throttle.New(0, 0, 4, throttle.WithClock(clk))
	l.Pause(3 * time.Second)
	l.Pause(time.Second) // a shorter pause does not cut the longer one
	call(t, l, 0, 0, throttle.OK)
	assert.Equal(t, 3*time.Second, clk.total())
	call(t, l, 0, 0, throttle.OK)
	assert.Equal(t, 3*time.Second, clk.total(), "the pause is over")
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
	l := throttle.New(0, 0, maxConc)
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
