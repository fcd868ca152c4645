package openai_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/provider"
	"github.com/evalgate/evalgate/internal/provider/openai"
)

// embedPrefix is the fake's API root: a client that builds its own URL misses it.
const embedPrefix = "/proxy/v1"

// embedServer is an OpenAI-compatible embeddings endpoint that answers with
// respond and records each request.
type embedServer struct {
	mu      sync.Mutex
	paths   []string
	auths   []string
	bodies  []map[string]any
	respond func(w http.ResponseWriter)
}

func (s *embedServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	_ = json.Unmarshal(raw, &body)
	s.mu.Lock()
	s.paths = append(s.paths, r.Method+" "+r.URL.Path)
	s.auths = append(s.auths, r.Header.Get("Authorization"))
	s.bodies = append(s.bodies, body)
	s.mu.Unlock()
	if r.URL.Path != embedPrefix+"/embeddings" {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	s.respond(w)
}

func embedsWith(body string) *embedServer {
	return &embedServer{respond: func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, body)
	}}
}

func embedFailsWith(status int, body string) *embedServer {
	return &embedServer{respond: func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}}
}

func newEmbedder(t *testing.T, s *embedServer) *openai.Embedder {
	t.Helper()
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	const keyEnv = "EVALGATE_TEST_EMBED_KEY"
	c, err := openai.New(openai.Options{
		BaseURL:    srv.URL + embedPrefix,
		APIKeyEnv:  keyEnv,
		Getenv:     func(k string) string { return map[string]string{keyEnv: "sk-embed-test"}[k] },
		HTTPClient: srv.Client(),
	})
	require.NoError(t, err)
	return c.Embedder("text-embedding-3-small")
}

func TestEmbedSendsTextsAndReadsVectorsInOrder(t *testing.T) {
	t.Parallel()
	// Out of order on purpose: the index field decides.
	s := embedsWith(`{"object": "list", "model": "text-embedding-3-small",
		"data": [{"object": "embedding", "index": 1, "embedding": [0, 1]}, {"object": "embedding", "index": 0, "embedding": [1, 0.5]}],
		"usage": {"prompt_tokens": 12, "total_tokens": 12}}`)
	e := newEmbedder(t, s)
	vecs, usage, err := e.Embed(t.Context(), []string{"How long does a refund take?", "Where does my refund go?"})
	require.NoError(t, err)
	assert.Equal(t, [][]float64{{1, 0.5}, {0, 1}}, vecs)
	assert.Equal(t, provider.Usage{InputTokens: 12}, usage)

	require.Len(t, s.paths, 1)
	assert.Equal(t, "POST "+embedPrefix+"/embeddings", s.paths[0])
	assert.Equal(t, "Bearer sk-embed-test", s.auths[0])
	assert.Equal(t, "text-embedding-3-small", s.bodies[0]["model"])
	assert.Equal(t, []any{"How long does a refund take?", "Where does my refund go?"}, s.bodies[0]["input"])
	assert.Equal(t, "float", s.bodies[0]["encoding_format"])
}

func TestEmbedErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		srv  *embedServer
		kind provider.ErrorKind
		msg  string
	}{
		{"throttled", embedFailsWith(http.StatusTooManyRequests, `{"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}}`), provider.KindThrottled, "Rate limit reached"},
		{"unknown model", embedFailsWith(http.StatusNotFound, `{"error": {"message": "The model does not exist", "code": "model_not_found"}}`), provider.KindInvalidRequest, "model_not_found"},
		{"missing vector", embedsWith(`{"data": [{"index": 0, "embedding": [1]}], "usage": {"prompt_tokens": 3}}`), provider.KindOther, "no vector for text 2 of 2"},
		{"bad index", embedsWith(`{"data": [{"index": 5, "embedding": [1]}], "usage": {"prompt_tokens": 3}}`), provider.KindOther, "unexpected index 5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := newEmbedder(t, tt.srv).Embed(t.Context(), []string{"a", "b"})
			require.Error(t, err)
			assert.Equal(t, tt.kind, provider.KindOf(err))
			assert.Contains(t, err.Error(), tt.msg)
			assert.Contains(t, err.Error(), "text-embedding-3-small")
		})
	}
}

func TestEmbedNothing(t *testing.T) {
	t.Parallel()
	s := embedsWith(`{}`)
	vecs, _, err := newEmbedder(t, s).Embed(t.Context(), nil)
	require.NoError(t, err)
	assert.Empty(t, vecs)
	assert.Empty(t, s.paths, "no call for no texts")
}
