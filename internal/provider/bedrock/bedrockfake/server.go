package bedrockfake

import (
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"time"
)

// Options shape the behaviour of a Server.
type Options struct {
	// Prefix is a path prefix of the endpoint ("/bedrock"), so a client that
	// ignores the configured endpoint fails.
	Prefix string
	// Latency is how long every successful call takes.
	Latency time.Duration
	// ThrottleRate is the share of calls (0..1) answered at once with a 429
	// ThrottlingException, decided by a generator seeded with Seed.
	ThrottleRate float64
	// Seed makes the throttled calls the same from run to run.
	Seed uint64
	// Capacity throttles, as a loaded service does, every call that arrives
	// while Capacity calls are already in flight (0: no limit).
	Capacity int
	// Reply is the answer to every successful call; zero means a short
	// default answer.
	Reply Reply
	// Chunks is the number of text deltas of a streamed reply (default 4).
	Chunks int
}

// Server is a fake Bedrock runtime on 127.0.0.1. Its counters are safe to read
// while calls are in flight.
type Server struct {
	*httptest.Server
	opts Options

	mu  sync.Mutex
	rng *rand.Rand

	calls     atomic.Int64
	inFlight  atomic.Int64
	throttled atomic.Int64
	succeeded atomic.Int64
}

// NewServer starts a fake Bedrock runtime; Close it when done.
func NewServer(opts Options) *Server {
	if opts.Reply == (Reply{}) {
		opts.Reply = Reply{Text: "The refund takes five business days.", InputTokens: 120, OutputTokens: 9, LatencyMs: opts.Latency.Milliseconds()}
	}
	if opts.Chunks == 0 {
		opts.Chunks = 4
	}
	s := &Server{opts: opts, rng: rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15))}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Endpoint is the base endpoint to configure the client with, prefix included.
func (s *Server) Endpoint() string { return s.URL + s.opts.Prefix }

// Calls is the number of requests received.
func (s *Server) Calls() int64 { return s.calls.Load() }

// Throttled is the number of requests answered with a ThrottlingException.
func (s *Server) Throttled() int64 { return s.throttled.Load() }

// Succeeded is the number of requests answered with a model reply.
func (s *Server) Succeeded() int64 { return s.succeeded.Load() }

func (s *Server) throttle() bool {
	if s.opts.ThrottleRate <= 0 {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rng.Float64() < s.opts.ThrottleRate
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.calls.Add(1)
	_, stream, ok := ParsePath(s.opts.Prefix, r.URL.EscapedPath())
	if !ok || r.Method != http.MethodPost {
		WriteError(w, http.StatusNotFound, "UnknownOperationException", "unknown operation "+r.Method+" "+r.URL.Path)
		return
	}
	if _, err := DecodeRequest(r); err != nil {
		WriteError(w, http.StatusBadRequest, "SerializationException", err.Error())
		return
	}
	n := s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	if s.throttle() || (s.opts.Capacity > 0 && n > int64(s.opts.Capacity)) {
		s.throttled.Add(1)
		WriteError(w, http.StatusTooManyRequests, "ThrottlingException", "Too many requests, please wait before trying again.")
		return
	}
	if s.opts.Latency > 0 {
		t := time.NewTimer(s.opts.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	s.succeeded.Add(1)
	if stream {
		_ = WriteStream(w, s.opts.Reply, s.opts.Chunks)
		return
	}
	WriteConverse(w, s.opts.Reply)
}
