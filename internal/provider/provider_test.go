package provider

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestKindOfStatus(t *testing.T) {
	t.Parallel()
	for status, want := range map[int]ErrorKind{
		429: KindThrottled, 401: KindAuth, 403: KindAuth,
		400: KindInvalidRequest, 404: KindInvalidRequest, 422: KindInvalidRequest,
		408: KindTransient, 409: KindTransient, 500: KindTransient, 503: KindTransient,
		418: KindOther,
	} {
		assert.Equal(t, want, KindOfStatus(status), "HTTP %d", status)
	}
}

func TestKindAndRetryAfterSurviveWrapping(t *testing.T) {
	t.Parallel()
	err := fmt.Errorf("sample 3: %w", &Error{Kind: KindThrottled, Provider: "bedrock", RetryAfter: 2 * time.Second, Err: errors.New("slow down")})
	assert.Equal(t, KindThrottled, KindOf(err))
	assert.Equal(t, 2*time.Second, RetryAfterOf(err))
	assert.True(t, KindOf(err).Retryable())
	assert.Equal(t, KindOther, KindOf(errors.New("plain")))
	assert.False(t, KindAuth.Retryable())
	for _, k := range []ErrorKind{KindOther, KindThrottled, KindTransient, KindAuth, KindInvalidRequest} {
		assert.Equal(t, k, ParseErrorKind(k.String()))
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	type want struct {
		wait time.Duration
		ok   bool
	}
	tests := map[string]want{
		"":                              {0, false},
		"3":                             {3 * time.Second, true},
		"0":                             {0, true},
		" 0.5 ":                         {500 * time.Millisecond, true},
		"-1":                            {0, false},
		"soon":                          {0, false},
		"Fri, 02 Jan 2026 03:04:15 GMT": {10 * time.Second, true},
		"Fri, 02 Jan 2026 03:04:00 GMT": {0, true},
	}
	for in, w := range tests {
		wait, ok := ParseRetryAfter(in, now)
		assert.Equal(t, w, want{wait, ok}, "%q", in)
	}
}

func TestRateLimitWait(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		q      RateLimit
		tokens int
		want   time.Duration
	}{
		{"room left", RateLimit{RemainingRequests: 5, RemainingTokens: 5000, ResetRequests: time.Second, ResetTokens: time.Minute}, 400, 0},
		{"requests spent", RateLimit{RemainingRequests: 0, RemainingTokens: 5000, ResetRequests: time.Second, ResetTokens: time.Minute}, 400, time.Second},
		{"too few tokens for the call", RateLimit{RemainingRequests: 5, RemainingTokens: 300, ResetRequests: time.Second, ResetTokens: time.Minute}, 400, time.Minute},
		{"both: the longer", RateLimit{RemainingRequests: 0, RemainingTokens: 0, ResetRequests: 2 * time.Second, ResetTokens: time.Second}, 0, 2 * time.Second},
		{"not said", RateLimit{RemainingRequests: -1, RemainingTokens: -1, ResetRequests: time.Second, ResetTokens: time.Minute}, 400, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, tt.q.Wait(tt.tokens))
		})
	}
}
