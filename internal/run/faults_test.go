package run

// Regression tests for the faults of issue 10 that concern model calls and
// the engine, each against a mock server through the real adapter: the
// OpenAI-compatible client, the AWS SDK's Bedrock client, or a real program
// for the command provider.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/metric"
	"github.com/evalgate/evalgate/internal/provider"
	"github.com/evalgate/evalgate/internal/provider/bedrock"
	"github.com/evalgate/evalgate/internal/provider/bedrock/bedrockfake"
	"github.com/evalgate/evalgate/internal/provider/command"
	"github.com/evalgate/evalgate/internal/provider/openai"
	"github.com/evalgate/evalgate/internal/results"
	"github.com/evalgate/evalgate/internal/secret"
)

// apiPrefix is the fake servers' path prefix: a client that builds its own
// URL misses it.
const apiPrefix = "/prefix/v1/"

// fakeClock is the caller's clock in tests: sleeping advances it at once.
type fakeClock struct {
	mu    sync.Mutex
	t     time.Time
	slept []time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Now()} }

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	c.slept = append(c.slept, d)
	return ctx.Err()
}

func (c *fakeClock) sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.slept...)
}

// withClock makes e's caller sleep on c.
func withClock(e *Engine, c *fakeClock) *Engine {
	e.caller.opts.sleep, e.caller.opts.now = c.sleep, c.now
	return e
}

// openAIServer answers chat completions with respond(call number, w); it
// counts calls and keeps the Authorization headers it saw.
type openAIServer struct {
	*httptest.Server
	calls   atomic.Int64
	auth    atomic.Value // the last Authorization header
	respond func(n int64, w http.ResponseWriter)
}

func newOpenAIServer(t *testing.T, respond func(n int64, w http.ResponseWriter)) *openAIServer {
	s := &openAIServer{respond: respond}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != apiPrefix+"chat/completions" {
			http.Error(w, "no route "+r.URL.Path, http.StatusNotFound)
			return
		}
		_, _ = io.Copy(io.Discard, r.Body)
		s.auth.Store(r.Header.Get("Authorization"))
		s.respond(s.calls.Add(1), w)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *openAIServer) baseURL() string { return s.URL + apiPrefix }

// answers writes a chat completion whose first choice says text.
func answers(w http.ResponseWriter, text string) {
	w.Header().Set("Content-Type", "application/json")
	b, _ := json.Marshal(map[string]any{
		"choices": []any{map[string]any{"message": map[string]any{"role": "assistant", "content": text}, "finish_reason": "stop"}},
		"usage":   map[string]any{"prompt_tokens": 10, "completion_tokens": 3},
	})
	_, _ = w.Write(b)
}

func openAITarget(t *testing.T, baseURL string, getenv func(string) string) Target {
	t.Helper()
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	c, err := openai.New(openai.Options{BaseURL: baseURL, Getenv: getenv, APIKeyEnv: "EVALGATE_TEST_KEY"})
	if err != nil {
		// Without a key in getenv, a key-less local server.
		c, err = openai.New(openai.Options{BaseURL: baseURL, Getenv: getenv})
	}
	require.NoError(t, err)
	return Target{Info: results.TargetInfo{ID: "oa", Provider: openai.Name, Model: "m"}, Provider: c, Render: render, Cacheable: true}
}

func bedrockTarget(t *testing.T, endpoint string) Target {
	t.Helper()
	dir := t.TempDir()
	c, err := bedrock.New(context.Background(), bedrock.Options{
		Region:      "us-east-1",
		Endpoint:    endpoint,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEVALGATETEST", "evalgate-test-secret", ""),
		ConfigOptions: []func(*config.LoadOptions) error{
			config.WithSharedConfigFiles([]string{filepath.Join(dir, "config")}),
			config.WithSharedCredentialsFiles([]string{filepath.Join(dir, "credentials")}),
		},
	})
	require.NoError(t, err)
	return Target{Info: results.TargetInfo{ID: "br", Provider: bedrock.Name, Model: "us.amazon.nova-lite-v1:0"}, Provider: c, Render: render, Cacheable: true}
}

