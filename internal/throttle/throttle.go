// Package throttle keeps calls to one model within its service quotas:
// requests per minute and tokens per minute (token buckets from
// golang.org/x/time/rate), what the service says is left of its quota, and an
// adaptive window of calls in flight that finds the service's capacity and
// stays at it (additive increase, multiplicative decrease, as TCP congestion
// control, shrinking only where most calls are refused, so that random
// throttling does not shrink it).
package throttle

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/evalgate/evalgate/internal/provider"
)

// Outcome is how a call ended, as far as the limiter cares.
type Outcome int

// The outcomes of a call.
const (
	// OK is a call the service answered.
	OK Outcome = iota
	// Throttled is a call the service refused to slow us down (429, quota).
	Throttled
	// Failed is any other failure; it does not move the window.
	Failed
)

// Clock is the time source; tests inject one that does not sleep.
type Clock interface {
	Now() time.Time
	// Sleep waits d or until ctx is done, returning ctx.Err() in that case.
	Sleep(ctx context.Context, d time.Duration) error
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Sleep(ctx context.Context, d time.Duration) error { return Sleep(ctx, d) }

// Sleep waits d or until ctx is done, returning ctx.Err() then: the one
// context-aware wait of the rate limiter, the run engine's backoff and the
// GitHub client's rate-limit retries.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Option configures a Limiter.
type Option func(*Limiter)

// WithClock replaces the wall clock.
func WithClock(c Clock) Option { return func(l *Limiter) { l.clock = c } }

// WithRetryBase sets the first backoff step of RetryDelay.
func WithRetryBase(d time.Duration) Option {
	return func(l *Limiter) {
		if d > 0 {
			l.retryBase = d
		}
	}
}

// DefaultRetryBase is the first backoff step of a throttled call's retry
// once the service refuses calls in a row: short next to a model call, as the
// window, not the sleep, is what keeps the load within the service's
// capacity; it doubles with each round of refusals.
const DefaultRetryBase = 10 * time.Millisecond

const (
	// decrease is the multiplicative decrease of the window on congestion.
	decrease = 0.5
	// shareWeight is the weight of one outcome in the moving throttled
	// share: about the last 32 calls. At 30% random throttling the share
	// stays within 0.3 ± 0.06 (one standard deviation).
	shareWeight = 1.0 / 32
	// heavyShare is the throttled share beyond which the service is taken
	// to refuse most calls at any concurrency (its capacity fell, or a rate
	// quota is spent): the window then halves whatever the levels say.
	// Random throttling of 30% is 5 standard deviations below it (at 0.5 it
	// still halved the window once or twice in 2,000 calls).
	heavyShare = 0.6
	// minRefused is the least number of refusals at a level or above that
	// shrink the window: with fewer, random throttling of 30% makes two in
	// three by chance too often at the top level, where calls are few.
	minRefused = 4
	// minMemory is the least number of answered calls remembered.
	minMemory = 64
)

// Limiter paces the calls to one (provider, model). It is safe for
// concurrent use.
//
// Its window of calls in flight starts at the maximum. A successful call
// that was in flight while the window was full grows it by 1/window (one
// call per round trip). Each answered call is remembered with its level: how
// many calls were in flight when it started, itself included. A throttled
// call shrinks the window, once per congestion epoch (calls throttled
// together count once), only when most recent calls at its level or above
// were throttled too: then to just below that level, by at most half. A
// service that throttles the calls beyond its capacity refuses nearly every
// call above it and answers those below, so the window settles at the
// capacity; one that throttles a share of calls at any load (random
// throttling) refuses a minority at every level, so the window stays full;
// one that refuses most calls at every level halves it each epoch.
type Limiter struct {
	rpm, tpm  *rate.Limiter // nil: no limit
	clock     Clock
	max       int
	retryBase time.Duration

	mu       sync.Mutex
	window   float64 // allowed calls in flight, 1..max
	inFlight int
	// epoch counts decreases. A call remembers the epoch it started in, so a
	// burst of calls throttled together shrinks the window once.
	epoch int
	// tick counts the calls started; it orders them against refusals.
	tick uint64
	// fullAt is the tick when the window was last full.
	fullAt uint64
	// outcomes is a ring of recent answered calls.
	outcomes    []answered
	outcomeNext int
	// share is the moving share of throttled calls among answered ones.
	share float64
	// room is closed, and replaced, when a call succeeds: the service has
	// room again, and retries waiting out refusals may go.
	room chan struct{}
	// refusals counts rounds of throttling since the last success: a
	// throttled call that started after the last round was counted begins
	// a new one. refusedAt is the tick of that count.
	refusals  int
	refusedAt uint64
	// pausedUntil holds new calls while a quota the service reported as
	// spent resets.
	pausedUntil time.Time
	waiters     []chan struct{}
}

// answered is a call the service answered or throttled, at its level.
type answered struct {
	level     int
	throttled bool
}

// ticket is what a call carries from Acquire to its release.
type ticket struct {
	epoch, level int
	start        uint64
}

// New returns a limiter allowing rpm requests and tpm tokens per minute (0:
// unlimited) and at most maxConcurrency calls in flight (values below 1 mean 1).
// The window of calls in flight starts at maxConcurrency and adapts to
// throttling.
func New(rpm, tpm, maxConcurrency int, opts ...Option) *Limiter {
	if maxConcurrency < 1 {
		maxConcurrency = 1
	}
	// About four windows of calls: enough to see the share refused at a
	// level, few enough to follow a service whose capacity changes.
	memory := max(minMemory, 4*maxConcurrency)
	l := &Limiter{
		clock:     realClock{},
		max:       maxConcurrency,
		window:    float64(maxConcurrency),
		retryBase: DefaultRetryBase,
		outcomes:  make([]answered, 0, memory),
		room:      make(chan struct{}),
	}
	if rpm > 0 {
		// A burst of up to maxConcurrency requests: with a smaller one, the
		// first calls of a run would be spaced although the quota is unused.
		l.rpm = rate.NewLimiter(rate.Limit(float64(rpm)/60), min(rpm, maxConcurrency))
	}
	if tpm > 0 {
		// Quotas count tokens per minute, so a minute's worth may go at once.
		l.tpm = rate.NewLimiter(rate.Limit(float64(tpm)/60), tpm)
	}
	for _, o := range opts {
		o(l)
	}
	return l
}

// Acquire waits until a call estimated at estTokens tokens may start: a slot
// in the window, the end of any pause a spent quota asked for, a request and
// the tokens from the rate limits. The caller must call release exactly once
// (extra calls are ignored) with the call's outcome and the tokens it really
// used.
func (l *Limiter) Acquire(ctx context.Context, estTokens int) (release func(outcome Outcome, usedTokens int), err error) {
	t, err := l.acquireSlot(ctx)
	if err != nil {
		return nil, err
	}
	est, err := l.waitRate(ctx, estTokens)
	if err != nil {
		l.releaseSlot(Failed, t)
		return nil, err
	}
	var once sync.Once
	return func(outcome Outcome, used int) {
		once.Do(func() {
			if l.tpm != nil && used > est {
				// The estimate was low: take the rest now, as debt that
				// delays the next calls.
				l.tpm.ReserveN(l.clock.Now(), min(used-est, l.tpm.Burst()))
			}
			l.releaseSlot(outcome, t)
		})
	}, nil
}

// waitRate reserves a request and estTokens tokens and sleeps until both are
// available and any pause is over. It returns the tokens reserved.
func (l *Limiter) waitRate(ctx context.Context, estTokens int) (int, error) {
	now := l.clock.Now()
	l.mu.Lock()
	delay := l.pausedUntil.Sub(now)
	l.mu.Unlock()
	var reqRes, tokRes *rate.Reservation
	if l.rpm != nil {
		reqRes = l.rpm.ReserveN(now, 1)
		delay = max(delay, reqRes.DelayFrom(now))
	}
	est := 0
	if l.tpm != nil && estTokens > 0 {
		// A call larger than the bucket waits for a full bucket rather than
		// forever.
		est = min(estTokens, l.tpm.Burst())
		tokRes = l.tpm.ReserveN(now, est)
		delay = max(delay, tokRes.DelayFrom(now))
	}
	if delay <= 0 {
		return est, ctx.Err()
	}
	if err := l.clock.Sleep(ctx, delay); err != nil {
		at := l.clock.Now()
		if reqRes != nil {
			reqRes.CancelAt(at)
		}
		if tokRes != nil {
			tokRes.CancelAt(at)
		}
		return 0, err
	}
	return est, nil
}

func (l *Limiter) acquireSlot(ctx context.Context) (ticket, error) {
	for {
		l.mu.Lock()
		if l.inFlight < l.limitLocked() {
			l.inFlight++
			l.tick++
			t := ticket{epoch: l.epoch, level: l.inFlight, start: l.tick}
			if l.inFlight >= l.limitLocked() {
				l.fullAt = l.tick
			}
			l.mu.Unlock()
			return t, nil
		}
		l.fullAt = l.tick
		wake := make(chan struct{})
		l.waiters = append(l.waiters, wake)
		l.mu.Unlock()

		select {
		case <-wake:
		case <-ctx.Done():
			l.mu.Lock()
			l.dropWaiter(wake)
			l.mu.Unlock()
			return ticket{}, ctx.Err()
		}
	}
}

// dropWaiter removes a waiter that gave up; if it had been woken already, the
// wake-up passes to the next waiter. l.mu must be held.
func (l *Limiter) dropWaiter(wake chan struct{}) {
	for i, w := range l.waiters {
		if w == wake {
			l.waiters = append(l.waiters[:i], l.waiters[i+1:]...)
			return
		}
	}
	l.wakeLocked()
}

func (l *Limiter) releaseSlot(outcome Outcome, t ticket) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inFlight--
	switch outcome {
	case OK:
		l.share -= l.share * shareWeight
		l.refusals = 0
		close(l.room)
		l.room = make(chan struct{})
		l.remember(answered{level: t.level})
		// Only a call in flight while the window was full says the window
		// is not too large: while fewer calls are wanted (the run's tail,
		// slow metrics) it would otherwise grow untested.
		if l.fullAt >= t.start && l.window < float64(l.max) {
			l.window = min(float64(l.max), l.window+1/l.window)
		}
	case Throttled:
		l.share += (1 - l.share) * shareWeight
		if t.start > l.refusedAt {
			l.refusals++
			l.refusedAt = l.tick
		}
		l.remember(answered{level: t.level, throttled: true})
		if t.epoch == l.epoch {
			l.decreaseLocked(t.level)
		}
	}
	l.wakeLocked()
}

