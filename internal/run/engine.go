// Package run is the evaluation engine: samples x repeats x targets through
// bounded concurrency, per-call timeouts, retries with backoff for throttled
// and transient failures, a response cache, a cost budget and an overall
// deadline. Records stream to a writer as they finish, so memory stays flat
// whatever the size of the suite, and a stopped run keeps every finished record.
package run

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/evalgate/evalgate/internal/excerpt"
	"github.com/evalgate/evalgate/internal/metric"
	"github.com/evalgate/evalgate/internal/pricing"
	"github.com/evalgate/evalgate/internal/provider"
	"github.com/evalgate/evalgate/internal/results"
	"github.com/evalgate/evalgate/internal/secret"
	"github.com/evalgate/evalgate/internal/suite"
	"github.com/evalgate/evalgate/internal/throttle"
)

// Provider is what the engine needs of a model adapter.
type Provider interface {
	Complete(ctx context.Context, req provider.Request) (provider.Response, error)
}

// Limiter paces calls to one provider and model (requests and tokens per
// minute, adaptive concurrency); *throttle.Limiter is one. Begin blocks until
// a call may start; the returned end reports how the call went (err nil on
// success) and the tokens it used.
type Limiter interface {
	Begin(ctx context.Context, estTokens int) (end func(err error, usedTokens int), err error)
}

// Samples yields the dataset one sample at a time; io.EOF ends it.
type Samples interface {
	Next() (suite.Sample, error)
}

// RecordWriter receives each finished record (a *results.Writer).
type RecordWriter interface {
	Write(results.Record) error
}

// Target is one thing evaluated, ready to call.
type Target struct {
	Info     results.TargetInfo
	Provider Provider
	// Render turns a sample's fields into the system and user prompt.
	Render func(fields map[string]string) (system, user string, err error)
	Stream bool
	// Price is nil when the model's price is unknown: cost is then unknown.
	Price *pricing.Price
	// Cacheable is false for providers that replay logged outputs.
	Cacheable bool
	// Limiter is optional.
	Limiter Limiter
	// Timeout overrides Options.Timeout for this target's calls.
	Timeout time.Duration
	// SkipMetrics names the metrics that do not score this target (an
	// imported score that describes another target's answers).
	SkipMetrics map[string]bool
	// AllowEmpty makes an empty answer a valid one, scored as the empty
	// text; otherwise it is a record error of kind "empty".
	AllowEmpty bool
	// Match, when set, says which samples this target is evaluated on (its
	// filter, its own dataset's rows); the others get no record, as if the
	// target had no such row.
	Match func(s suite.Sample) bool
	// Fields, when set, gives the sample's fields as this target sees them
	// (merged with its own row and column mapping), for its prompt, its
	// provider and its metrics.
	Fields func(s suite.Sample) map[string]string
	// ParamsFor, when set, gives the call's params for a sample (a target
	// inheriting the source's logged invocation config); Info.Params
	// otherwise.
	ParamsFor func(fields map[string]string) (provider.Params, error)
	// CacheSystem and CacheUser are the prompt's shared prefix, passed on
	// as provider.Request's for prompt caching (targets[].cache_prompt);
	// zero without it.
	CacheSystem, CacheUser int
	// Prepaid marks calls already paid for (the answers of a finished
	// Bedrock batch job): a spent budget does not hold them back, since
	// dropping them would lose results without saving money.
	Prepaid bool
	// LivePrice, when set, prices the calls made now, while Price prices
	// the answers read from the response cache: a batch target's few
	// leftover calls are made on demand at the on-demand price, its job's
	// cached answers stay at the batch price.
	LivePrice *pricing.Price
}