func commandTarget(t *testing.T, body string) Target {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "model.sh")
	require.NoError(t, os.WriteFile(p, []byte("#!/bin/sh\ncat >/dev/null\n"+body+"\n"), 0o755))
	c, err := command.New([]string{p}, dir, nil)
	require.NoError(t, err)
	return Target{Info: results.TargetInfo{ID: "cmd", Provider: command.Name, Model: "app"}, Provider: c, Render: render, Cacheable: true, Timeout: 10 * time.Second}
}

// Issue 10, item 3: a 200 without an answer is a record error of kind
// "empty", counted as an error and never scored as text, unless the target
// allows empty answers.
func TestEmptyAnswersAreRecordErrorsUnlessAllowed(t *testing.T) {
	t.Parallel()
	noChoices := newOpenAIServer(t, func(_ int64, w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":0}}`))
	})
	emptyContent := newOpenAIServer(t, func(_ int64, w http.ResponseWriter) { answers(w, "  \n") })
	emptyConverse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		bedrockfake.WriteConverse(w, bedrockfake.Reply{Text: "", InputTokens: 10})
	}))
	t.Cleanup(emptyConverse.Close)
	filtered := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		bedrockfake.WriteConverse(w, bedrockfake.Reply{Text: "", StopReason: "guardrail_intervened"})
	}))
	t.Cleanup(filtered.Close)

	cases := []struct {
		name     string
		target   func(t *testing.T) Target
		wantKind string
	}{
		{"openai 200 with no choices", func(t *testing.T) Target { return openAITarget(t, noChoices.baseURL(), nil) }, "empty"},
		{"openai 200 with a blank message", func(t *testing.T) Target { return openAITarget(t, emptyContent.baseURL(), nil) }, "empty"},
		{"bedrock empty Converse message", func(t *testing.T) Target { return bedrockTarget(t, emptyConverse.URL+"/vpce") }, "empty"},
		{"bedrock guardrail withholds the answer", func(t *testing.T) Target { return bedrockTarget(t, filtered.URL+"/vpce") }, "content_filtered"},
		{"command prints no text", func(t *testing.T) Target { return commandTarget(t, `echo '{"text": ""}'`) }, "empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := &memWriter{}
			sum, err := New([]Target{tc.target(t)}, []metric.Metric{lengthMetric{}}, Options{Concurrency: 2}).Run(context.Background(), &sliceSamples{n: 3}, w)
			require.NoError(t, err)
			require.Len(t, w.recs, 3)
			for _, r := range w.recs {
				require.NotNil(t, r.Error, "an empty answer must not pass as a scored record")
				assert.Equal(t, tc.wantKind, r.Error.Kind)
				assert.False(t, r.Error.Infrastructure(), "an empty answer is the model's failure")
				assert.Empty(t, r.Scores, "never scored as text")
			}
			assert.Equal(t, 3, sum.Targets[0].Errors)
			assert.Zero(t, sum.Targets[0].InfraErrors)
			assert.Equal(t, results.StatusComplete, sum.Status, "the run evaluated everything: the model answered nothing")

			allowed := tc.target(t)
			allowed.AllowEmpty = true
			w = &memWriter{}
			sum, err = New([]Target{allowed}, []metric.Metric{lengthMetric{}}, Options{Concurrency: 2}).Run(context.Background(), &sliceSamples{n: 3}, w)
			require.NoError(t, err)
			for _, r := range w.recs {
				require.Nil(t, r.Error)
				assert.Empty(t, strings.TrimSpace(r.Output))
				assert.Equal(t, float64(len(r.Output)), r.Scores["len"], "an allowed empty answer is scored as the text it is")
			}
			assert.Zero(t, sum.Targets[0].Errors)
		})
	}
}