// decreaseLocked shrinks the window for a call throttled at level that
// started in the current epoch. l.mu must be held.
func (l *Limiter) decreaseLocked(level int) {
	next := max(1, l.window*decrease)
	if l.share < heavyShare {
		refused, served := 0, 0
		for _, o := range l.outcomes {
			if o.level < level {
				continue
			}
			if o.throttled {
				refused++
			} else {
				served++
			}
		}
		// Two refusals in three: random throttling of 30% gets there by
		// chance about once in a hundred levels seen ten times.
		if refused < minRefused || refused < 2*served {
			return
		}
		next = max(next, float64(level-1))
	}
	if next < l.window {
		l.window = next
		l.epoch++
	}
}

func (l *Limiter) remember(a answered) {
	l.outcomes = ring(l.outcomes, &l.outcomeNext, a)
}

// ring adds v to the ring buffer r of capacity cap(r), next being the oldest
// element's index once it is full.
func ring[T any](r []T, next *int, v T) []T {
	if len(r) < cap(r) {
		return append(r, v)
	}
	r[*next] = v
	*next = (*next + 1) % len(r)
	return r
}

// limitLocked is the whole number of calls the window allows. l.mu must be
// held.
func (l *Limiter) limitLocked() int { return max(1, int(l.window)) }

