package run

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/metric"
	"github.com/evalgate/evalgate/internal/pricing"
	"github.com/evalgate/evalgate/internal/provider"
	"github.com/evalgate/evalgate/internal/results"
	"github.com/evalgate/evalgate/internal/suite"
)

// sliceSamples yields n generated samples.
type sliceSamples struct {
	n, i int
	err  error // returned after n samples instead of io.EOF
}

func (s *sliceSamples) Next() (suite.Sample, error) {
	if s.i >= s.n {
		if s.err != nil {
			return suite.Sample{}, s.err
		}
		return suite.Sample{}, io.EOF
	}
	s.i++
	id := fmt.Sprintf("s%03d", s.i)
	return suite.Sample{ID: id, Line: s.i, Reference: "ref " + id, Fields: map[string]string{"question": "q " + id}}, nil
}

// memWriter collects records.
type memWriter struct {
	mu   sync.Mutex
	recs []results.Record
	fail error
}

func (w *memWriter) Write(r results.Record) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fail != nil {
		return w.fail
	}
	w.recs = append(w.recs, r)
	return nil
}

// fakeProvider answers with a function of the request and counts calls.
type fakeProvider struct {
	calls atomic.Int64
	fn    func(n int64, req provider.Request) (provider.Response, error)
}

func (f *fakeProvider) Complete(ctx context.Context, req provider.Request) (provider.Response, error) {
	n := f.calls.Add(1)
	return f.fn(n, req)
}

func echoes() *fakeProvider {
	return &fakeProvider{fn: func(_ int64, req provider.Request) (provider.Response, error) {
		return provider.Response{Text: "answer: " + req.Messages[0].Content, Usage: provider.Usage{InputTokens: 100, OutputTokens: 50}, Latency: 20 * time.Millisecond}, nil
	}}
}

func render(fields map[string]string) (string, string, error) {
	q, ok := fields["question"]
	if !ok {
		return "", "", errors.New(`prompt "answer": field "question" is missing`)
	}
	return "be brief", q, nil
}

func target(id string, p Provider) Target {
	return Target{Info: results.TargetInfo{ID: id, Provider: "fake", Model: "m-" + id}, Provider: p, Render: render, Cacheable: true}
}

// lengthMetric scores the output's length, to see scores flow through.
type lengthMetric struct{}

func (lengthMetric) Info() metric.Info {
	return metric.Info{Name: "len", Min: 0, Max: 1e9, Direction: metric.HigherIsBetter}
}
func (lengthMetric) Score(_ context.Context, in metric.Input) (metric.Score, error) {
	if len(in.References) == 0 {
		return metric.Score{}, errors.New("no reference")
	}
	return metric.Score{Value: float64(len(in.Output))}, nil
}

func noSleep(context.Context, time.Duration) error { return nil }

func TestRunEvaluatesEverySampleTargetRepeat(t *testing.T) {
	t.Parallel()
	a, b := echoes(), echoes()
	price := &pricing.Price{InputPerMTok: 1, OutputPerMTok: 2}
	ta := target("a", a)
	ta.Price = price
	e := New([]Target{ta, target("b", b)}, []metric.Metric{lengthMetric{}}, Options{Concurrency: 4, Repeats: 3})
	w := &memWriter{}
	sum, err := e.Run(context.Background(), &sliceSamples{n: 10}, w)
	require.NoError(t, err)
	assert.Equal(t, results.StatusComplete, sum.Status)
	assert.Len(t, w.recs, 10*3*2)
	assert.EqualValues(t, 30, a.calls.Load())
	seen := map[string]bool{}
	for _, r := range w.recs {
		key := fmt.Sprintf("%s/%s/%d", r.Target, r.SampleID, r.Repeat)
		assert.False(t, seen[key], "duplicate record %s", key)
		seen[key] = true
		assert.Equal(t, float64(len("answer: q "+r.SampleID)), r.Scores["len"])
		assert.Equal(t, "ref "+r.SampleID, r.Reference)
		// The sample's identity, the same for every target and repeat.
		assert.Equal(t, results.InputHash("", "ref "+r.SampleID), r.InputHash)
	}
	require.Len(t, sum.Targets, 2)
	assert.Equal(t, 30, sum.Targets[0].Records)
	assert.Equal(t, provider.Usage{InputTokens: 3000, OutputTokens: 1500}, sum.Targets[0].Usage)
	require.NotNil(t, sum.Targets[0].CostUSD)
	assert.InDelta(t, 30*(100*1+50*2)/1e6, *sum.Targets[0].CostUSD, 1e-12)
	assert.Nil(t, sum.Targets[1].CostUSD, "an unpriced target's cost is unknown, not 0")
	assert.InDelta(t, 20.0, sum.Targets[0].LatencyP95MS, 1e-9)
}