// Options bound a run. Zero values take the suite defaults, except Retries:
// zero retries is a valid setting.
type Options struct {
	Concurrency int
	Repeats     int
	// Retries is how many times a transient failure (5xx, timeout, a cut
	// connection) is retried.
	Retries int
	// RetryThrottledFor bounds, in time rather than count, how long one call
	// is retried while the service throttles it (default
	// suite.DefaultRetryThrottledFor): a share of throttled calls is normal
	// under load and must not become errors, an endless 429 must end.
	RetryThrottledFor time.Duration
	// MaxRetryWait caps one wait before a retry, whatever the service's
	// Retry-After asks (default suite.DefaultMaxRetryWait).
	MaxRetryWait time.Duration
	// Timeout bounds one call; Deadline the whole run (0 = none).
	Timeout  time.Duration
	Deadline time.Duration
	// BudgetUSD stops new calls once the run has spent this much (0 = none).
	// Calls already in flight finish, so the overshoot is at most Concurrency
	// calls.
	BudgetUSD float64
	Cache     *Cache
	// Delimiter splits several acceptable references ("<OR>").
	Delimiter string
	// BackoffBase and BackoffMax shape the exponential backoff with full jitter.
	BackoffBase time.Duration
	BackoffMax  time.Duration
	// Progress, if set, is told about every finished record, and about long
	// waits before retries when it is also a Waiter.
	Progress Progress
	// Secrets, if set, are removed from every text the run keeps: answers
	// (before the cache sees them), error messages and judges' reasons.
	Secrets *secret.Redactor
	// Caller, when set, is the caller the engine uses (built with NewCaller
	// and shared with judge metrics); its options then win over these.
	Caller *Caller
	// Clock, if set, is the time the retries of throttled calls are
	// measured and waited on (run.retry_throttled_for, backoff), instead of
	// the wall clock: the tests of packages that call through a Caller
	// (optimize's generators) spend a throttling window without sleeping.
	Clock Clock
	// Sequential, if set, looks at the evidence as records arrive and
	// stops the run's calls once the verdict is settled.
	Sequential *Sequential
	// sleep and now are replaced in tests.
	sleep func(ctx context.Context, d time.Duration) error
	now   func() time.Time
}

// Clock is a time source for retry waits.
type Clock interface {
	Now() time.Time
	// Sleep waits d or until ctx is done, returning ctx.Err() in that case.
	Sleep(ctx context.Context, d time.Duration) error
}

// Progress receives the running totals.
type Progress interface {
	Update(s Stats)
	Done(s Stats)
}

// Stats are the running totals of a run. Infra counts the Errors that were
// the service's (provider.ErrorKind.Infrastructure).
type Stats struct {
	Done, Errors, Infra, Cached, Retries int
	CostUSD                              float64
	Elapsed                              time.Duration
}

// Stop reasons: why a run ended before evaluating everything.
const (
	ReasonBudget    = "budget reached"
	ReasonDeadline  = "deadline reached"
	ReasonCancelled = "cancelled"
)

// ErrAuth is wrapped by Run's error when a provider refused the credentials:
// the run stops at once instead of failing thousands of calls.
var ErrAuth = errors.New("provider authentication failed")

// ErrInfrastructure is wrapped by Run's error when a target's service failed
// infraStreakLimit calls in a row after their retries (refused connections,
// 5xx, timeouts, endless throttling): the run stops instead of spending the
// retries of every remaining call on a service that is down.
var ErrInfrastructure = errors.New("model service unavailable")

// infraStreakLimit is how many calls of one target in a row must fail for
// the service's reasons, each after its retries (about 15 s of backoff for a
// transient failure), before the run stops: more than a burst of calls in
// flight when a brief outage hit, and far fewer than a suite.
const infraStreakLimit = 10

// ErrDataset is wrapped by Run's error when the dataset could not be read to
// its end.
var ErrDataset = errors.New("dataset error")

// ReasonInternal is the stop reason of a run that hit a bug in evalgate.
const ReasonInternal = "evalgate stopped on an internal error"

// PanicError is Run's error when a worker panicked (a bug in an adapter, a
// metric or the dataset reader): the panic stops the run like any other
// failure, so the records already finished are written and summarized
// instead of the process dying with a stack dump.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string { return fmt.Sprintf("internal error: %v", e.Value) }

// PanicStack is the stack of the goroutine that panicked.
func (e *PanicError) PanicStack() []byte { return e.Stack }

