package openai_test

// Tests of what github.com/openai/openai-go used to do for us: SSE framing,
// error bodies of every shape, redirects, body limits and request headers.

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/provider"
	"github.com/evalgate/evalgate/internal/provider/openai"
)

const (
	hiChunk    = `{"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}`
	stopChunk  = `{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}`
	usageChunk = `{"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":1,"prompt_tokens_details":{"cached_tokens":1}}}`
)

// sendsRaw answers every call with status, content type and body as given.
func sendsRaw(status int, contentType, body string) *fake {
	return &fake{respond: func(w http.ResponseWriter, _ *http.Request, _ int) {
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}}
}

// dropsConnectionAfter streams body, then closes the connection without
// ending the chunked response: what a crashed server or proxy looks like.
func dropsConnectionAfter(body string) *fake {
	return &fake{respond: func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, body)
		w.(http.Flusher).Flush()
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			_ = conn.Close()
		}
	}}
}

// stallsAfterFirstChunk sends one chunk, then waits for the client to leave.
func stallsAfterFirstChunk() *fake {
	return &fake{respond: func(w http.ResponseWriter, r *http.Request, _ int) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: "+hiChunk+"\n\n")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}}
}

func streamRequest() provider.Request {
	return provider.Request{Model: "m", Stream: true, Messages: []provider.Message{{Role: provider.RoleUser, Content: "hi"}}}
}

func TestStreamFraming(t *testing.T) {
	t.Parallel()
	usage := provider.Usage{InputTokens: 4, OutputTokens: 1, CacheReadTokens: 1}
	tests := []struct {
		name      string
		body      string
		wantUsage provider.Usage
	}{
		{"comments and keep-alives", ": keep-alive\n\n: ping\ndata: " + hiChunk + "\n\n: x\n\ndata:\n\ndata: " + stopChunk + "\n\ndata: " + usageChunk + "\n\ndata: [DONE]\n\n", usage},
		{"event, id and retry fields", "event: message\nid: 1\nretry: 10\ndata: " + hiChunk + "\n\nevent: message\ndata: " + stopChunk + "\n\ndata: [DONE]\n\n", provider.Usage{}},
		{"CRLF line ends", "data: " + hiChunk + "\r\n\r\ndata: " + stopChunk + "\r\n\r\ndata: [DONE]\r\n\r\n", provider.Usage{}},
		{"no space after the colon", "data:" + hiChunk + "\n\ndata:" + stopChunk + "\n\ndata:[DONE]\n\n", provider.Usage{}},
		{"data split over lines", "data: {\"choices\":[{\"index\":0,\ndata: \"delta\":{\"content\":\"Hi\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n", provider.Usage{}},
		{"usage null after usage", "data: " + hiChunk + "\n\ndata: " + usageChunk + "\n\ndata: " + stopChunk + "\n\ndata: [DONE]\n\n", usage},
		{"[DONE] without a blank line", "data: " + hiChunk + "\n\ndata: " + stopChunk + "\n\ndata: [DONE]", provider.Usage{}},
		{"events after [DONE] ignored", "data: " + hiChunk + "\n\ndata: " + stopChunk + "\n\ndata: [DONE]\n\ndata: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"MORE\"}}]}\n\n", provider.Usage{}},
		{"other choices ignored", "data: {\"choices\":[{\"index\":1,\"delta\":{\"content\":\"X\"}}]}\n\ndata: " + hiChunk + "\n\ndata: " + stopChunk + "\n\ndata: [DONE]\n\n", provider.Usage{}},
		{"clean end without [DONE]", "data: " + hiChunk + "\n\ndata: " + stopChunk + "\n\n", provider.Usage{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := sendsRaw(http.StatusOK, "text/event-stream", tt.body)
			resp, err := newClient(t, f).Complete(t.Context(), streamRequest())
			require.NoError(t, err)
			assert.Equal(t, "Hi", resp.Text)
			assert.Equal(t, "end_turn", resp.StopReason)
			assert.Equal(t, tt.wantUsage, resp.Usage)
			assert.Positive(t, resp.TTFT)
		})
	}
}

func TestStreamFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		fake *fake
		want provider.ErrorKind
		msg  string
	}{
		{"connection dropped before [DONE]", dropsConnectionAfter("data: " + hiChunk + "\n\ndata: " + stopChunk + "\n\n"), provider.KindTransient, "unexpected EOF"},
		{"connection dropped mid-event", dropsConnectionAfter("data: {\"choices\":[{\"ind"), provider.KindTransient, ""},
		{"error object", sendsRaw(http.StatusOK, "text/event-stream", "data: "+hiChunk+"\n\ndata: {\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\"}}\n\n"), provider.KindTransient, "overloaded (server_error)"},
		{"error event type", sendsRaw(http.StatusOK, "text/event-stream", "event: error\ndata: {\"error\":{\"message\":\"boom\"}}\n\n"), provider.KindTransient, "boom"},
		{"error string about rate limits", sendsRaw(http.StatusOK, "text/event-stream", "data: {\"error\":\"rate_limit reached\"}\n\n"), provider.KindThrottled, "rate_limit reached"},
		{"not a stream", sendsRaw(http.StatusOK, "application/json", completionJSON), provider.KindTransient, "before a finish_reason"},
		{"empty stream", sendsRaw(http.StatusOK, "text/event-stream", ""), provider.KindTransient, "before a finish_reason"},
		{"finish event cut by the end", sendsRaw(http.StatusOK, "text/event-stream", "data: "+hiChunk+"\n\ndata: "+stopChunk), provider.KindTransient, "before a finish_reason"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := newClient(t, tt.fake).Complete(t.Context(), streamRequest())
			require.Error(t, err)
			assert.Equal(t, tt.want, provider.KindOf(err), "%v", err)
			assert.Contains(t, err.Error(), tt.msg)
			assert.Equal(t, 1, tt.fake.count())
		})
	}
}