func TestRunRetriesThrottledAndTransientOnly(t *testing.T) {
	t.Parallel()
	flaky := &fakeProvider{fn: func(n int64, req provider.Request) (provider.Response, error) {
		switch req.SampleID {
		case "s001": // throttled twice, then fine
			if n <= 2 {
				return provider.Response{}, &provider.Error{Kind: provider.KindThrottled, Provider: "fake", Err: errors.New("slow down")}
			}
		case "s002": // rejected: not retried
			return provider.Response{}, provider.Errorf(provider.KindInvalidRequest, "fake", "bad input")
		}
		return provider.Response{Text: "ok"}, nil
	}}
	e := New([]Target{target("a", flaky)}, nil, Options{Concurrency: 1, Retries: 4})
	e.caller.opts.sleep = noSleep
	w := &memWriter{}
	sum, err := e.Run(context.Background(), &sliceSamples{n: 2}, w)
	require.NoError(t, err)
	require.Len(t, w.recs, 2)
	byID := map[string]results.Record{}
	for _, r := range w.recs {
		byID[r.SampleID] = r
	}
	assert.Equal(t, "ok", byID["s001"].Output)
	assert.Equal(t, 3, byID["s001"].Attempts)
	require.NotNil(t, byID["s002"].Error)
	assert.Equal(t, "invalid_request", byID["s002"].Error.Kind)
	assert.Equal(t, 1, byID["s002"].Attempts)
	assert.Equal(t, 1, sum.Targets[0].Errors)
	assert.Equal(t, 2, sum.Targets[0].Retries)
	assert.EqualValues(t, 4, flaky.calls.Load())
}

func TestRunGivesUpAfterRetries(t *testing.T) {
	t.Parallel()
	down := &fakeProvider{fn: func(int64, provider.Request) (provider.Response, error) {
		return provider.Response{}, &provider.Error{Kind: provider.KindTransient, Provider: "fake", Err: errors.New("503")}
	}}
	e := New([]Target{target("a", down)}, nil, Options{Concurrency: 2, Retries: 2})
	e.caller.opts.sleep = noSleep
	w := &memWriter{}
	_, err := e.Run(context.Background(), &sliceSamples{n: 3}, w)
	require.NoError(t, err)
	assert.EqualValues(t, 9, down.calls.Load())
	for _, r := range w.recs {
		require.NotNil(t, r.Error)
		assert.Equal(t, "transient", r.Error.Kind)
	}
}

func TestRunHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	p := &fakeProvider{fn: func(n int64, _ provider.Request) (provider.Response, error) {
		if n == 1 {
			return provider.Response{}, &provider.Error{Kind: provider.KindThrottled, Provider: "fake", RetryAfter: 7 * time.Second, Err: errors.New("429")}
		}
		return provider.Response{Text: "ok"}, nil
	}}
	e := New([]Target{target("a", p)}, nil, Options{Concurrency: 1, Retries: 1, BackoffBase: time.Millisecond, BackoffMax: time.Millisecond})
	var slept []time.Duration
	e.caller.opts.sleep = func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil }
	_, err := e.Run(context.Background(), &sliceSamples{n: 1}, &memWriter{})
	require.NoError(t, err)
	assert.Equal(t, []time.Duration{7 * time.Second}, slept)
}

// optionsClock is the faults tests' fakeClock as an Options.Clock.
type optionsClock struct{ *fakeClock }

func (c optionsClock) Now() time.Time                                   { return c.now() }
func (c optionsClock) Sleep(ctx context.Context, d time.Duration) error { return c.sleep(ctx, d) }

