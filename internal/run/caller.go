package run

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/evalgate/evalgate/internal/provider"
)

// Caller makes model calls the way the run makes them: from the response
// cache when it can, within the cost budget, paced by the target's limiter,
// each attempt bounded by the per-call timeout, throttled and transient
// failures retried with backoff. The engine calls targets through it, and
// metrics that call a model (LLM judges) get a Completer from it, so that
// their calls share the same cache, retries, limits and budget.
//
// A Caller belongs to one run.
type Caller struct {
	opts  Options
	st    *stopper
	spent budget
}

// NewCaller returns a caller for one run; opts are completed as by New.
func NewCaller(opts Options) *Caller {
	return &Caller{opts: withDefaults(opts), st: &stopper{ch: make(chan struct{})}}
}

// errBudget is returned for a call not made because the budget is spent.
var errBudget = errors.New(ReasonBudget)

// callResult is one call as the record needs it.
type callResult struct {
	resp     provider.Response
	cached   bool
	attempts int
	cost     *float64
}

// complete makes one call for target t. It returns errBudget when the budget
// is spent (no call made), and stops the run on an authentication failure.
func (c *Caller) complete(ctx context.Context, t *Target, req provider.Request) (callResult, error) {
	var r callResult
	key := ""
	if t.Cacheable && c.opts.Cache != nil {
		key = Key(t.Info.Provider, endpointOf(t.Provider), req)
		if resp, ok := c.opts.Cache.Get(key); ok {
			r.resp, r.cached = resp, true
			r.cost = t.cost(resp.Usage)
			return r, nil
		}
	}
	if c.opts.BudgetUSD > 0 && !t.Prepaid && c.spent.get() >= c.opts.BudgetUSD {
		c.st.stop(ReasonBudget, nil)
		return r, errBudget
	}
	resp, attempts, err := c.call(ctx, t, req)
	r.attempts = attempts
	if err != nil {
		// Servers quote the request they reject, some its Authorization
		// header with it.
		err = c.opts.Secrets.Err(err)
		if provider.KindOf(err) == provider.KindAuth {
			c.st.stop("authentication failed: "+err.Error(), fmt.Errorf("%w: %w", ErrAuth, err))
		}
		return r, err
	}
	// A server that echoes a credential into its answer must not put it
	// into the cache, the scores or the results.
	resp.Text = c.opts.Secrets.Redact(resp.Text)
	r.resp = resp
	if key != "" {
		// A cache that cannot be written costs money on the next run, not
		// this one's results; the directory was probed at start.
		_ = c.opts.Cache.Put(key, resp)
	}
	r.cost = t.cost(resp.Usage)
	if t.LivePrice != nil {
		live := t.LivePrice.Cost(resp.Usage)
		r.cost = &live
	}
	if r.cost != nil {
		c.spent.add(*r.cost)
	}
	return r, nil
}

// cost is the USD cost of usage for t, nil when its price is unknown.
func (t *Target) cost(u provider.Usage) *float64 {
	if t.Price == nil {
		return nil
	}
	c := t.Price.Cost(u)
	return &c
}

// cacheSaving is what prompt caching saved on usage for t, nil when the call
// used no cache or the price is unknown.
func (t *Target) cacheSaving(u provider.Usage) *float64 {
	if t.Price == nil || u.CacheReadTokens+u.CacheWriteTokens == 0 {
		return nil
	}
	s := t.Price.CacheSaving(u)
	return &s
}

// Spent is what the run's calls have cost so far.
func (c *Caller) Spent() float64 { return c.spent.get() }

// Completer calls one model through a Caller, with its own bound on calls in
// flight: what a judge metric is given instead of a bare provider.
type Completer struct {
	c   *Caller
	t   Target
	sem chan struct{}
}

// Completer returns a Completer for t allowing at most concurrency calls in
// flight (0: the run's concurrency).
func (c *Caller) Completer(t Target, concurrency int) *Completer {
	if concurrency <= 0 {
		concurrency = c.opts.Concurrency
	}
	return &Completer{c: c, t: t, sem: make(chan struct{}, concurrency)}
}