// Issue 10, item 4: a server that goes away mid-run is the service's
// failure: the records say so, the run is incomplete (and stops once the
// service has failed ten calls in a row) instead of reading as the model's
// error rate.
func TestServiceOutageIsNotTheModelsError(t *testing.T) {
	t.Parallel()
	var down atomic.Bool
	srv := newOpenAIServer(t, func(n int64, w http.ResponseWriter) {
		if n == 5 {
			down.Store(true)
		}
		if down.Load() {
			// A dead backend behind a load balancer; the connection-refused
			// case follows below.
			http.Error(w, "upstream connect error", http.StatusBadGateway)
			return
		}
		answers(w, "fine")
	})
	e := withClock(New([]Target{openAITarget(t, srv.baseURL(), nil)}, nil, Options{Concurrency: 1, Retries: 2}), newFakeClock())
	w := &memWriter{}
	sum, err := e.Run(context.Background(), &sliceSamples{n: 100}, w)
	require.ErrorIs(t, err, ErrInfrastructure)
	ts := sum.Targets[0]
	assert.Equal(t, 4, ts.Records-ts.Errors, "the answers before the outage are kept")
	// The run stops once ten calls in a row failed for the service; the one
	// or two calls already finished behind the tenth are kept.
	assert.GreaterOrEqual(t, ts.InfraErrors, infraStreakLimit)
	assert.LessOrEqual(t, ts.InfraErrors, infraStreakLimit+2, "the run stops instead of trying every remaining sample")
	assert.Equal(t, ts.Errors, ts.InfraErrors)
	assert.Equal(t, 100, ts.Records+ts.Skipped)
	assert.Equal(t, results.StatusIncomplete, sum.Status)
	assert.Contains(t, sum.Reason, "failed 10 calls in a row")
	assert.Contains(t, sum.Reason, "502")
	// Each failed call was tried 1 + run.retries times; a call cancelled when
	// the run stopped may have made some attempts too.
	recorded := int64(4 + ts.InfraErrors*3)
	assert.GreaterOrEqual(t, srv.calls.Load(), recorded)
	assert.LessOrEqual(t, srv.calls.Load(), recorded+3)
	for _, r := range w.recs {
		if r.Error != nil {
			assert.Equal(t, "transient", r.Error.Kind)
			assert.True(t, r.Error.Infrastructure())
		}
	}

	// Connection refused: the server is gone altogether.
	gone := httptest.NewServer(http.NotFoundHandler())
	url := gone.URL + apiPrefix
	gone.Close()
	e = withClock(New([]Target{openAITarget(t, url, nil)}, nil, Options{Concurrency: 2, Retries: 1}), newFakeClock())
	w = &memWriter{}
	sum, err = e.Run(context.Background(), &sliceSamples{n: 3}, w)
	require.NoError(t, err, "three failures are fewer than the streak that stops a run")
	require.Len(t, w.recs, 3)
	for _, r := range w.recs {
		require.NotNil(t, r.Error)
		assert.True(t, r.Error.Infrastructure(), "connection refused: %s", r.Error.Message)
		assert.Contains(t, r.Error.Message, "connection refused")
	}
	assert.Equal(t, 3, sum.Targets[0].InfraErrors)
	assert.Equal(t, results.StatusIncomplete, sum.Status, "calls the service failed were not evaluated")
	assert.Contains(t, sum.Reason, "3 of 3 calls could not be evaluated")
}

// A healthy answer between failures resets the streak: a flaky service makes
// the run incomplete but does not stop it.
func TestFlakyServiceDoesNotStopTheRun(t *testing.T) {
	t.Parallel()
	srv := newOpenAIServer(t, func(n int64, w http.ResponseWriter) {
		// Every third call succeeds; with no retries the others are errors.
		if n%3 == 0 {
			answers(w, "ok")
			return
		}
		http.Error(w, "busy", http.StatusServiceUnavailable)
	})
	e := withClock(New([]Target{openAITarget(t, srv.baseURL(), nil)}, nil, Options{Concurrency: 1, Retries: 0}), newFakeClock())
	sum, err := e.Run(context.Background(), &sliceSamples{n: 30}, &memWriter{})
	require.NoError(t, err)
	assert.Equal(t, 30, sum.Targets[0].Records)
	assert.Equal(t, 20, sum.Targets[0].InfraErrors)
	assert.Equal(t, results.StatusIncomplete, sum.Status)
}