// TestCallerWaitsOnTheOptionsClock: a caller built outside this package (an
// optimize generator's) measures run.retry_throttled_for and waits on
// Options.Clock, not on the wall clock.
func TestCallerWaitsOnTheOptionsClock(t *testing.T) {
	t.Parallel()
	p := &fakeProvider{fn: func(int64, provider.Request) (provider.Response, error) {
		return provider.Response{}, &provider.Error{Kind: provider.KindThrottled, Provider: "fake", RetryAfter: 30 * time.Second, Err: errors.New("429")}
	}}
	clk := newFakeClock()
	c := NewCaller(Options{RetryThrottledFor: time.Minute, BackoffBase: time.Nanosecond, BackoffMax: time.Nanosecond, Clock: optionsClock{clk}})
	_, err := c.Completer(target("a", p), 1).Complete(t.Context(), provider.Request{})
	require.ErrorContains(t, err, "still throttled after 1m0s of retries (run.retry_throttled_for)")
	assert.Equal(t, provider.KindThrottled, provider.KindOf(err))
	assert.Equal(t, []time.Duration{30 * time.Second, 30 * time.Second}, clk.sleeps(), "calls at 0, 30 s and 60 s")
	assert.Equal(t, int64(3), p.calls.Load())
}

func TestRunStopsAtOnceOnAuthFailure(t *testing.T) {
	t.Parallel()
	denied := &fakeProvider{fn: func(int64, provider.Request) (provider.Response, error) {
		return provider.Response{}, provider.Errorf(provider.KindAuth, "fake", "AccessDeniedException: not authorized to invoke model")
	}}
	e := New([]Target{target("a", denied)}, nil, Options{Concurrency: 2})
	w := &memWriter{}
	sum, err := e.Run(context.Background(), &sliceSamples{n: 500}, w)
	require.ErrorIs(t, err, ErrAuth)
	assert.Less(t, denied.calls.Load(), int64(10), "the run must stop instead of failing every call")
	assert.Equal(t, results.StatusIncomplete, sum.Status)
	assert.Contains(t, sum.Reason, "authentication failed")
	assert.Equal(t, 500, sum.Targets[0].Records+sum.Targets[0].Skipped, "every planned call is either recorded or counted as skipped")
}

func TestRunBudgetStopsNewCalls(t *testing.T) {
	t.Parallel()
	p := echoes()
	ta := target("a", p)
	ta.Price = &pricing.Price{InputPerMTok: 10000} // 100 input tokens = $1 a call
	e := New([]Target{ta}, nil, Options{Concurrency: 1, BudgetUSD: 3})
	w := &memWriter{}
	sum, err := e.Run(context.Background(), &sliceSamples{n: 20}, w)
	require.NoError(t, err)
	assert.Len(t, w.recs, 3)
	assert.Equal(t, results.StatusIncomplete, sum.Status)
	assert.Equal(t, ReasonBudget, sum.Reason)
	assert.Equal(t, 17, sum.Targets[0].Skipped)
}

func TestRunCancelKeepsFinishedRecords(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	p := &fakeProvider{fn: func(n int64, req provider.Request) (provider.Response, error) {
		if n == 5 {
			cancel()
		}
		return provider.Response{Text: "ok"}, nil
	}}
	e := New([]Target{target("a", p)}, nil, Options{Concurrency: 1})
	w := &memWriter{}
	sum, err := e.Run(ctx, &sliceSamples{n: 100}, w)
	require.NoError(t, err)
	assert.Equal(t, results.StatusIncomplete, sum.Status)
	assert.Equal(t, ReasonCancelled, sum.Reason)
	assert.GreaterOrEqual(t, len(w.recs), 4)
	assert.Equal(t, 100, sum.Targets[0].Records+sum.Targets[0].Skipped)
}