// stopOnPanic, deferred in a goroutine of the run, turns its panic into the
// run's stop; it reports whether there was one.
func (e *Engine) stopOnPanic(p any) bool {
	if p == nil {
		return false
	}
	e.caller.st.stop(ReasonInternal, &PanicError{Value: p, Stack: debug.Stack()})
	return true
}

// Engine runs targets and metrics over samples.
type Engine struct {
	opts    Options
	caller  *Caller
	targets []Target
	metrics []metric.Metric
}

// New returns an engine, filling defaults. Its calls go through
// opts.Caller when set (so that judge metrics share it), else a new Caller.
func New(targets []Target, metrics []metric.Metric, opts Options) *Engine {
	c := opts.Caller
	if c == nil {
		c = NewCaller(opts)
	}
	return &Engine{opts: c.opts, caller: c, targets: targets, metrics: metrics}
}

// withDefaults fills the zero values of opts.
func withDefaults(opts Options) Options {
	if opts.Concurrency <= 0 {
		opts.Concurrency = suite.DefaultConcurrency
	}
	if opts.Repeats <= 0 {
		opts.Repeats = 1
	}
	if opts.Timeout <= 0 {
		opts.Timeout = suite.DefaultTimeout
	}
	if opts.Delimiter == "" {
		opts.Delimiter = suite.DefaultDelimiter
	}
	if opts.BackoffBase <= 0 {
		opts.BackoffBase = 500 * time.Millisecond
	}
	if opts.BackoffMax <= 0 {
		opts.BackoffMax = 30 * time.Second
	}
	if opts.RetryThrottledFor <= 0 {
		opts.RetryThrottledFor = suite.DefaultRetryThrottledFor
	}
	if opts.MaxRetryWait <= 0 {
		opts.MaxRetryWait = suite.DefaultMaxRetryWait
	}
	if opts.Clock != nil {
		opts.sleep, opts.now = opts.Clock.Sleep, opts.Clock.Now
	}
	if opts.sleep == nil {
		opts.sleep = throttle.Sleep
	}
	if opts.now == nil {
		opts.now = time.Now
	}
	return opts
}

type job struct {
	sample suite.Sample
	target int
	repeat int
	// rank is the sample's place among the samples handed out; want the
	// number of jobs it has (its targets times the repeats).
	rank, want int
}

// outcome is a worker's answer for one job: a record, or a skip.
type outcome struct {
	rec     results.Record
	skipped bool
	retries int
	target  int
	job     job
}

// Run evaluates every sample and writes each finished record to w. It returns
// the summary (also when it returns an error: records written stay valid) and
// an error wrapping ErrAuth, ErrDataset or the writer's failure. An engine
// runs once.
func (e *Engine) Run(ctx context.Context, samples Samples, w RecordWriter) (results.Summary, error) {
	start := time.Now()
	// 1. Bound the run: runCtx ends at the deadline; callCtx also ends when
	// the run must stop at once (auth or writer failure). A spent budget
	// only stops new calls.
	runCtx, cancelRun := ctx, context.CancelFunc(func() {})
	if e.opts.Deadline > 0 {
		runCtx, cancelRun = context.WithTimeout(ctx, e.opts.Deadline)
	}
	defer cancelRun()
	callCtx, cancelCalls := context.WithCancel(runCtx)
	defer cancelCalls()
	// 2. Hand out the jobs as the dataset streams in.
	jobs := make(chan job)
	d := &dispatched{skipped: make([]int, len(e.targets))}
	go e.dispatch(runCtx, samples, jobs, d)
	// 3. Make the calls, Concurrency at a time.
	outs := make(chan outcome, e.opts.Concurrency)
	go e.work(runCtx, callCtx, jobs, outs)
	// 4. Write each record as it finishes and total it up.
	agg := newAggregator(e.targets, e.metrics)
	looks := newLooker(e.opts.Sequential)
	var writeErr error
	for o := range outs {
		if o.skipped {
			agg.skip(o.target)
			continue
		}
		if writeErr == nil {
			if writeErr = w.Write(o.rec); writeErr != nil {
				e.caller.st.stop("results write failed", writeErr)
				cancelCalls()
			}
		}
		agg.add(o)
		looks.add(o.job)
		if looks.look(ctx) {
			// Settled: stop calling, and cancel the calls in flight
			// (their samples are past the look; what finished is kept).
			e.caller.st.stop(ReasonSettled, nil)
			cancelCalls()
		}
		if n := agg.infraStreak[o.target]; n >= infraStreakLimit {
			// The service is down, not slow: stop paying retries for
			// every remaining call.
			why := fmt.Sprintf("the service of target %s failed %d calls in a row after their retries (last: %s)", o.rec.Target, n, excerpt.Of(o.rec.Error.Message, 300))
			e.caller.st.stop(why, fmt.Errorf("%w: %s", ErrInfrastructure, why))
			cancelCalls()
		}
		if e.opts.Progress != nil {
			e.opts.Progress.Update(agg.stats(time.Since(start)))
		}
	}
	// 5. Say how it ended.
	if d.readErr != nil {
		e.caller.st.stop("dataset error: "+d.readErr.Error(), fmt.Errorf("%w: %w", ErrDataset, d.readErr))
	}
	for t, n := range d.skipped {
		agg.sum[t].Skipped += n
	}
	if e.opts.Progress != nil {
		e.opts.Progress.Done(agg.stats(time.Since(start)))
	}
	return e.summarize(agg, ctx.Err() != nil, runCtx.Err() != nil, writeErr)
}

