package ghapi

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/evalgate/evalgate/internal/provider"
	"github.com/evalgate/evalgate/internal/throttle"
)

// RetryPolicy bounds how a client waits out GitHub's rate limits.
//
// https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#exceeding-the-rate-limit
type RetryPolicy struct {
	// Retries is how many times one request is retried (DefaultRetries
	// when zero, none when negative).
	Retries int
	// MaxWait is the longest single wait (DefaultMaxWait when zero). A
	// limit that resets later than that fails now rather than hold the job.
	MaxWait time.Duration
	// Sleep waits d or until ctx ends (a timer by default; tests record).
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock that x-ratelimit-reset is read against.
	Now func() time.Time
}

// Defaults of RetryPolicy. GitHub asks clients to wait at least a minute
// when a secondary limit gives no retry-after; a primary limit can take up to
// an hour to reset, longer than a CI job should sit idle.
const (
	DefaultRetries = 3
	DefaultMaxWait = 90 * time.Second
)

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.Retries == 0 {
		p.Retries = DefaultRetries
	}
	if p.MaxWait == 0 {
		p.MaxWait = DefaultMaxWait
	}
	if p.Sleep == nil {
		p.Sleep = throttle.Sleep
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	return p
}

// retryTransport retries requests GitHub refused for a rate limit (403 or
// 429 with x-ratelimit-remaining: 0 or a retry-after), after the wait GitHub
// names. It sits under go-github, so go-github only sees the final answer.
type retryTransport struct {
	base   http.RoundTripper
	policy RetryPolicy
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	for attempt := 0; ; attempt++ {
		r := req
		if attempt > 0 {
			r = req.Clone(req.Context())
			if req.GetBody != nil {
				body, err := req.GetBody()
				if err != nil {
					return nil, err
				}
				r.Body = body
			}
		}
		resp, err := t.base.RoundTrip(r)
		if err != nil || attempt >= t.policy.Retries || (req.Body != nil && req.Body != http.NoBody && req.GetBody == nil) {
			return resp, err
		}
		wait, limited := t.rateLimitWait(resp)
		if !limited || wait > t.policy.MaxWait {
			return resp, nil
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		resp.Body.Close()
		if err := t.policy.Sleep(req.Context(), wait); err != nil {
			return nil, err
		}
	}
}

// rateLimitWait says whether resp is a rate-limit refusal and how long to
// wait before the next attempt.
func (t *retryTransport) rateLimitWait(resp *http.Response) (time.Duration, bool) {
	if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusTooManyRequests {
		return 0, false
	}
	if wait, ok := provider.ParseRetryAfter(resp.Header.Get("Retry-After"), t.policy.Now()); ok {
		return wait, true
	}
	if resp.Header.Get("X-Ratelimit-Remaining") != "0" {
		return 0, false
	}
	if s := resp.Header.Get("X-Ratelimit-Reset"); s != "" {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			// One second past the reset: the reset time is rounded down.
			return max(time.Unix(n, 0).Sub(t.policy.Now())+time.Second, time.Second), true
		}
	}
	// A secondary limit without a hint: GitHub asks for at least a minute.
	return time.Minute, true
}