// recordingProgress keeps what it is told.
type recordingProgress struct {
	mu    sync.Mutex
	waits []Wait
}

func (p *recordingProgress) Update(Stats) {}
func (p *recordingProgress) Done(Stats)   {}
func (p *recordingProgress) Waiting(w Wait) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.waits = append(p.waits, w)
}

// Issue 10, item 5: a Retry-After of an hour waits at most
// run.max_retry_wait, never past the deadline, and the progress display is
// told why the run waits.
func TestLongRetryAfterIsCappedAndShown(t *testing.T) {
	t.Parallel()
	srv := newOpenAIServer(t, func(n int64, w http.ResponseWriter) {
		if n == 1 {
			w.Header().Set("Retry-After", "3600")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`{"error":{"message":"Rate limit reached","code":"rate_limit_exceeded"}}`))
			return
		}
		answers(w, "ok")
	})
	prog := &recordingProgress{}
	clk := newFakeClock()
	e := withClock(New([]Target{openAITarget(t, srv.baseURL(), nil)}, nil, Options{Concurrency: 1, Progress: prog}), clk)
	w := &memWriter{}
	_, err := e.Run(context.Background(), &sliceSamples{n: 1}, w)
	require.NoError(t, err)
	require.Len(t, w.recs, 1)
	assert.Nil(t, w.recs[0].Error)
	assert.Equal(t, []time.Duration{60 * time.Second}, clk.sleeps(), "the hour asked for is capped at the default run.max_retry_wait")
	require.Len(t, prog.waits, 1)
	assert.Equal(t, Wait{Target: "oa", Kind: "throttled", Delay: time.Minute, Asked: time.Hour, Capped: true}, prog.waits[0])

	// The cap is configurable.
	srv.calls.Store(0)
	clk = newFakeClock()
	e = withClock(New([]Target{openAITarget(t, srv.baseURL(), nil)}, nil, Options{Concurrency: 1, MaxRetryWait: 5 * time.Second}), clk)
	_, err = e.Run(context.Background(), &sliceSamples{n: 1}, &memWriter{})
	require.NoError(t, err)
	assert.Equal(t, []time.Duration{5 * time.Second}, clk.sleeps())

	// A wait that would end after the run's deadline is not begun: the call
	// is the service's error at once, not a worker parked past the deadline.
	srv.calls.Store(0)
	clk = newFakeClock()
	e = withClock(New([]Target{openAITarget(t, srv.baseURL(), nil)}, nil, Options{Concurrency: 1, Deadline: 30 * time.Second}), clk)
	w = &memWriter{}
	_, err = e.Run(context.Background(), &sliceSamples{n: 1}, w)
	require.NoError(t, err)
	assert.Empty(t, clk.sleeps())
	require.Len(t, w.recs, 1)
	require.NotNil(t, w.recs[0].Error)
	assert.Equal(t, "throttled", w.recs[0].Error.Kind)
	assert.Contains(t, w.recs[0].Error.Message, "would end after the run's deadline")
}

// The progress line says why the run is waiting.
func TestPrinterSaysWhyTheRunWaits(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	p := &Printer{W: &buf}
	p.Update(Stats{Done: 3, Errors: 1, Infra: 1})
	p.Waiting(Wait{Target: "gpt", Kind: "throttled", Delay: time.Minute, Asked: time.Hour, Capped: true})
	assert.Contains(t, buf.String(), "1 errors (1 of the service)")
	assert.Contains(t, buf.String(), "waiting 1m0s to retry gpt (throttled; the service asked for 1h0m0s, capped by run.max_retry_wait)")
}

