package openai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/evalgate/evalgate/internal/provider"
)

// classify turns a failed call into a *provider.Error whose message says what
// to change where the user can change something.
func (c *Client) classify(ctx context.Context, model string, err error) error {
	e := &provider.Error{Provider: Name, Kind: provider.KindOther, Err: fmt.Errorf("model %s: %w", model, err)}

	var apiErr *apiError
	var streamErr *streamError
	switch {
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		// The run was cancelled: nothing to retry, nothing wrong with the model.
	case errors.As(err, &apiErr):
		e.Kind = provider.KindOfStatus(apiErr.status)
		e.RateLimit = rateLimitOf(apiErr.header)
		// The status alone does not say what is wrong with the request; the
		// server's message does.
		e.Err = fmt.Errorf("model %s: %w: %s", model, err, apiErr.detail.String())
		switch {
		case apiErr.detail.Code == "insufficient_quota":
			// A 429 that waiting does not cure: the account is out of credit.
			e.Kind = provider.KindAuth
			e.Err = fmt.Errorf("model %s: the account's quota is exhausted (check billing): %w", model, err)
		case e.Kind == provider.KindThrottled:
			e.RetryAfter = retryAfter(apiErr.header)
			if e.RetryAfter == 0 && e.RateLimit != nil {
				// No Retry-After: the spent quota says when it is back.
				e.RetryAfter = e.RateLimit.Wait(0)
			}
		case e.Kind == provider.KindAuth:
			help := "no API key was sent: set api_key_env on the target"
			if c.hasAPIKey {
				help = "check the key in " + c.keyEnv + " and its access to the model"
			}
			code := ""
			if apiErr.detail.Code != "" {
				code = " (" + string(apiErr.detail.Code) + ")"
			}
			// The server's message is left out: OpenAI's quotes part of the key.
			e.Err = fmt.Errorf("model %s: %w%s: %s", model, err, code, help)
		}
	case errors.As(err, &streamErr):
		// An error event inside a 200 stream: the server failed mid-answer.
		e.Kind = provider.KindTransient
		if strings.Contains(streamErr.raw, "rate_limit") {
			e.Kind = provider.KindThrottled
		}
	case isTransport(err):
		e.Kind = provider.KindTransient
	}
	return e
}

// apiError is a response whose status is 400 or more.
type apiError struct {
	status int
	header http.Header
	detail errorObject
}

func (e *apiError) Error() string {
	return strings.TrimSpace(fmt.Sprintf("HTTP %d %s", e.status, http.StatusText(e.status)))
}

// newAPIError reads an error response's body: OpenAI's {"error": {...}}, a
// bare {"error": "..."}, or vLLM's top-level {"message", "type", "code"}.
// Bodies that are not JSON (a proxy's HTML page) leave the detail empty.
func newAPIError(status int, header http.Header, body []byte) *apiError {
	e := &apiError{status: status, header: header}
	var b struct {
		Error json.RawMessage `json:"error"`
		errorObject
	}
	if json.Unmarshal(body, &b) == nil {
		e.detail = b.errorObject
		if o, ok := parseErrorObject(b.Error); ok {
			e.detail = o
		}
	}
	return e
}

// streamError is an error object sent inside a 200 response stream.
type streamError struct {
	raw    string // as sent, for telling throttling apart
	detail errorObject
}

func newStreamError(raw json.RawMessage) *streamError {
	o, _ := parseErrorObject(raw)
	return &streamError{raw: string(raw), detail: o}
}

func (e *streamError) Error() string {
	return "the server failed mid-stream: " + e.detail.String()
}

// errorObject is the error object of OpenAI's API.
//
// Reference: https://platform.openai.com/docs/guides/error-codes
type errorObject struct {
	Message looseString `json:"message"`
	Type    looseString `json:"type"`
	Code    looseString `json:"code"`
}

// parseErrorObject reads an "error" member: an object, or a bare string as
// some compatible servers send.
func parseErrorObject(raw json.RawMessage) (errorObject, bool) {
	var o errorObject
	if len(raw) == 0 || string(raw) == "null" {
		return o, false
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		o.Message = looseString(s)
		return o, true
	}
	return o, json.Unmarshal(raw, &o) == nil
}

// String is the server's explanation of the error, with its code (or type)
// for searching the server's documentation.
func (o errorObject) String() string {
	msg := string(o.Message)
	if msg == "" {
		msg = "no message"
	}
	switch {
	case o.Code != "":
		return msg + " (" + string(o.Code) + ")"
	case o.Type != "":
		return msg + " (" + string(o.Type) + ")"
	default:
		return msg
	}
}

// looseString is a string field that some servers send as a number (vLLM's
// "code": 400); any JSON value other than a string is kept as written.
type looseString string

func (s *looseString) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = looseString(v)
		return nil
	}
	if string(b) != "null" {
		*s = looseString(b)
	}
	return nil
}

// isTransport reports failures of the connection or of the response body:
// timeouts, resets, truncated or garbled bodies. The request may succeed when
// sent again.
func isTransport(err error) bool {
	var (
		netErr    net.Error
		syntaxErr *json.SyntaxError
	)
	return errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, io.EOF) ||
		errors.As(err, &netErr) ||
		errors.As(err, &syntaxErr)
}

// rateLimitOf reads OpenAI's rate-limit headers; nil when there are none.
// Remaining counts are integers; resets are durations as OpenAI writes
// them ("1s", "6m0s", "20ms") or seconds ("0.5"), as some compatible servers
// do.
// https://platform.openai.com/docs/guides/rate-limits#rate-limits-in-headers
func rateLimitOf(h http.Header) *provider.RateLimit {
	q := provider.RateLimit{RemainingRequests: -1, RemainingTokens: -1}
	seen := false
	if n, err := strconv.Atoi(h.Get("X-Ratelimit-Remaining-Requests")); err == nil && n >= 0 {
		q.RemainingRequests, seen = n, true
	}
	if n, err := strconv.Atoi(h.Get("X-Ratelimit-Remaining-Tokens")); err == nil && n >= 0 {
		q.RemainingTokens, seen = n, true
	}
	if d, ok := resetOf(h.Get("X-Ratelimit-Reset-Requests")); ok {
		q.ResetRequests, seen = d, true
	}
	if d, ok := resetOf(h.Get("X-Ratelimit-Reset-Tokens")); ok {
		q.ResetTokens, seen = d, true
	}
	if !seen {
		return nil
	}
	return &q
}

// resetOf reads an x-ratelimit-reset-* value.
func resetOf(v string) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return d, true
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 && !math.IsInf(s, 0) {
		return time.Duration(s * float64(time.Second)), true
	}
	return 0, false
}

// retryAfter reads OpenAI's retry-after-ms, then the standard Retry-After
// (seconds or an HTTP date).
func retryAfter(h http.Header) time.Duration {
	if ms, err := strconv.ParseFloat(h.Get("Retry-After-Ms"), 64); err == nil && ms > 0 {
		return time.Duration(ms * float64(time.Millisecond))
	}
	wait, _ := provider.ParseRetryAfter(h.Get("Retry-After"), time.Now())
	return wait
}