func TestRunDeadline(t *testing.T) {
	t.Parallel()
	slow := &fakeProvider{fn: func(int64, provider.Request) (provider.Response, error) {
		time.Sleep(5 * time.Millisecond)
		return provider.Response{Text: "ok"}, nil
	}}
	e := New([]Target{target("a", slow)}, nil, Options{Concurrency: 1, Deadline: 30 * time.Millisecond})
	sum, err := e.Run(context.Background(), &sliceSamples{n: 1000}, &memWriter{})
	require.NoError(t, err)
	assert.Equal(t, results.StatusIncomplete, sum.Status)
	assert.Equal(t, ReasonDeadline, sum.Reason)
	assert.Greater(t, sum.Targets[0].Skipped, 0)
}

func TestRunPerCallTimeoutIsTransient(t *testing.T) {
	t.Parallel()
	hangs := &fakeProvider{fn: nil}
	hangs.fn = func(int64, provider.Request) (provider.Response, error) { return provider.Response{}, nil }
	blocking := providerFunc(func(ctx context.Context, _ provider.Request) (provider.Response, error) {
		<-ctx.Done()
		return provider.Response{}, ctx.Err()
	})
	e := New([]Target{target("a", blocking)}, nil, Options{Concurrency: 1, Timeout: 10 * time.Millisecond, Retries: 1})
	e.caller.opts.sleep = noSleep
	w := &memWriter{}
	_, err := e.Run(context.Background(), &sliceSamples{n: 1}, w)
	require.NoError(t, err)
	require.Len(t, w.recs, 1)
	require.NotNil(t, w.recs[0].Error)
	assert.Equal(t, "transient", w.recs[0].Error.Kind)
	assert.Contains(t, w.recs[0].Error.Message, "no response within 10ms")
	assert.Equal(t, 2, w.recs[0].Attempts)
}

type providerFunc func(ctx context.Context, req provider.Request) (provider.Response, error)

func (f providerFunc) Complete(ctx context.Context, req provider.Request) (provider.Response, error) {
	return f(ctx, req)
}

func TestRunCacheServesSecondRun(t *testing.T) {
	t.Parallel()
	cache, err := OpenCache(filepath.Join(t.TempDir(), "cache"))
	require.NoError(t, err)
	p := echoes()
	ta := target("a", p)
	ta.Price = &pricing.Price{InputPerMTok: 1}
	for run := 0; run < 2; run++ {
		e := New([]Target{ta}, nil, Options{Concurrency: 3, Repeats: 2, Cache: cache})
		w := &memWriter{}
		sum, err := e.Run(context.Background(), &sliceSamples{n: 5}, w)
		require.NoError(t, err)
		require.Len(t, w.recs, 10)
		if run == 1 {
			assert.Equal(t, 10, sum.Targets[0].Cached)
			for _, r := range w.recs {
				assert.True(t, r.Cached)
				assert.Equal(t, "answer: q "+r.SampleID, r.Output)
			}
		}
	}
	assert.EqualValues(t, 10, p.calls.Load(), "repeats are distinct calls; the second run is served from the cache")
}

func TestRunDoesNotCacheErrorsOrEmptyAnswers(t *testing.T) {
	t.Parallel()
	cache, err := OpenCache(t.TempDir())
	require.NoError(t, err)
	p := &fakeProvider{fn: func(n int64, req provider.Request) (provider.Response, error) {
		if req.SampleID == "s001" {
			return provider.Response{}, provider.Errorf(provider.KindInvalidRequest, "fake", "no")
		}
		return provider.Response{Text: ""}, nil
	}}
	for i := 0; i < 2; i++ {
		_, err := New([]Target{target("a", p)}, nil, Options{Cache: cache}).Run(context.Background(), &sliceSamples{n: 2}, &memWriter{})
		require.NoError(t, err)
	}
	assert.EqualValues(t, 4, p.calls.Load())
}

func TestRunTemplateErrorIsRecordedPerSample(t *testing.T) {
	t.Parallel()
	samples := &fieldlessSamples{}
	e := New([]Target{target("a", echoes())}, nil, Options{})
	w := &memWriter{}
	_, err := e.Run(context.Background(), samples, w)
	require.NoError(t, err)
	require.Len(t, w.recs, 1)
	require.NotNil(t, w.recs[0].Error)
	assert.Equal(t, KindTemplate, w.recs[0].Error.Kind)
	assert.Contains(t, w.recs[0].Error.Message, `dataset line 7: prompt "answer": field "question" is missing`)
}

