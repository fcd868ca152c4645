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
