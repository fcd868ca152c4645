package openai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/packages/ssestream"

	"github.com/evalgate/evalgate/internal/provider"
	"github.com/evalgate/evalgate/internal/throttle"
)

// classify turns an SDK error into a *provider.Error whose message says what
// to change where the user can change something.
func (c *Client) classify(ctx context.Context, model string, err error) error {
	e := &provider.Error{Provider: Name, Kind: provider.KindOther, Err: fmt.Errorf("model %s: %w", model, err)}

	var apiErr *openai.Error
	var streamErr *ssestream.StreamError
	switch {
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		// The run was cancelled: nothing to retry, nothing wrong with the model.
	case errors.As(err, &apiErr):
		e.Kind = kindOfStatus(apiErr.StatusCode)
		// The SDK's message is only the status; the server's says what is
		// wrong with the request.
		e.Err = fmt.Errorf("model %s: %w: %s", model, err, detail(apiErr))
		switch {
		case apiErr.Code == "insufficient_quota":
			// A 429 that waiting does not cure: the account is out of credit.
			e.Kind = provider.KindAuth
			e.Err = fmt.Errorf("model %s: the account's quota is exhausted (check billing): %w", model, err)
		case e.Kind == provider.KindThrottled:
			e.RetryAfter = retryAfter(apiErr.Response)
		case e.Kind == provider.KindAuth:
			help := "no API key was sent: set api_key_env on the target"
			if c.hasAPIKey {
				help = "check the key in " + c.keyEnv + " and its access to the model"
			}
			// The server's message is left out: OpenAI's quotes part of the key.
			e.Err = fmt.Errorf("model %s: %w (%s): %s", model, err, apiErr.Code, help)
		}
	case errors.As(err, &streamErr):
		// An error event inside a 200 stream: the server failed mid-answer.
		e.Kind = provider.KindTransient
		if strings.Contains(streamErr.Message, "rate_limit") {
			e.Kind = provider.KindThrottled
		}
	case isTransport(err):
		e.Kind = provider.KindTransient
	}
	return e
}

// detail is the server's explanation of an error response.
func detail(e *openai.Error) string {
	msg := e.Message
	if msg == "" {
		msg = "no message"
	}
	if e.Code != "" {
		return msg + " (" + e.Code + ")"
	}
	return msg
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

func kindOfStatus(status int) provider.ErrorKind {
	switch {
	case status == http.StatusTooManyRequests:
		return provider.KindThrottled
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return provider.KindAuth
	case status == http.StatusBadRequest || status == http.StatusNotFound || status == http.StatusUnprocessableEntity:
		return provider.KindInvalidRequest
	case status == http.StatusRequestTimeout || status == http.StatusConflict || status >= 500:
		return provider.KindTransient
	default:
		return provider.KindOther
	}
}

// retryAfter reads OpenAI's retry-after-ms, then the standard Retry-After
// (seconds or an HTTP date).
func retryAfter(resp *http.Response) time.Duration {
	if resp == nil {
		return 0
	}
	if ms, err := strconv.ParseFloat(resp.Header.Get("Retry-After-Ms"), 64); err == nil && ms > 0 {
		return time.Duration(ms * float64(time.Millisecond))
	}
	return throttle.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
}