// dispatched is what the dispatcher leaves behind; read it only once the
// jobs channel is closed.
type dispatched struct {
	// skipped counts, per target, the calls never handed out.
	skipped []int
	// readErr is the dataset's error, if it could not be read to its end.
	readErr error
}

// dispatch reads the dataset and hands out jobs in order sample, repeat,
// target, so that the targets of one sample run close together in time.
// Once the run stops it only counts what it does not hand out.
func (e *Engine) dispatch(ctx context.Context, samples Samples, jobs chan<- job, d *dispatched) {
	defer close(jobs)
	defer func() { e.stopOnPanic(recover()) }()
	st := e.caller.st
	for rank := 0; ; {
		s, err := samples.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			// Samples already handed out still run: they are valid.
			d.readErr = err
			return
		}
		want := 0
		for t := range e.targets {
			if m := e.targets[t].Match; m == nil || m(s) {
				want += e.opts.Repeats
			}
		}
		if want == 0 {
			continue
		}
		rank++
		for r := 0; r < e.opts.Repeats; r++ {
			for t := range e.targets {
				if m := e.targets[t].Match; m != nil && !m(s) {
					continue
				}
				if st.stopped() || ctx.Err() != nil {
					d.skipped[t]++
					continue
				}
				select {
				case jobs <- job{sample: s, target: t, repeat: r, rank: rank - 1, want: want}:
				case <-st.ch:
					d.skipped[t]++
				case <-ctx.Done():
					d.skipped[t]++
				}
			}
		}
	}
}

// work runs Concurrency workers over jobs and closes outs when all are done.
// A job taken after the run stopped is reported as skipped, not called.
func (e *Engine) work(runCtx, callCtx context.Context, jobs <-chan job, outs chan<- outcome) {
	var wg sync.WaitGroup
	for i := 0; i < e.opts.Concurrency; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				if e.caller.st.stopped() || runCtx.Err() != nil {
					outs <- outcome{skipped: true, target: j.target}
					continue
				}
				o := e.safeDo(callCtx, j)
				o.job = j
				outs <- o
			}
		}()
	}
	wg.Wait()
	close(outs)
}

// safeDo is do, with a panic turned into the stop of the run: the job is
// reported as not done, and the records already finished are kept.
func (e *Engine) safeDo(ctx context.Context, j job) (o outcome) {
	defer func() {
		if e.stopOnPanic(recover()) {
			o = outcome{skipped: true, target: j.target}
		}
	}()
	return e.do(ctx, j)
}