// wakeLocked wakes as many waiters as there are free slots. l.mu must be held.
func (l *Limiter) wakeLocked() {
	for free := l.limitLocked() - l.inFlight; free > 0 && len(l.waiters) > 0; free-- {
		close(l.waiters[0])
		l.waiters = l.waiters[1:]
	}
}

// RetryDelay is how long a call the service throttled waits before its retry
// when the service named no time. While the service still answers other calls
// (no call started after a refusal was refused in turn) there is no wait: the
// retry queues for a slot in the window, which has just shrunk if the
// service is at capacity, and takes one at once if the throttling was
// random. Each further round of refusals with no success between doubles a
// jittered wait from the retry base, so a service that refuses everything is
// not called in a loop; a success ends such waits early (Room), as they are
// no longer needed.
func (l *Limiter) RetryDelay() time.Duration {
	l.mu.Lock()
	rounds := l.refusals
	l.mu.Unlock()
	if rounds <= 1 {
		return 0
	}
	d := l.retryBase << min(rounds-2, 30)
	if d <= 0 {
		d = l.retryBase
	}
	// Full jitter spreads the retries of calls refused together.
	return time.Duration(rand.Int64N(int64(d))) + 1
}

// Room returns a channel closed when a call next succeeds.
func (l *Limiter) Room() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.room
}

// Pause holds every new call for d: a quota the service reported as spent
// (OpenAI's x-ratelimit-remaining-requests: 0) resets then.
func (l *Limiter) Pause(d time.Duration) {
	if d <= 0 {
		return
	}
	until := l.clock.Now().Add(d)
	l.mu.Lock()
	defer l.mu.Unlock()
	if until.After(l.pausedUntil) {
		l.pausedUntil = until
	}
}

// Limit is the whole number of calls in flight the window allows now.
func (l *Limiter) Limit() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.limitLocked()
}

// InFlight is the number of calls between Acquire and release.
func (l *Limiter) InFlight() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.inFlight
}

// Key names the quota a limiter guards. Provider may carry a region or an
// endpoint ("bedrock/us-east-1") where quotas are regional.
type Key struct {
	Provider string
	Model    string
}

// Registry hands out one Limiter per Key, so that targets (and judges)
// calling the same model share its quota. It is safe for concurrent use.
type Registry struct {
	mu sync.Mutex
	m  map[Key]*Limiter
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{m: make(map[Key]*Limiter)} }

// Get returns the limiter of k, made with create on first use: the first
// caller's limits stand for the quota.
func (r *Registry) Get(k Key, create func() *Limiter) *Limiter {
	r.mu.Lock()
	defer r.mu.Unlock()
	l, ok := r.m[k]
	if !ok {
		l = create()
		r.m[k] = l
	}
	return l
}

// Begin is Acquire for callers that report how a call ended as its error (the
// run engine): nil is OK, a throttled provider error is Throttled, any other
// error is Failed.
func (l *Limiter) Begin(ctx context.Context, estTokens int) (end func(err error, usedTokens int), err error) {
	release, err := l.Acquire(ctx, estTokens)
	if err != nil {
		return nil, err
	}
	return func(err error, used int) {
		switch {
		case err == nil:
			release(OK, used)
		case provider.KindOf(err) == provider.KindThrottled:
			release(Throttled, used)
		default:
			release(Failed, used)
		}
	}, nil
}