type fieldlessSamples struct{ done bool }

func (f *fieldlessSamples) Next() (suite.Sample, error) {
	if f.done {
		return suite.Sample{}, io.EOF
	}
	f.done = true
	return suite.Sample{ID: "x", Line: 7, Fields: map[string]string{}}, nil
}

func TestRunDatasetErrorKeepsRecords(t *testing.T) {
	t.Parallel()
	w := &memWriter{}
	sum, err := New([]Target{target("a", echoes())}, nil, Options{Concurrency: 2}).
		Run(context.Background(), &sliceSamples{n: 4, err: errors.New("line 5: not a JSON object")}, w)
	require.ErrorIs(t, err, ErrDataset)
	assert.Len(t, w.recs, 4)
	assert.Equal(t, results.StatusIncomplete, sum.Status)
}

func TestRunWriterFailureStops(t *testing.T) {
	t.Parallel()
	w := &memWriter{fail: errors.New("disk full")}
	_, err := New([]Target{target("a", echoes())}, nil, Options{}).Run(context.Background(), &sliceSamples{n: 50}, w)
	require.ErrorContains(t, err, "disk full")
}

func TestRunScoreErrorsAreNotZeros(t *testing.T) {
	t.Parallel()
	samples := &noRefSamples{}
	w := &memWriter{}
	_, err := New([]Target{target("a", echoes())}, []metric.Metric{lengthMetric{}}, Options{}).Run(context.Background(), samples, w)
	require.NoError(t, err)
	require.Len(t, w.recs, 1)
	assert.NotContains(t, w.recs[0].Scores, "len")
	assert.Equal(t, "no reference", w.recs[0].ScoreErrors["len"])
}

type noRefSamples struct {
	done bool
	ref  string
}

func (f *noRefSamples) Next() (suite.Sample, error) {
	if f.done {
		return suite.Sample{}, io.EOF
	}
	f.done = true
	return suite.Sample{ID: "x", Reference: f.ref, Fields: map[string]string{"question": "q"}}, nil
}

// A reference of delimiters alone is no reference (issue 13, item 10): the
// metric is not scored against the text "<OR>".
func TestReferenceOfDelimitersAloneIsNoReference(t *testing.T) {
	t.Parallel()
	for _, ref := range []string{"<OR>", "<OR><OR>"} {
		w := &memWriter{}
		_, err := New([]Target{target("a", echoes())}, []metric.Metric{lengthMetric{}}, Options{}).Run(context.Background(), &noRefSamples{ref: ref}, w)
		require.NoError(t, err)
		require.Len(t, w.recs, 1)
		assert.Equal(t, "no reference", w.recs[0].ScoreErrors["len"], ref)
	}
	// One real alternative is a reference.
	w := &memWriter{}
	_, err := New([]Target{target("a", echoes())}, []metric.Metric{lengthMetric{}}, Options{}).Run(context.Background(), &noRefSamples{ref: "<OR>Paris"}, w)
	require.NoError(t, err)
	assert.Contains(t, w.recs[0].Scores, "len")
}

func TestQuantile(t *testing.T) {
	t.Parallel()
	// numpy.percentile([1, 2, 3, 4], [50, 95]) -> [2.5, 3.85]
	xs := []float64{1, 2, 3, 4}
	assert.InDelta(t, 2.5, Quantile(xs, 0.5), 1e-12)
	assert.InDelta(t, 3.85, Quantile(xs, 0.95), 1e-12)
	assert.Equal(t, 0.0, Quantile(nil, 0.5))
}

func TestKeyIgnoresSampleFieldsButNotPrompt(t *testing.T) {
	t.Parallel()
	r := provider.Request{Model: "m", Messages: []provider.Message{{Role: provider.RoleUser, Content: "q"}}}
	k := Key("bedrock", "", r)
	r2 := r
	r2.Fields = map[string]string{"x": "y"}
	r2.SampleID = "other"
	assert.Equal(t, k, Key("bedrock", "", r2))
	r3 := r
	r3.Repeat = 1
	assert.NotEqual(t, k, Key("bedrock", "", r3))
	assert.NotEqual(t, k, Key("openai", "", r))
	temp := 0.5
	r4 := r
	r4.Params.Temperature = &temp
	assert.NotEqual(t, k, Key("bedrock", "", r4))
}