// summarize builds the summary: complete, or incomplete with the first
// reason the run stopped (cancelled by the caller, deadline, budget, auth,
// dataset) or because calls were not made.
func (e *Engine) summarize(agg *aggregator, cancelled, ended bool, writeErr error) (results.Summary, error) {
	sum := results.Summary{Finished: time.Now().UTC(), Status: results.StatusComplete, Targets: agg.finish()}
	reason, err := e.caller.st.get()
	settled := reason == ReasonSettled
	if settled {
		// The calls not made were not needed: the run is complete.
		reason = ""
	}
	switch {
	case writeErr != nil:
		err = writeErr
	case reason == "" && cancelled:
		reason = ReasonCancelled
	case reason == "" && ended:
		reason = ReasonDeadline
	}
	if n := agg.running.Infra; n > 0 && !errors.Is(err, ErrInfrastructure) && !errors.Is(err, ErrAuth) {
		// Calls the service failed were not evaluated: the run did not
		// measure what it set out to, whatever the other records say.
		infra := fmt.Sprintf("%d of %d calls could not be evaluated: the model service failed (unreachable, 5xx, timeouts or throttling past the retries); first: %s",
			n, agg.running.Done, excerpt.Of(agg.firstInfra, 300))
		reason = strings.TrimPrefix(reason+"; "+infra, "; ")
	}
	if reason != "" || agg.skipped() > 0 && !settled {
		sum.Status = results.StatusIncomplete
		sum.Reason = cmp.Or(reason, ReasonCancelled)
	}
	return sum, err
}

// do makes one call (from the cache, or with retries) and scores it.
func (e *Engine) do(ctx context.Context, j job) outcome {
	t := &e.targets[j.target]
	if t.Fields != nil {
		j.sample.Fields = t.Fields(j.sample)
	}
	rec := results.Record{
		SampleID:  j.sample.ID,
		Target:    t.Info.ID,
		Repeat:    j.repeat,
		Cluster:   j.sample.Cluster,
		Reference: j.sample.Reference,
		InputHash: results.InputHash(j.sample.Input, j.sample.Reference),
	}
	req, err := t.request(j.sample, j.repeat)
	if err != nil {
		rec.Error = &results.RecordError{Kind: KindTemplate, Message: err.Error()}
		return outcome{rec: rec, target: j.target}
	}
	user := req.Messages[0].Content
	rec.Input = user
	r, err := e.caller.complete(ctx, t, req)
	rec.Attempts = r.attempts
	retries := max(r.attempts-1, 0)
	switch {
	case errors.Is(err, errBudget):
		return outcome{skipped: true, target: j.target}
	case err != nil && ctx.Err() != nil:
		// Stopped mid-call: the record is not finished; it is not written.
		return outcome{skipped: true, target: j.target, retries: retries}
	case err != nil:
		rec.Error = &results.RecordError{Kind: provider.KindOf(err).String(), Message: err.Error()}
		return outcome{rec: rec, target: j.target, retries: retries}
	}
	resp := r.resp
	rec.Output = resp.Text
	rec.Usage = resp.Usage
	rec.LatencyMS = ms(resp.Latency)
	rec.TTFTMS = ms(resp.TTFT)
	rec.ServiceLatencyMS = ms(resp.ServiceLatency)
	rec.StopReason = resp.StopReason
	rec.Cached = r.cached
	rec.CostUSD = r.cost
	rec.CacheSavingUSD = t.cacheSaving(resp.Usage)
	if strings.TrimSpace(resp.Text) == "" && !t.AllowEmpty {
		// Scoring no answer as text would give it whatever an empty
		// string scores (exact_match against an empty reference, a
		// judge's guess); it is a failure of the target instead.
		rec.Error = emptyAnswer(resp)
		return outcome{rec: rec, target: j.target, retries: retries}
	}
	e.score(ctx, &rec, t, j.sample, user, resp)
	if reason, _ := e.caller.st.get(); ctx.Err() != nil && reason == ReasonSettled {
		// A sequential run stopped while a judge scored this answer: its
		// scores are cut short, and its sample is past the verdict's look.
		return outcome{skipped: true, target: j.target, retries: retries}
	}
	for k, v := range rec.ScoreErrors {
		rec.ScoreErrors[k] = e.opts.Secrets.RedactMessage(v)
	}
	for k, v := range rec.Details {
		rec.Details[k] = e.opts.Secrets.Redact(v)
	}
	return outcome{rec: rec, target: j.target, retries: retries}
}