// Complete makes the call. The response's cost is CostOf(resp.Usage).
func (p *Completer) Complete(ctx context.Context, req provider.Request) (provider.Response, error) {
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return provider.Response{}, ctx.Err()
	}
	defer func() { <-p.sem }()
	r, err := p.c.complete(ctx, &p.t, req)
	return r.resp, err
}

// CostOf is the USD cost of usage on this model, nil when its price is unknown.
func (p *Completer) CostOf(u provider.Usage) *float64 { return p.t.cost(u) }

// stopper records the first reason to stop dispatching new calls.
type stopper struct {
	once   sync.Once
	ch     chan struct{}
	mu     sync.Mutex
	reason string
	err    error
}

func (s *stopper) stop(reason string, err error) {
	s.once.Do(func() {
		s.mu.Lock()
		s.reason, s.err = reason, err
		s.mu.Unlock()
		close(s.ch)
	})
}

func (s *stopper) stopped() bool {
	select {
	case <-s.ch:
		return true
	default:
		return false
	}
}

func (s *stopper) get() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reason, s.err
}

// call makes the request, retrying failures the service may recover from,
// each attempt bounded by the per-call timeout. It returns the number of
// attempts made.
//
// Transient failures (5xx, timeouts, cut connections) are retried
// opts.Retries times. Throttled calls are retried while they have been
// throttled for less than opts.RetryThrottledFor: under load a share of
// calls is always throttled, and a fixed count would turn that share into
// errors (at 30% throttling, 0.3^5 of calls after four retries). A
// throttled call waits what its target's limiter says (a RetryPacer: no
// wait while the service answers other calls, the limiter's window being
// what keeps the load within the service's capacity; a doubling one over
// rounds of refusals, ended early when a call succeeds); any other wait is
// exponential backoff with full jitter. The Retry-After the service asked
// for wins when longer; every wait is capped at opts.MaxRetryWait, and one
// that would end after the run's deadline is not begun.
func (c *Caller) call(ctx context.Context, t *Target, req provider.Request) (provider.Response, int, error) {
	start := c.opts.now()
	transient := 0 // failures counted against opts.Retries
	for attempt := 1; ; attempt++ {
		resp, err := c.attempt(ctx, t, req)
		if err == nil {
			return resp, attempt, nil
		}
		kind := provider.KindOf(err)
		if ctx.Err() != nil || !kind.Retryable() {
			return resp, attempt, err
		}
		if kind == provider.KindTransient {
			transient++
		}
		now := c.opts.now()
		switch {
		case kind == provider.KindTransient && transient > c.opts.Retries:
			return resp, attempt, err
		case kind == provider.KindThrottled && now.Sub(start) >= c.opts.RetryThrottledFor:
			return resp, attempt, fmt.Errorf("still throttled after %s of retries (run.retry_throttled_for): %w", c.opts.RetryThrottledFor, err)
		}
		delay := c.backoff(attempt)
		var room <-chan struct{}
		p, paced := t.Limiter.(RetryPacer)
		if paced && kind == provider.KindThrottled {
			delay = min(p.RetryDelay(), c.opts.BackoffMax)
		}
		w := Wait{Target: t.Info.ID, Kind: kind.String(), Delay: delay, Asked: provider.RetryAfterOf(err)}
		if w.Asked > w.Delay {
			w.Delay = w.Asked
		} else if paced && kind == provider.KindThrottled && w.Delay > 0 {
			// The service named no time: a success elsewhere ends the wait.
			room = p.Room()
		}
		if w.Delay > c.opts.MaxRetryWait {
			w.Delay, w.Capped = c.opts.MaxRetryWait, true
		}
		if dl, ok := ctx.Deadline(); ok && now.Add(w.Delay).After(dl) {
			return resp, attempt, fmt.Errorf("not retried: the wait of %s would end after the run's deadline: %w", w.Delay.Round(time.Millisecond), err)
		}
		if wt, ok := c.opts.Progress.(Waiter); ok && (w.Capped || w.Delay >= noticeableWait) {
			wt.Waiting(w)
		}
		if err := c.sleepUntil(ctx, w.Delay, room); err != nil {
			return resp, attempt, err
		}
	}
}