// Issue 10, item 15: throttled calls are retried for a time, not a count:
// at 30% throttling no call ends as an error, and a service that throttles
// every call still ends each one after run.retry_throttled_for.
func TestThrottlingIsRetriedForATimeNotACount(t *testing.T) {
	t.Parallel()
	srv := bedrockfake.NewServer(bedrockfake.Options{Prefix: "/vpce", ThrottleRate: 0.3, Seed: 7})
	t.Cleanup(srv.Close)
	clk := newFakeClock()
	e := withClock(New([]Target{bedrockTarget(t, srv.Endpoint())}, nil, Options{Concurrency: 4, Retries: 1}), clk)
	sum, err := e.Run(context.Background(), &sliceSamples{n: 300}, &memWriter{})
	require.NoError(t, err)
	assert.Zero(t, sum.Targets[0].Errors, "a throttled call is retried until it gets through")
	assert.EqualValues(t, 300, srv.Succeeded())
	assert.Greater(t, srv.Throttled(), int64(60), "the fake throttled about 30%% of calls")
	assert.Equal(t, int(srv.Throttled()), sum.Targets[0].Retries)

	always := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		bedrockfake.WriteError(w, http.StatusTooManyRequests, "ThrottlingException", "Too many requests")
	}))
	t.Cleanup(always.Close)
	clk = newFakeClock()
	e = withClock(New([]Target{bedrockTarget(t, always.URL+"/vpce")}, nil, Options{Concurrency: 1, Retries: 1, RetryThrottledFor: 2 * time.Minute}), clk)
	w := &memWriter{}
	_, err = e.Run(context.Background(), &sliceSamples{n: 1}, w)
	require.NoError(t, err)
	require.Len(t, w.recs, 1)
	r := w.recs[0]
	require.NotNil(t, r.Error)
	assert.Equal(t, "throttled", r.Error.Kind)
	assert.Contains(t, r.Error.Message, "still throttled after 2m0s of retries")
	assert.Greater(t, r.Attempts, 2, "retries of throttling are not bounded by run.retries")
	var waited time.Duration
	for _, d := range clk.sleeps() {
		waited += d
	}
	assert.GreaterOrEqual(t, waited, 2*time.Minute)
	assert.Less(t, waited, 2*time.Minute+30*time.Second, "gives up once the time is spent (plus at most one backoff)")
}

// Issue 10, item 9: a server that quotes the Authorization header in its
// error body does not put the key into the record, and an answer that
// echoes the key does not put it into the cache or the record.
func TestCredentialsEchoedByTheServerAreRedacted(t *testing.T) {
	t.Parallel()
	const key = "sk-evalgate-test-0123456789abcdef"
	srv := newOpenAIServer(t, func(n int64, w http.ResponseWriter) {
		if n == 1 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = fmt.Fprintf(w, `{"error":{"message":"malformed header Authorization: Bearer %s","code":"invalid_request"}}`, key)
			return
		}
		answers(w, "your key is "+key)
	})
	getenv := func(k string) string {
		if k == "EVALGATE_TEST_KEY" {
			return key
		}
		return ""
	}
	cacheDir := filepath.Join(t.TempDir(), "cache")
	cache, err := OpenCache(cacheDir)
	require.NoError(t, err)
	red := secret.FromEnv(getenv, "EVALGATE_TEST_KEY")
	e := New([]Target{openAITarget(t, srv.baseURL(), getenv)}, nil, Options{Concurrency: 1, Cache: cache, Secrets: red})
	w := &memWriter{}
	_, err = e.Run(context.Background(), &sliceSamples{n: 2}, w)
	require.NoError(t, err)
	assert.Equal(t, "Bearer "+key, srv.auth.Load(), "the key was sent, so the server could echo it")
	require.Len(t, w.recs, 2)
	var rejected, answered results.Record
	for _, r := range w.recs {
		if r.Error != nil {
			rejected = r
		} else {
			answered = r
		}
	}
	require.NotNil(t, rejected.Error)
	assert.Equal(t, "invalid_request", rejected.Error.Kind)
	assert.NotContains(t, rejected.Error.Message, key)
	assert.Contains(t, rejected.Error.Message, "Authorization: Bearer [redacted]")
	assert.Equal(t, "your key is [redacted]", answered.Output)
	b, err := json.Marshal(w.recs)
	require.NoError(t, err)
	assert.NotContains(t, string(b), key)
	require.NoError(t, filepath.WalkDir(cacheDir, func(p string, d os.DirEntry, err error) error {
		require.NoError(t, err)
		if d.IsDir() {
			return nil
		}
		c, err := os.ReadFile(p)
		require.NoError(t, err)
		assert.NotContains(t, string(c), key, "cache entry %s", p)
		return nil
	}))
}