// emptyAnswer is the record error of a call that returned no text: withheld
// by a content filter, or empty (no choices, an empty message, a program
// that printed no text).
func emptyAnswer(resp provider.Response) *results.RecordError {
	if resp.StopReason == "content_filtered" {
		return &results.RecordError{Kind: provider.KindContentFiltered.String(),
			Message: "the answer was withheld by a content filter or guardrail (stop reason content_filtered)"}
	}
	stop := ""
	if resp.StopReason != "" {
		stop = " (stop reason " + resp.StopReason + ")"
	}
	return &results.RecordError{Kind: provider.KindEmpty.String(),
		Message: "the call succeeded but returned no answer" + stop + "; set allow_empty: true on the target (or run.allow_empty) if an empty answer is valid"}
}

// judgeCost adds what a metric's model calls cost to the record; a call on
// an unpriced model makes the judge cost unknown.
func judgeCost(rec *results.Record, sc metric.Score, unpriced *bool) {
	if sc.Usage == (provider.Usage{}) && sc.CostUSD == nil {
		return
	}
	if rec.JudgeUsage == nil {
		rec.JudgeUsage = &provider.Usage{}
		zero := 0.0
		rec.JudgeCostUSD = &zero
	}
	*rec.JudgeUsage = rec.JudgeUsage.Add(sc.Usage)
	if sc.CostUSD == nil {
		*unpriced = true
		return
	}
	*rec.JudgeCostUSD += *sc.CostUSD
}

// KindTemplate is the record error kind of a prompt that could not be
// rendered for a sample (a field missing from the dataset row).
const KindTemplate = "template"

func (e *Engine) score(ctx context.Context, rec *results.Record, t *Target, s suite.Sample, question string, resp provider.Response) {
	in := metric.Input{
		Output:    resp.Text,
		Reference: s.Reference,
		Question:  question,
		Fields:    s.Fields,
		Latency:   resp.Latency,
		CostUSD:   rec.CostUSD,
	}
	if s.Reference != "" {
		in.References = strings.Split(s.Reference, e.opts.Delimiter)
		// A reference of delimiters alone ("<OR>") names no answer: it is
		// no reference, as the reference implementations read it, not the
		// literal text "<OR>".
		if !slices.ContainsFunc(in.References, func(r string) bool { return r != "" }) {
			in.Reference, in.References = "", nil
		}
	}
	judgeUnpriced := false
	for _, m := range e.metrics {
		name := m.Info().Name
		if t.SkipMetrics[name] {
			continue
		}
		sc, err := m.Score(ctx, in)
		if err == nil && (math.IsNaN(sc.Value) || math.IsInf(sc.Value, 0)) {
			err = fmt.Errorf("metric returned %v", sc.Value)
		}
		// A judge that failed was still paid for.
		judgeCost(rec, sc, &judgeUnpriced)
		if err != nil {
			if rec.ScoreErrors == nil {
				rec.ScoreErrors = map[string]string{}
			}
			rec.ScoreErrors[name] = err.Error()
			continue
		}
		if rec.Scores == nil {
			rec.Scores = map[string]float64{}
		}
		rec.Scores[name] = sc.Value
		if sc.Raw != nil {
			if rec.Raw == nil {
				rec.Raw = map[string]float64{}
			}
			rec.Raw[name] = *sc.Raw
		}
		if sc.Detail != "" {
			if rec.Details == nil {
				rec.Details = map[string]string{}
			}
			rec.Details[name] = sc.Detail
		}
	}
	if judgeUnpriced {
		rec.JudgeCostUSD = nil
	}
}

// aggregator builds the summary from the records as they stream past.
type aggregator struct {
	targets []Target
	metrics []string
	sum     []results.TargetSummary
	totals  []map[string]float64
	lat     [][]float64
	// judgeUnpriced marks targets whose judge cost is unknown.
	judgeUnpriced []bool
	// infraStreak counts, per target, the calls in a row that failed for
	// the service's reasons; firstInfra is the first such failure.
	infraStreak []int
	firstInfra  string
	running     Stats
}