func TestStreamIgnoresNullError(t *testing.T) {
	t.Parallel()
	f := sendsRaw(http.StatusOK, "text/event-stream", "data: "+hiChunk+"\n\ndata: {\"error\":null,"+stopChunk[1:]+"\n\ndata: [DONE]\n\n")
	resp, err := newClient(t, f).Complete(t.Context(), streamRequest())
	require.NoError(t, err)
	assert.Equal(t, "Hi", resp.Text)
}

func TestStreamStopsWithItsContext(t *testing.T) {
	t.Parallel()
	t.Run("cancelled", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(50*time.Millisecond, cancel)
		_, err := newClient(t, stallsAfterFirstChunk()).Complete(ctx, streamRequest())
		require.Error(t, err)
		assert.ErrorIs(t, err, context.Canceled)
		assert.False(t, provider.KindOf(err).Retryable(), "%v", err)
	})
	t.Run("deadline", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		_, err := newClient(t, stallsAfterFirstChunk()).Complete(ctx, streamRequest())
		require.Error(t, err)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, provider.KindTransient, provider.KindOf(err), "%v", err)
	})
}

func TestErrorBodies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		fake *fake
		want provider.ErrorKind
		msg  string
	}{
		{"proxy's HTML page", sendsRaw(http.StatusBadGateway, "text/html", "<html>Bad Gateway</html>"), provider.KindTransient, "HTTP 502 Bad Gateway: no message"},
		{"empty body", sendsRaw(http.StatusNotFound, "", ""), provider.KindInvalidRequest, "HTTP 404 Not Found: no message"},
		{"error as a string", sendsRaw(http.StatusNotFound, "application/json", `{"error":"model 'x' not found"}`), provider.KindInvalidRequest, "model 'x' not found"},
		{"vLLM's top-level error", sendsRaw(http.StatusBadRequest, "application/json", `{"object":"error","message":"max_tokens is too large","type":"BadRequestError","code":400}`), provider.KindInvalidRequest, "max_tokens is too large (400)"},
		{"numeric code", sendsRaw(http.StatusBadRequest, "application/json", `{"error":{"message":"bad","code":400}}`), provider.KindInvalidRequest, "bad (400)"},
		{"HTML reply at a wrong base_url", sendsRaw(http.StatusOK, "text/html", "<html>Open WebUI</html>"), provider.KindOther, "check base_url"},
		{"empty reply", sendsRaw(http.StatusOK, "application/json", ""), provider.KindTransient, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := newClient(t, tt.fake).Complete(t.Context(), fullRequest())
			require.Error(t, err)
			assert.Equal(t, tt.want, provider.KindOf(err), "%v", err)
			assert.Contains(t, err.Error(), tt.msg)
		})
	}
}

func TestAuthErrorLeavesOutServerMessage(t *testing.T) {
	t.Parallel()
	f := sendsRaw(http.StatusUnauthorized, "application/json",
		`{"error":{"message":"Incorrect API key provided: sk-evalg****101","type":"invalid_request_error","code":"invalid_api_key"}}`)
	_, err := newClient(t, f).Complete(t.Context(), fullRequest())
	require.Error(t, err)
	assert.Equal(t, provider.KindAuth, provider.KindOf(err))
	assert.NotContains(t, err.Error(), "sk-evalg")
	assert.Contains(t, err.Error(), "invalid_api_key")
}