// sleepUntil waits d, or less if room (when not nil) is closed first.
func (c *Caller) sleepUntil(ctx context.Context, d time.Duration, room <-chan struct{}) error {
	if room == nil {
		return c.opts.sleep(ctx, d)
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-room:
			cancel()
		case <-wctx.Done():
		}
	}()
	_ = c.opts.sleep(wctx, d)
	return ctx.Err()
}

// noticeableWait is the shortest wait before a retry that the progress
// display is told about: shorter ones are ordinary backoff, visible in the
// retry count.
const noticeableWait = 5 * time.Second

// Wait is a pause before a retry, for the progress display to say why the
// run is not moving.
type Wait struct {
	Target string
	// Kind is the failure retried: throttled or transient.
	Kind string
	// Delay is how long the call waits; Asked what the service's
	// Retry-After asked for (0: nothing); Capped is set when Delay was cut to
	// run.max_retry_wait.
	Delay, Asked time.Duration
	Capped       bool
}

// Waiter is a Progress that is also told about long waits before retries.
type Waiter interface {
	Waiting(w Wait)
}

// RetryPacer is a Limiter that paces the retries of throttled calls
// (*throttle.Limiter): it sees every call to the model, so it knows whether
// the service still answers the others. RetryDelay is the wait; Room is
// closed when a call succeeds, which ends the wait early.
type RetryPacer interface {
	RetryDelay() time.Duration
	Room() <-chan struct{}
}

// Pauser is a Limiter that can hold new calls while a quota the service
// reported as spent is replenished (*throttle.Limiter).
type Pauser interface {
	Pause(d time.Duration)
}

func (c *Caller) attempt(ctx context.Context, t *Target, req provider.Request) (provider.Response, error) {
	if t.Limiter == nil {
		return c.timed(ctx, t, req)
	}
	est := estimateTokens(req)
	release, err := t.Limiter.Begin(ctx, est)
	if err != nil {
		return provider.Response{}, err
	}
	resp, err := c.timed(ctx, t, req)
	release(err, resp.Usage.InputTokens+resp.Usage.OutputTokens)
	quota := resp.RateLimit
	if err != nil {
		quota = provider.RateLimitOf(err)
	}
	if p, ok := t.Limiter.(Pauser); ok && quota != nil {
		// The next call is about this one's size.
		p.Pause(quota.Wait(est))
	}
	return resp, err
}

func (c *Caller) timed(ctx context.Context, t *Target, req provider.Request) (provider.Response, error) {
	timeout := c.opts.Timeout
	if t.Timeout > 0 {
		timeout = t.Timeout
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	resp, err := t.Provider.Complete(cctx, req)
	if err != nil && ctx.Err() == nil && errors.Is(cctx.Err(), context.DeadlineExceeded) {
		// Our per-call timeout, not the run's: the service was slow, retry.
		return resp, &provider.Error{Kind: provider.KindTransient, Provider: t.Info.Provider,
			Err: fmt.Errorf("no response within %s (timeout): %w", timeout, err)}
	}
	return resp, err
}

// estimateTokens guesses a request's tokens for tokens-per-minute limits:
// about four characters a token for the prompt, plus the reply's cap.
func estimateTokens(req provider.Request) int {
	n := len(req.System)
	for _, m := range req.Messages {
		n += len(m.Content)
	}
	est := n / 4
	if req.Params.MaxTokens != nil {
		est += *req.Params.MaxTokens
	}
	return est
}

func (c *Caller) backoff(attempt int) time.Duration {
	d := c.opts.BackoffBase << (attempt - 1)
	if d > c.opts.BackoffMax || d <= 0 {
		d = c.opts.BackoffMax
	}
	// Full jitter spreads retries of many workers that were throttled together.
	return time.Duration(rand.Int64N(int64(d)) + 1)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// budget is the money spent so far.
type budget struct {
	mu    sync.Mutex
	spent float64
}

func (b *budget) add(c float64) { b.mu.Lock(); b.spent += c; b.mu.Unlock() }
func (b *budget) get() float64  { b.mu.Lock(); defer b.mu.Unlock(); return b.spent }