func newAggregator(targets []Target, metrics []metric.Metric) *aggregator {
	a := &aggregator{targets: targets, judgeUnpriced: make([]bool, len(targets)), infraStreak: make([]int, len(targets))}
	for _, m := range metrics {
		a.metrics = append(a.metrics, m.Info().Name)
	}
	for _, t := range targets {
		ts := results.TargetSummary{ID: t.Info.ID, Means: map[string]float64{}, Scored: map[string]int{}}
		if t.Price != nil {
			z := 0.0
			ts.CostUSD = &z
		}
		a.sum = append(a.sum, ts)
		a.totals = append(a.totals, map[string]float64{})
		a.lat = append(a.lat, nil)
	}
	return a
}

func (a *aggregator) skip(t int) { a.sum[t].Skipped++ }

func (a *aggregator) skipped() int {
	n := 0
	for _, s := range a.sum {
		n += s.Skipped
	}
	return n
}

func (a *aggregator) add(o outcome) {
	s := &a.sum[o.target]
	r := o.rec
	s.Records++
	s.Retries += o.retries
	a.running.Done++
	a.running.Retries += o.retries
	if r.Error != nil {
		s.Errors++
		a.running.Errors++
		if r.Error.Infrastructure() {
			s.InfraErrors++
			a.running.Infra++
			a.infraStreak[o.target]++
			if a.firstInfra == "" {
				a.firstInfra = r.Target + ": " + r.Error.Message
			}
		} else {
			a.infraStreak[o.target] = 0
		}
		// An empty answer was still paid for.
		s.Usage = s.Usage.Add(r.Usage)
		if s.CostUSD != nil && r.CostUSD != nil {
			*s.CostUSD += *r.CostUSD
			a.running.CostUSD += *r.CostUSD
		}
		return
	}
	a.infraStreak[o.target] = 0
	if r.Cached {
		s.Cached++
		a.running.Cached++
	}
	if r.StopReason == provider.StopMaxTokens {
		s.MaxTokensStops++
	}
	s.Usage = s.Usage.Add(r.Usage)
	if s.CostUSD != nil && r.CostUSD != nil {
		*s.CostUSD += *r.CostUSD
		a.running.CostUSD += *r.CostUSD
	}
	a.lat[o.target] = append(a.lat[o.target], r.LatencyMS)
	if r.JudgeUsage != nil {
		s.JudgeUsage = s.JudgeUsage.Add(*r.JudgeUsage)
		switch {
		case r.JudgeCostUSD == nil:
			a.judgeUnpriced[o.target] = true
		case !a.judgeUnpriced[o.target]:
			if s.JudgeCostUSD == nil {
				s.JudgeCostUSD = new(float64)
			}
			*s.JudgeCostUSD += *r.JudgeCostUSD
			a.running.CostUSD += *r.JudgeCostUSD
		}
	}
	for k, v := range r.Scores {
		a.totals[o.target][k] += v
		s.Scored[k]++
	}
}

func (a *aggregator) stats(elapsed time.Duration) Stats {
	s := a.running
	s.Elapsed = elapsed
	return s
}

func (a *aggregator) finish() []results.TargetSummary {
	for i := range a.sum {
		for k, n := range a.sum[i].Scored {
			a.sum[i].Means[k] = a.totals[i][k] / float64(n)
		}
		lat := a.lat[i]
		sort.Float64s(lat)
		a.sum[i].LatencyP50MS = Quantile(lat, 0.50)
		a.sum[i].LatencyP95MS = Quantile(lat, 0.95)
		if a.judgeUnpriced[i] {
			a.sum[i].JudgeCostUSD = nil
		}
	}
	return a.sum
}

// Quantile is the q-quantile of sorted xs by linear interpolation between
// closest ranks (numpy's default "linear" method); 0 for an empty slice.
func Quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	pos := q * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	hi := int(math.Ceil(pos))
	frac := pos - float64(lo)
	return sorted[lo] + (sorted[hi]-sorted[lo])*frac
}