func TestLenientTokenCounts(t *testing.T) {
	t.Parallel()
	f := repliesWith(`{"choices":[{"message":{"content":"x"},"finish_reason":"stop"}],
		"usage":{"prompt_tokens":12.0,"completion_tokens":"3","prompt_tokens_details":null}}`)
	resp, err := newClient(t, f).Complete(t.Context(), fullRequest())
	require.NoError(t, err)
	assert.Equal(t, provider.Usage{InputTokens: 12, OutputTokens: 3}, resp.Usage)
}

func TestReplyOverLimitIsNotRead(t *testing.T) {
	t.Parallel()
	f := &fake{respond: func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"choices":[{"message":{"content":"`)
		block := bytes.Repeat([]byte("a"), 1<<20)
		for range 65 {
			if _, err := w.Write(block); err != nil {
				return
			}
		}
		_, _ = io.WriteString(w, `"}}]}`)
	}}
	_, err := newClient(t, f).Complete(t.Context(), fullRequest())
	require.Error(t, err)
	assert.Equal(t, provider.KindOther, provider.KindOf(err), "%v", err)
	assert.Contains(t, err.Error(), "exceeds 64 MB")
}

func TestRedirectAwayFromBaseURLIsRefused(t *testing.T) {
	t.Parallel()
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { elsewhere.Add(1) }))
	t.Cleanup(other.Close)
	f := &fake{respond: func(w http.ResponseWriter, r *http.Request, _ int) {
		http.Redirect(w, r, other.URL+prefix+"/chat/completions", http.StatusTemporaryRedirect)
	}}

	_, err := newClient(t, f).Complete(t.Context(), fullRequest())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "refused")
	assert.Zero(t, elsewhere.Load(), "the key must not leave the base URL's origin")
}

func TestRequestHeaders(t *testing.T) {
	t.Parallel()
	var got http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, completionJSON)
	}))
	t.Cleanup(srv.Close)
	// No HTTPClient: the package's shared client sends the request.
	c, err := openai.New(openai.Options{BaseURL: srv.URL + prefix, Getenv: env(nil)})
	require.NoError(t, err)

	_, err = c.Complete(t.Context(), provider.Request{Model: "m", Messages: []provider.Message{{Role: provider.RoleUser, Content: "a < b & c"}}})
	require.NoError(t, err)
	assert.Equal(t, "application/json", got.Get("Content-Type"))
	assert.Equal(t, "application/json", got.Get("Accept"))
	assert.Empty(t, got.Get("Authorization"))
}

// roundTripFunc lets a test stand in for OpenAI's own API, whose base URL
// cannot point at an httptest server.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestOfficialAPIGetsMaxCompletionTokens(t *testing.T) {
	t.Parallel()
	var (
		url, auth string
		body      map[string]any
	)
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		url, auth = r.URL.String(), r.Header.Get("Authorization")
		raw, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(raw, &body)
		return &http.Response{
			StatusCode: http.StatusOK,
			Header:     http.Header{"Content-Type": {"application/json"}},
			Body:       io.NopCloser(strings.NewReader(completionJSON)),
			Request:    r,
		}, nil
	})}
	c, err := openai.New(openai.Options{Getenv: env(map[string]string{"OPENAI_API_KEY": testKey}), HTTPClient: hc})
	require.NoError(t, err)
	req := fullRequest()
	req.Params.TopK = nil

	_, err = c.Complete(t.Context(), req)
	require.NoError(t, err)
	assert.Equal(t, "https://api.openai.com/v1/chat/completions", url)
	assert.Equal(t, "Bearer "+testKey, auth)
	assert.Equal(t, 400.0, body["max_completion_tokens"])
	assert.NotContains(t, body, "max_tokens")
	assert.NotContains(t, body, "top_k")
}

func TestBaseURLMustBeHTTP(t *testing.T) {
	t.Parallel()
	for _, base := range []string{"localhost:11434/v1", "ftp://host/v1", "http://"} {
		_, err := openai.New(openai.Options{BaseURL: base, Getenv: env(nil)})
		require.Error(t, err, base)
		assert.Contains(t, err.Error(), "base_url")
	}
}

func TestEmbedRejectsNonJSONReply(t *testing.T) {
	t.Parallel()
	s := &embedServer{respond: func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = io.WriteString(w, "<html></html>")
	}}
	_, _, err := newEmbedder(t, s).Embed(t.Context(), []string{"a"})
	require.Error(t, err)
	assert.Equal(t, provider.KindOther, provider.KindOf(err))
	assert.Contains(t, err.Error(), "check base_url")
}
