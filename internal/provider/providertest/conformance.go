// Package providertest is the conformance suite every model adapter runs
// against a fake of its own API: the failure cases the run engine relies on
// (one attempt per call, error kinds, deadlines, cancellation, credentials
// never in an error). Each adapter keeps its own tests for what is particular
// to its API; the cases here are written once. Only tests import it.
package providertest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/provider"
)

// Completer is the adapter under test (run.Provider's method).
type Completer interface {
	Complete(ctx context.Context, req provider.Request) (provider.Response, error)
}

// Adapter tells the suite how to reach an adapter and how its API speaks.
type Adapter struct {
	// New returns the adapter under test, talking to srv (whose URL the
	// adapter gets with its own path prefix).
	New func(t *testing.T, srv *httptest.Server) Completer
	// Request is a request the adapter accepts.
	Request provider.Request
	// Answer writes the API's successful reply; Text is the reply's text.
	Answer func(w http.ResponseWriter)
	Text   string
	// Fail writes the API's error reply for a status (its own error body).
	Fail func(w http.ResponseWriter, status int)
	// Truncate writes a reply cut short of its Content-Length.
	Truncate func(w http.ResponseWriter)
	// Secret is the credential the adapter was given: no error may show it.
	Secret string
}

// server counts the calls it gets and answers each with respond (by call
// number, 0-based).
type server struct {
	mu      sync.Mutex
	n       int
	respond func(w http.ResponseWriter, r *http.Request, n int)
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Reading the whole body lets net/http notice a client that goes away
	// (r.Context is done then), which a server that hangs waits for.
	_, _ = io.Copy(io.Discard, r.Body)
	s.mu.Lock()
	n := s.n
	s.n++
	s.mu.Unlock()
	s.respond(w, r, n)
}

func (s *server) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

func (a Adapter) start(t *testing.T, respond func(w http.ResponseWriter, r *http.Request, n int)) (Completer, *server) {
	t.Helper()
	s := &server{respond: respond}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return a.New(t, srv), s
}

// Run runs the conformance cases against the adapter.
func Run(t *testing.T, a Adapter) {
	t.Run("throttling burst is not retried by the SDK", func(t *testing.T) {
		t.Parallel()
		c, s := a.start(t, func(w http.ResponseWriter, _ *http.Request, n int) {
			if n < 3 {
				a.Fail(w, http.StatusTooManyRequests)
				return
			}
			a.Answer(w)
		})
		// The caller (the run engine) owns retries: each Complete is one attempt.
		var kinds []provider.ErrorKind
		var resp provider.Response
		for range 5 {
			r, err := c.Complete(t.Context(), a.Request)
			if err == nil {
				resp = r
				break
			}
			kinds = append(kinds, provider.KindOf(err))
		}
		assert.Equal(t, []provider.ErrorKind{provider.KindThrottled, provider.KindThrottled, provider.KindThrottled}, kinds)
		assert.Equal(t, a.Text, resp.Text)
		assert.Equal(t, 4, s.count())
	})

	t.Run("slow response hits the deadline", func(t *testing.T) {
		t.Parallel()
		c, _ := a.start(t, hangs)
		// The server never answers, so the deadline is always what ends the
		// call, however slow the machine.
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		_, err := c.Complete(ctx, a.Request)
		require.Error(t, err)
		assert.Equal(t, provider.KindTransient, provider.KindOf(err), "%v", err)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	})

	t.Run("a cancelled run is not retryable", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(t.Context())
		// Cancelled once the request has arrived: no timing involved.
		c, _ := a.start(t, func(w http.ResponseWriter, r *http.Request, n int) {
			cancel()
			hangs(w, r, n)
		})
		_, err := c.Complete(ctx, a.Request)
		require.Error(t, err)
		assert.False(t, provider.KindOf(err).Retryable(), "%v", err)
		assert.ErrorIs(t, err, context.Canceled)
	})

	failures := []struct {
		name    string
		respond func(w http.ResponseWriter)
		want    provider.ErrorKind
	}{
		{"throttled", func(w http.ResponseWriter) { a.Fail(w, http.StatusTooManyRequests) }, provider.KindThrottled},
		{"server error", func(w http.ResponseWriter) { a.Fail(w, http.StatusInternalServerError) }, provider.KindTransient},
		{"bad gateway", func(w http.ResponseWriter) { a.Fail(w, http.StatusBadGateway) }, provider.KindTransient},
		{"service unavailable", func(w http.ResponseWriter) { a.Fail(w, http.StatusServiceUnavailable) }, provider.KindTransient},
		{"unknown status", func(w http.ResponseWriter) { a.Fail(w, http.StatusTeapot) }, provider.KindOther},
		{"truncated body", a.Truncate, provider.KindTransient},
	}
	for _, tc := range failures {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, s := a.start(t, func(w http.ResponseWriter, _ *http.Request, _ int) { tc.respond(w) })
			_, err := c.Complete(t.Context(), a.Request)
			require.Error(t, err)
			assert.Equal(t, tc.want, provider.KindOf(err), "%v", err)
			assert.NotContains(t, err.Error(), a.Secret)
			assert.Equal(t, 1, s.count(), "the SDK must not retry: the run engine does")
		})
	}
}

// hangs answers only when the client has gone away.
func hangs(_ http.ResponseWriter, r *http.Request, _ int) { <-r.Context().Done() }
