// Package provider holds what every model adapter speaks: the request sent to a
// model, the response it returns, token usage, and the kinds of failure the run
// engine must tell apart (retry, stop, or record and go on).
package provider

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Role is who speaks a message.
type Role string

// The roles a chat message can have.
const (
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
)

// Message is one turn of the conversation sent to a model.
type Message struct {
	Role    Role   `json:"role"`
	Content string `json:"content"`
}

// Params are the inference parameters of a target. A nil pointer means "the
// provider's default", which is different from zero (temperature 0 is common).
type Params struct {
	Temperature *float64 `json:"temperature,omitempty" yaml:"temperature,omitempty"`
	TopP        *float64 `json:"top_p,omitempty" yaml:"top_p,omitempty"`
	TopK        *int     `json:"top_k,omitempty" yaml:"top_k,omitempty"`
	MaxTokens   *int     `json:"max_tokens,omitempty" yaml:"max_tokens,omitempty"`
	Stop        []string `json:"stop,omitempty" yaml:"stop,omitempty"`
	Seed        *int64   `json:"seed,omitempty" yaml:"seed,omitempty"`
}

// Request is one model call.
type Request struct {
	// Model is the provider's model id (for Bedrock, a model or inference profile id).
	Model    string    `json:"model"`
	System   string    `json:"system,omitempty"`
	Messages []Message `json:"messages"`
	Params   Params    `json:"params"`
	// Stream asks for a streaming call so that time to first token is measured.
	Stream bool `json:"stream,omitempty"`

	// SampleID and Fields describe the sample the call is for. They are context
	// for providers that need it (recorded outputs, a RAG pipeline behind the
	// command provider) and are never part of the cache key.
	SampleID string            `json:"sample_id,omitempty"`
	Fields   map[string]string `json:"fields,omitempty"`
	// Repeat is the repeat index (0-based) of this call.
	Repeat int `json:"repeat"`

	// CacheSystem and CacheUser ask a provider that caches prompts (Bedrock
	// cache points) to cache the shared prefix: the first CacheSystem bytes
	// of System and the first CacheUser bytes of the first message are the
	// same in every call of the target. Zero: nothing to cache there. They
	// do not change the answer, so they are not part of the cache key.
	CacheSystem int `json:"cache_system,omitempty"`
	CacheUser   int `json:"cache_user,omitempty"`
}

// Usage counts the tokens of one call.
type Usage struct {
	InputTokens      int `json:"input_tokens"`
	OutputTokens     int `json:"output_tokens"`
	CacheReadTokens  int `json:"cache_read_tokens,omitempty"`
	CacheWriteTokens int `json:"cache_write_tokens,omitempty"`
}

// Add returns the sum of two usages.
func (u Usage) Add(o Usage) Usage {
	return Usage{
		InputTokens:      u.InputTokens + o.InputTokens,
		OutputTokens:     u.OutputTokens + o.OutputTokens,
		CacheReadTokens:  u.CacheReadTokens + o.CacheReadTokens,
		CacheWriteTokens: u.CacheWriteTokens + o.CacheWriteTokens,
	}
}

// Response is what a model returned.
type Response struct {
	Text  string `json:"text"`
	Usage Usage  `json:"usage"`
	// Latency is the wall time of the call as the caller saw it. Providers that
	// replay logged outputs set it to the logged latency.
	Latency time.Duration `json:"latency"`
	// TTFT is the time to the first token; zero when unknown.
	TTFT time.Duration `json:"ttft,omitempty"`
	// ServiceLatency is the latency the service itself reported, if any.
	ServiceLatency time.Duration `json:"service_latency,omitempty"`
	// StopReason is why generation stopped, normalized where possible:
	// "end_turn", "max_tokens", "stop_sequence", "content_filtered", or the
	// provider's own word.
	StopReason string `json:"stop_reason,omitempty"`
	// RateLimit is what the service said about its quota with the reply;
	// nil when it said nothing. It paces the next calls and is not kept.
	RateLimit *RateLimit `json:"-"`
}

// RateLimit is what a service says about its quota with a reply (OpenAI's
// x-ratelimit-remaining-requests, -tokens and x-ratelimit-reset-requests,
// -tokens headers): what is left of the current window and how long until
// each limit is replenished. A negative remaining count was not said.
// https://platform.openai.com/docs/guides/rate-limits#rate-limits-in-headers
type RateLimit struct {
	RemainingRequests, RemainingTokens int
	ResetRequests, ResetTokens         time.Duration
}

// Wait is how long a next call of about tokens tokens should wait: until the
// requests are replenished when none are left, until the tokens are when
// fewer than tokens are left; zero when the quota has room.
func (q RateLimit) Wait(tokens int) time.Duration {
	var d time.Duration
	if q.RemainingRequests == 0 {
		d = q.ResetRequests
	}
	if q.RemainingTokens >= 0 && q.RemainingTokens < max(tokens, 1) {
		d = max(d, q.ResetTokens)
	}
	return d
}