func TestCompleterSharesCacheAndBudgetWithTheRun(t *testing.T) {
	t.Parallel()
	cache, err := OpenCache(t.TempDir())
	require.NoError(t, err)
	caller := NewCaller(Options{Concurrency: 1, Cache: cache, BudgetUSD: 2.5})
	judge := target("judge", echoes())
	judge.Price = &pricing.Price{InputPerMTok: 10000} // $1 a call
	jc := caller.Completer(judge, 1)
	req := provider.Request{Model: "j", Messages: []provider.Message{{Role: provider.RoleUser, Content: "grade this"}}}
	for i := 0; i < 2; i++ {
		resp, err := jc.Complete(context.Background(), req)
		require.NoError(t, err)
		assert.Equal(t, "answer: grade this", resp.Text)
	}
	assert.EqualValues(t, 1, judge.Provider.(*fakeProvider).calls.Load(), "the second judge call is served from the cache")
	assert.InDelta(t, 1.0, caller.Spent(), 1e-9)
	require.NotNil(t, jc.CostOf(provider.Usage{InputTokens: 100}))

	// The run's target calls spend the rest of the budget the judge started.
	ta := target("a", echoes())
	ta.Price = &pricing.Price{InputPerMTok: 10000}
	w := &memWriter{}
	sum, err := New([]Target{ta}, nil, Options{Caller: caller}).Run(context.Background(), &sliceSamples{n: 5}, w)
	require.NoError(t, err)
	assert.Len(t, w.recs, 2, "$1 of judge + 2 x $1 of target calls reach the $2.50 budget")
	assert.Equal(t, ReasonBudget, sum.Reason)
}

// paidMetric stands in for a judge: every score costs tokens and money.
type paidMetric struct{ priced bool }

func (paidMetric) Info() metric.Info {
	return metric.Info{Name: "judged", Min: 0, Max: 1, Direction: metric.HigherIsBetter}
}
func (p paidMetric) Score(context.Context, metric.Input) (metric.Score, error) {
	sc := metric.Score{Value: 1, Usage: provider.Usage{InputTokens: 10, OutputTokens: 2}}
	if p.priced {
		c := 0.5
		sc.CostUSD = &c
	}
	return sc, nil
}

func TestJudgeCostIsKeptApartFromTheTargets(t *testing.T) {
	t.Parallel()
	for _, priced := range []bool{true, false} {
		ta := target("a", echoes())
		ta.Price = &pricing.Price{InputPerMTok: 1}
		w := &memWriter{}
		sum, err := New([]Target{ta}, []metric.Metric{paidMetric{priced}}, Options{}).Run(context.Background(), &sliceSamples{n: 4}, w)
		require.NoError(t, err)
		ts := sum.Targets[0]
		assert.Equal(t, provider.Usage{InputTokens: 40, OutputTokens: 8}, ts.JudgeUsage)
		assert.InDelta(t, 4*100/1e6, *ts.CostUSD, 1e-12, "the target's cost excludes judging")
		if priced {
			require.NotNil(t, ts.JudgeCostUSD)
			assert.InDelta(t, 2.0, *ts.JudgeCostUSD, 1e-12)
			assert.InDelta(t, 0.5, *w.recs[0].JudgeCostUSD, 1e-12)
		} else {
			assert.Nil(t, ts.JudgeCostUSD, "an unpriced judge's cost is unknown, not 0")
			assert.Nil(t, w.recs[0].JudgeCostUSD)
		}
	}
}

func TestRunCountsAnswersCutAtMaxTokens(t *testing.T) {
	t.Parallel()
	p := &fakeProvider{fn: func(n int64, _ provider.Request) (provider.Response, error) {
		stop := "end_turn"
		if n%2 == 0 {
			stop = provider.StopMaxTokens
		}
		return provider.Response{Text: "ok", StopReason: stop}, nil
	}}
	sum, err := New([]Target{target("a", p)}, nil, Options{Concurrency: 1}).Run(context.Background(), &sliceSamples{n: 6}, &memWriter{})
	require.NoError(t, err)
	assert.Equal(t, 3, sum.Targets[0].MaxTokensStops)
}

