package secret

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRedactRemovesKnownValuesAndCredentialShapes(t *testing.T) {
	t.Parallel()
	r := New("sk-live-0123456789abcdef", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "short")
	cases := []struct{ in, want string }{
		{`400: {"error": "bad header Authorization: Bearer sk-live-0123456789abcdef"}`, `400: {"error": "bad header Authorization: Bearer [redacted]"}`},
		{"secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY leaked", "secret [redacted] leaked"},
		{"echo: authorization=Bearer abcdefabcdefabcdefabcdef", "echo: authorization=Bearer [redacted]"},
		{`{"x-api-key": "k-1"}`, `{"x-api-key": "[redacted]"}`},
		{"X-Amz-Security-Token: IQoJb3JpZ2luX2VjEJr", "X-Amz-Security-Token: [redacted]"},
		{"token Bearer eyJhbGciOiJIUzI1NiJ9.payload", "token Bearer [redacted]"},
		{"an unknown key sk-proj-AAAABBBBCCCCDDDD1234", "an unknown key [redacted]"},
		// Ordinary text stays as it is.
		{"the bearer of good news is short", "the bearer of good news is short"},
		{"Paris is the capital of France.", "Paris is the capital of France."},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, r.RedactMessage(c.in), c.in)
	}
	// Answers lose known values only: a shape is not proof of a secret there.
	assert.Equal(t, "secret [redacted]; Authorization: required", r.Redact("secret sk-live-0123456789abcdef; Authorization: required"))
}

func TestNilAndShortValuesRedactByShapeOnly(t *testing.T) {
	t.Parallel()
	var r *Redactor
	assert.Equal(t, "Authorization: [redacted]", r.RedactMessage("Authorization: abc"))
	assert.Equal(t, "Authorization: abc", r.Redact("Authorization: abc"))
	assert.Equal(t, "a short word", FromEnv(func(string) string { return "short" }, "K").Redact("a short word"))
	env := map[string]string{"OPENAI_API_KEY": "sk-env-key-value-123", "GITHUB_TOKEN": "ghs_0123456789abcdefghij"}
	fe := FromEnv(func(k string) string { return env[k] }, CredentialEnv...)
	assert.Equal(t, "token [redacted] and [redacted]", fe.Redact("token ghs_0123456789abcdefghij and sk-env-key-value-123"))
}

func TestErrKeepsWhatItWraps(t *testing.T) {
	t.Parallel()
	sentinel := errors.New("sentinel")
	r := New("sk-known-value-123")
	err := r.Err(fmt.Errorf("call: %w: key sk-known-value-123", sentinel))
	assert.Equal(t, "call: sentinel: key [redacted]", err.Error())
	assert.ErrorIs(t, err, sentinel)
	plain := errors.New("nothing to hide")
	assert.Same(t, plain, r.Err(plain))
	assert.NoError(t, r.Err(nil))
}