// StopMaxTokens is the normalized stop reason of a reply cut at max_tokens.
const StopMaxTokens = "max_tokens"

// ErrorKind classifies a failed call by what the caller should do about it.
type ErrorKind int

// The kinds of provider failure.
const (
	// KindOther is a failure of an unknown kind: recorded, not retried.
	KindOther ErrorKind = iota
	// KindThrottled means the service asked us to slow down: retried with backoff.
	KindThrottled
	// KindTransient is a timeout, 5xx or a model that is not ready: retried.
	KindTransient
	// KindAuth means credentials are missing or not allowed: the run stops.
	KindAuth
	// KindInvalidRequest means the service rejected this request: recorded for
	// the sample, not retried.
	KindInvalidRequest
	// KindEmpty is a call that succeeded without an answer: no choices, an
	// empty message, a program that printed no text. Recorded, not retried:
	// a model that answers nothing is the target's failure.
	KindEmpty
	// KindContentFiltered is an answer withheld by a content filter or
	// guardrail: recorded, not retried.
	KindContentFiltered
)

var kindNames = [...]string{"other", "throttled", "transient", "auth", "invalid_request", "empty", "content_filtered"}

func (k ErrorKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// ParseErrorKind is the inverse of ErrorKind.String; unknown words are KindOther.
func ParseErrorKind(s string) ErrorKind {
	for i, n := range kindNames {
		if n == s {
			return ErrorKind(i)
		}
	}
	return KindOther
}

// Retryable reports whether a call that failed with this kind may be retried.
func (k ErrorKind) Retryable() bool { return k == KindThrottled || k == KindTransient }

// Infrastructure reports whether a failure of this kind says nothing about
// the model's quality: the service was unreachable, overloaded, slow or
// refused the credentials (connection refused, DNS, TLS, 5xx, timeouts,
// throttling that outlived its retries). Such a record was not evaluated; it
// makes the run incomplete and is never counted in an error rate. Every other
// kind (a rejected request, a content filter, an empty answer, a program that
// crashed, an unknown failure) is the target's own.
func (k ErrorKind) Infrastructure() bool {
	return k == KindThrottled || k == KindTransient || k == KindAuth
}

// Error is a classified provider failure.
type Error struct {
	Kind ErrorKind
	// Provider names the adapter ("bedrock", "openai", "command", ...).
	Provider string
	// RetryAfter is the delay the service asked for, if it named one.
	RetryAfter time.Duration
	// RateLimit is what the service said about its quota with the
	// failure, if anything.
	RateLimit *RateLimit
	Err       error
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s: %v", e.Provider, e.Kind, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds a classified error.
func Errorf(kind ErrorKind, provider, format string, args ...any) *Error {
	return &Error{Kind: kind, Provider: provider, Err: fmt.Errorf(format, args...)}
}

// KindOf returns the kind of err: the Kind of a wrapped *Error, KindOther for
// anything else.
func KindOf(err error) ErrorKind {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Kind
	}
	return KindOther
}

// KindOfStatus classifies the HTTP status of a model API's error reply, for
// replies that carry no more specific error code: 429 asks to slow down, 401
// and 403 refuse the credentials, 400/404/422 reject this request, and 408,
// 409 and 5xx are worth a retry.
func KindOfStatus(status int) ErrorKind {
	switch {
	case status == http.StatusTooManyRequests:
		return KindThrottled
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return KindAuth
	case status == http.StatusBadRequest || status == http.StatusNotFound || status == http.StatusUnprocessableEntity:
		return KindInvalidRequest
	case status == http.StatusRequestTimeout || status == http.StatusConflict || status >= 500:
		return KindTransient
	default:
		return KindOther
	}
}

// ParseRetryAfter reads an HTTP Retry-After value: delay-seconds (a fraction
// allowed) or an HTTP-date relative to now. ok is false when v is empty or
// neither; a date already past is a zero wait. Model adapters and the GitHub
// client read the header with it.
// https://www.rfc-editor.org/rfc/rfc9110#field.retry-after
func ParseRetryAfter(v string, now time.Time) (wait time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s < 0 || math.IsNaN(s) {
			return 0, false
		}
		return time.Duration(s * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// RetryAfterOf returns the delay a wrapped *Error asked for, or zero.
func RetryAfterOf(err error) time.Duration {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.RetryAfter
	}
	return 0
}

// RateLimitOf returns what a wrapped *Error said about the quota, or nil.
func RateLimitOf(err error) *RateLimit {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.RateLimit
	}
	return nil
}