// countingEmbedder returns one fixed vector per text and counts its calls.
type countingEmbedder struct {
	calls atomic.Int64
	fail  int64 // the first fail calls are throttled
}

func (c *countingEmbedder) Embed(_ context.Context, texts []string) ([][]float64, provider.Usage, error) {
	n := c.calls.Add(1)
	if n <= c.fail {
		return nil, provider.Usage{}, &provider.Error{Kind: provider.KindThrottled, Provider: "fake", Err: errors.New("slow down")}
	}
	out := make([][]float64, len(texts))
	for i, t := range texts {
		out[i] = []float64{float64(len(t)), 1}
	}
	return out, provider.Usage{InputTokens: 10 * len(texts)}, nil
}

func TestEmbeddingsGoThroughTheCaller(t *testing.T) {
	t.Parallel()
	cache, err := OpenCache(t.TempDir())
	require.NoError(t, err)
	caller := NewCaller(Options{Concurrency: 2, Cache: cache, Retries: 2})
	caller.opts.sleep = noSleep
	emb := &countingEmbedder{fail: 1}
	tgt := Target{Info: results.TargetInfo{ID: "embed", Provider: "fake", Model: "titan"}, Cacheable: true,
		Price: &pricing.Price{InputPerMTok: 1e6}} // $1 per token, to see the spend
	e := caller.Embedder(tgt, emb, 1)
	for i := 0; i < 2; i++ {
		vecs, usage, err := e.Embed(context.Background(), []string{"what is it?", "abc"})
		require.NoError(t, err)
		assert.Equal(t, [][]float64{{11, 1}, {3, 1}}, vecs)
		assert.Equal(t, 20, usage.InputTokens)
	}
	assert.EqualValues(t, 2, emb.calls.Load(), "one throttled call retried, then the cache")
	assert.InDelta(t, 20.0, caller.Spent(), 1e-9, "the embedding's cost counts toward the budget")
	require.NotNil(t, e.CostOf(provider.Usage{InputTokens: 1}))
}

// panickySamples yields n samples, then panics as a buggy reader would.
type panickySamples struct{ sliceSamples }

func (p *panickySamples) Next() (suite.Sample, error) {
	if p.i >= p.n {
		panic("reader bug")
	}
	return p.sliceSamples.Next()
}

// Issue 10 item 1: a panic in a worker (an adapter or a metric) or in the
// dataset reader stops the run like any failure: the finished records are
// written, the summary says why, and Run returns a PanicError with the
// stack instead of the process dying.
func TestRunTurnsPanicsIntoAnInternalError(t *testing.T) {
	t.Parallel()
	p := &fakeProvider{fn: func(n int64, req provider.Request) (provider.Response, error) {
		if n == 3 {
			var m map[string]int
			m["nil map"]++ // a real bug, not a panic(string) stand-in
		}
		return provider.Response{Text: "ok"}, nil
	}}
	w := &memWriter{}
	sum, err := New([]Target{target("a", p)}, nil, Options{Concurrency: 1}).Run(context.Background(), &sliceSamples{n: 10}, w)
	var pe *PanicError
	require.ErrorAs(t, err, &pe)
	assert.Contains(t, pe.Error(), "internal error: assignment to entry in nil map")
	assert.Contains(t, string(pe.PanicStack()), "engine_test.go", "the stack points at the bug")
	assert.Len(t, w.recs, 2, "the two calls that finished are kept")
	assert.Equal(t, results.StatusIncomplete, sum.Status)
	assert.Equal(t, ReasonInternal, sum.Reason)

	w = &memWriter{}
	sum, err = New([]Target{target("a", echoes())}, nil, Options{Concurrency: 2}).Run(context.Background(), &panickySamples{sliceSamples{n: 2}}, w)
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "reader bug", pe.Value)
	// Jobs handed out before the panic run or are counted as not done,
	// depending on timing; none is lost without a trace.
	assert.Equal(t, 2, len(w.recs)+sum.Targets[0].Skipped)
	assert.Equal(t, results.StatusIncomplete, sum.Status)
}
