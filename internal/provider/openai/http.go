package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxResponseBytes bounds what is read of one reply. A reply of the largest
// models' output limits (~128k tokens) is a few MB of JSON; anything near
// this is a misbehaving server, which must not exhaust the runner's memory.
const maxResponseBytes = 64 << 20

// maxErrorBodyBytes bounds what is read of an error response: its message is
// a sentence, and a proxy's HTML error page says nothing we would show.
const maxErrorBodyBytes = 1 << 20

// sharedClient sends the requests of every Client made without
// Options.HTTPClient, so that all targets and judges on one server share a
// pool of connections.
var sharedClient = &http.Client{Transport: &http.Transport{
	// Corporate proxies are configured this way, and the SDK honoured them.
	Proxy: http.ProxyFromEnvironment,
	DialContext: (&net.Dialer{
		Timeout:   30 * time.Second,
		KeepAlive: 30 * time.Second,
	}).DialContext,
	ForceAttemptHTTP2: true,
	MaxIdleConns:      256,
	// The run engine keeps many calls to one host in flight; Go's default of
	// 2 idle connections per host would close and redial (a TLS handshake
	// each) nearly every connection between two bursts of calls.
	MaxIdleConnsPerHost:   64,
	IdleConnTimeout:       90 * time.Second,
	TLSHandshakeTimeout:   10 * time.Second,
	ExpectContinueTimeout: time.Second,
	// No response timeout: a reasoning model may think for minutes before its
	// first byte. The caller's context bounds each call.
}}

// keepOrigin returns a copy of hc that refuses redirects away from the base
// URL's scheme, host and port, so that the API key is only ever sent there
// (the SDK enforced the same).
func keepOrigin(hc *http.Client, base *url.URL) *http.Client {
	c := *hc
	next := hc.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if !sameOrigin(req.URL, base) {
			return fmt.Errorf("redirect to %s refused: it leaves %s://%s", req.URL.Redacted(), base.Scheme, base.Host)
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 { // http.Client's own default
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return &c
}

func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) &&
		strings.EqualFold(a.Hostname(), b.Hostname()) &&
		effectivePort(a) == effectivePort(b)
}

func effectivePort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "https") {
		return "443"
	}
	return "80"
}

// call posts body to endpoint and decodes the JSON reply into out. It
// returns the reply's header, for the rate-limit headers.
func (c *Client) call(ctx context.Context, endpoint string, body, out any) (http.Header, error) {
	resp, err := c.post(ctx, endpoint, body)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return nil, readError(ctx, err)
	}
	if len(raw) > maxResponseBytes {
		return nil, fmt.Errorf("response body exceeds %d MB", maxResponseBytes>>20)
	}
	if ct := resp.Header.Get("Content-Type"); !isJSON(ct) {
		// Typically a web UI or a proxy's page answering at a wrong base_url.
		return nil, fmt.Errorf("the server answered with content type %q, not JSON: check base_url", ct)
	}
	// A Decoder, unlike Unmarshal, accepts trailing bytes after the reply, as
	// the SDK did.
	if err := json.NewDecoder(bytes.NewReader(raw)).Decode(out); err != nil {
		return nil, fmt.Errorf("parsing the response: %w", err)
	}
	return resp.Header, nil
}

// post sends body as JSON to endpoint. It returns the response when its
// status is below 400, for the caller to read and close, and an *apiError
// otherwise.
func (c *Client) post(ctx context.Context, endpoint string, body any) (*http.Response, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // prompts keep their <, > and & as written
	if err := enc.Encode(body); err != nil {
		return nil, fmt.Errorf("encoding the request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, &buf)
	if err != nil {
		return nil, fmt.Errorf("building the request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "evalgate")
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		return nil, err
	}
	if resp.StatusCode < http.StatusBadRequest {
		return resp, nil
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBodyBytes))
	if err != nil {
		return nil, readError(ctx, err)
	}
	return nil, newAPIError(resp.StatusCode, resp.Header, raw)
}

// readError explains a failed read of a response body. A read cut by the
// caller's context is reported as the context's error: the run's doing, not
// the server's.
func readError(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	return fmt.Errorf("reading the response: %w", err)
}

// isJSON reports whether a Content-Type names JSON, as the SDK judged it.
func isJSON(contentType string) bool {
	mediaType, _, _ := mime.ParseMediaType(contentType)
	return strings.Contains(mediaType, "application/json") || strings.HasSuffix(mediaType, "+json")
}
