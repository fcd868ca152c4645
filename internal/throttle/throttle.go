// Package throttle keeps calls to one model within its service quotas:
// requests per minute and tokens per minute (token buckets from
// golang.org/x/time/rate), and an adaptive cap on calls in flight that halves
// when the service throttles and grows back by one after a run of successes
// (additive increase, multiplicative decrease, as TCP congestion control).
package throttle

import (
	"context"
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
	// Failed is any other failure; it does not move the concurrency cap.
	Failed
)

// DefaultIncreaseAfter is the number of successes (since the cap last
// changed) after which the concurrency cap grows by one.
const DefaultIncreaseAfter = 10

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

// WithCooldown sets the least time between two halvings of the cap.
func WithCooldown(d time.Duration) Option { return func(l *Limiter) { l.cooldown = d } }

// DefaultCooldown is the least time between two halvings of the cap: about
// the time a throttled burst takes to drain, so one burst halves it once.
const DefaultCooldown = time.Second

// WithIncreaseAfter sets how many successes (since the cap last changed) grow
// the cap by one.
func WithIncreaseAfter(n int) Option {
	return func(l *Limiter) {
		if n > 0 {
			l.increaseAfter = n
		}
	}
}

// Limiter paces the calls to one (provider, model). It is safe for
// concurrent use.
type Limiter struct {
	rpm, tpm      *rate.Limiter // nil: no limit
	clock         Clock
	max           int
	increaseAfter int
	cooldown      time.Duration

	mu       sync.Mutex
	limit    int // allowed calls in flight, 1..max
	inFlight int
	streak   int // OK outcomes since the last change of limit
	// lastDecrease is when the cap was last halved.
	lastDecrease time.Time
	// epoch counts decreases. A call remembers the epoch it started in, so a
	// burst of calls throttled together halves the cap once, not once each.
	epoch   int
	waiters []chan struct{}
}

// New returns a limiter allowing rpm requests and tpm tokens per minute (0:
// unlimited) and at most maxConcurrency calls in flight (values below 1 mean 1).
// The cap on calls in flight starts at maxConcurrency and adapts to throttling.
func New(rpm, tpm, maxConcurrency int, opts ...Option) *Limiter {
	if maxConcurrency < 1 {
		maxConcurrency = 1
	}
	l := &Limiter{
		clock:         realClock{},
		max:           maxConcurrency,
		limit:         maxConcurrency,
		increaseAfter: DefaultIncreaseAfter,
		cooldown:      DefaultCooldown,
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
// under the concurrency cap, a request and the tokens from the rate limits.
// The caller must call release exactly once (extra calls are ignored) with
// the call's outcome and the tokens it really used.
func (l *Limiter) Acquire(ctx context.Context, estTokens int) (release func(outcome Outcome, usedTokens int), err error) {
	epoch, err := l.acquireSlot(ctx)
	if err != nil {
		return nil, err
	}
	est, err := l.waitRate(ctx, estTokens)
	if err != nil {
		l.releaseSlot(Failed, epoch)
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
			l.releaseSlot(outcome, epoch)
		})
	}, nil
}

// waitRate reserves a request and estTokens tokens and sleeps until both are
// available. It returns the tokens reserved.
func (l *Limiter) waitRate(ctx context.Context, estTokens int) (int, error) {
	now := l.clock.Now()
	var delay time.Duration
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

func (l *Limiter) acquireSlot(ctx context.Context) (epoch int, err error) {
	for {
		l.mu.Lock()
		if l.inFlight < l.limit {
			l.inFlight++
			epoch = l.epoch
			l.mu.Unlock()
			return epoch, nil
		}
		wake := make(chan struct{})
		l.waiters = append(l.waiters, wake)
		l.mu.Unlock()

		select {
		case <-wake:
		case <-ctx.Done():
			l.mu.Lock()
			l.dropWaiter(wake)
			l.mu.Unlock()
			return 0, ctx.Err()
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

func (l *Limiter) releaseSlot(outcome Outcome, epoch int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inFlight--
	switch outcome {
	case Throttled:
		// Halve once per burst (the calls that started before the last
		// decrease saw the old cap) and at most once per cooldown: a service
		// that throttles a share of calls whatever the load would otherwise
		// drive the cap to 1 within a second and keep it there.
		now := l.clock.Now()
		if epoch == l.epoch && (l.lastDecrease.IsZero() || now.Sub(l.lastDecrease) >= l.cooldown) {
			l.limit = max(1, l.limit/2)
			l.epoch++
			l.streak = 0
			l.lastDecrease = now
		}
	case OK:
		l.streak++
		if l.streak >= l.increaseAfter && l.limit < l.max {
			l.limit++
			l.streak = 0
		}
	}
	l.wakeLocked()
}

// wakeLocked wakes as many waiters as there are free slots. l.mu must be held.
func (l *Limiter) wakeLocked() {
	for free := l.limit - l.inFlight; free > 0 && len(l.waiters) > 0; free-- {
		close(l.waiters[0])
		l.waiters = l.waiters[1:]
	}
}

// Limit is the current cap on calls in flight.
func (l *Limiter) Limit() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.limit
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