// Issue 10, item 10: the cache key includes the endpoint: pointing a target
// at another server never serves the first server's answers.
func TestCacheKeyIncludesTheEndpoint(t *testing.T) {
	t.Parallel()
	a := newOpenAIServer(t, func(_ int64, w http.ResponseWriter) { answers(w, "from A") })
	b := newOpenAIServer(t, func(_ int64, w http.ResponseWriter) { answers(w, "from B") })
	cache, err := OpenCache(t.TempDir())
	require.NoError(t, err)
	runOn := func(base string) []results.Record {
		w := &memWriter{}
		_, err := New([]Target{openAITarget(t, base, nil)}, nil, Options{Concurrency: 2, Cache: cache}).Run(context.Background(), &sliceSamples{n: 3}, w)
		require.NoError(t, err)
		return w.recs
	}
	for _, r := range runOn(a.baseURL()) {
		assert.Equal(t, "from A", r.Output)
	}
	for _, r := range runOn(a.baseURL()) {
		assert.True(t, r.Cached, "the same server is served from the cache")
	}
	for _, r := range runOn(b.baseURL()) {
		assert.False(t, r.Cached)
		assert.Equal(t, "from B", r.Output, "another base_url is another service")
	}
	assert.EqualValues(t, 3, a.calls.Load())
	assert.EqualValues(t, 3, b.calls.Load())

	// The Bedrock region and endpoint, and a command's program, are part of
	// the key too; credentials are not.
	req := provider.Request{Model: "m", Messages: []provider.Message{{Role: provider.RoleUser, Content: "q"}}}
	assert.NotEqual(t, Key("bedrock", "us-east-1", req), Key("bedrock", "eu-west-1", req))
	k1 := endpointOf(commandTarget(t, `echo '{"text":"1"}'`).Provider)
	k2 := endpointOf(commandTarget(t, `echo '{"text":"2"}'`).Provider)
	assert.NotEqual(t, k1, k2, "two programs are two services")
	withKey := openAITarget(t, a.baseURL(), func(string) string { return "sk-some-key-0123456789" })
	assert.Equal(t, endpointOf(openAITarget(t, a.baseURL(), nil).Provider), endpointOf(withKey.Provider), "the key is not part of the endpoint")
	assert.False(t, strings.Contains(endpointOf(withKey.Provider), "sk-"))
}

// Throttled attempts do not use up the retries of transient failures.
func TestThrottlingDoesNotUseUpTransientRetries(t *testing.T) {
	t.Parallel()
	srv := newOpenAIServer(t, func(n int64, w http.ResponseWriter) {
		switch {
		case n <= 6:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`{"error":{"message":"slow down","code":"rate_limit_exceeded"}}`))
		case n <= 8:
			http.Error(w, "busy", http.StatusServiceUnavailable)
		default:
			answers(w, "ok")
		}
	})
	e := withClock(New([]Target{openAITarget(t, srv.baseURL(), nil)}, nil, Options{Concurrency: 1, Retries: 2}), newFakeClock())
	w := &memWriter{}
	_, err := e.Run(context.Background(), &sliceSamples{n: 1}, w)
	require.NoError(t, err)
	require.Len(t, w.recs, 1)
	assert.Nil(t, w.recs[0].Error)
	assert.Equal(t, 9, w.recs[0].Attempts)
}
