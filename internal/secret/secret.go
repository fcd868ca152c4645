// Package secret knows the credentials of a run (API keys, AWS secret keys
// and session tokens, the CI job's GitHub token) and removes them from text
// before it is written or printed: a server that echoes the Authorization
// header in an error body must not put the key into a results file that is
// uploaded as an artifact.
package secret

import (
	"regexp"
	"sort"
	"strings"
)

// Mask replaces a credential in text.
const Mask = "[redacted]"

// minLen is the shortest value redacted as it is: a shorter "credential"
// (a test's "x", a placeholder) would blank out ordinary words, and no real
// API key, secret key or token is this short.
const minLen = 8

// shaped finds credentials by their shape where the value itself is not
// known, as an echoing server or proxy quotes them: the value of a header
// that carries credentials (group 1 is the header up to its value), a bearer
// token (group 2 is "Bearer "), an OpenAI-style sk- key. Tokens are at least
// 16 characters, so that "the bearer of" in an answer stays as it is.
var shaped = regexp.MustCompile(`(?i)(\b(?:authorization|x-api-key|api-key|x-amz-security-token)["']?\s*[:=]\s*["']?(?:bearer\s+|basic\s+)?)[^\s"',;]+` +
	`|(\bbearer\s+)[A-Za-z0-9._~+/=-]{16,}` +
	`|\bsk-[A-Za-z0-9_-]{16,}`)

// Redactor removes known credentials from text. A nil Redactor knows no
// values (RedactMessage still masks by shape). It is safe for concurrent use.
type Redactor struct {
	values []string
	r      *strings.Replacer
}

// New returns a redactor for the credential values given; values shorter
// than eight characters are ignored (see minLen).
func New(values ...string) *Redactor {
	var keep []string
	seen := map[string]bool{}
	for _, v := range values {
		v = strings.TrimSpace(v)
		if len(v) < minLen || seen[v] {
			continue
		}
		seen[v] = true
		keep = append(keep, v)
	}
	// Longest first, so that a key containing another is masked whole.
	sort.Slice(keep, func(i, j int) bool { return len(keep[i]) > len(keep[j]) })
	var pairs []string
	for _, v := range keep {
		pairs = append(pairs, v, Mask)
	}
	return &Redactor{values: keep, r: strings.NewReplacer(pairs...)}
}

// FromEnv returns a redactor for the values of the variables named (unset
// ones are skipped).
func FromEnv(getenv func(string) string, names ...string) *Redactor {
	var values []string
	for _, n := range names {
		values = append(values, getenv(n))
	}
	return New(values...)
}

// Redact returns s without the known credentials. It is for text that is
// not a message about a request (a model's answer, a judge's reasoning),
// which may say "Authorization: required" in earnest.
func (r *Redactor) Redact(s string) string {
	if r != nil && len(r.values) > 0 {
		s = r.r.Replace(s)
	}
	return s
}

// RedactMessage returns an error message without the known credentials and
// without anything shaped like a credential header's value, a bearer token
// or an sk- key: what a server quotes of the request it rejects.
func (r *Redactor) RedactMessage(s string) string {
	return shaped.ReplaceAllStringFunc(r.Redact(s), func(m string) string {
		sub := shaped.FindStringSubmatch(m)
		return sub[1] + sub[2] + Mask
	})
}

// Err returns err with its message redacted as by RedactMessage; what err
// wraps (a kind, a sentinel, an exit code) still unwraps. A nil err is nil.
func (r *Redactor) Err(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if clean := r.RedactMessage(msg); clean != msg {
		return &redactedError{msg: clean, err: err}
	}
	return err
}

// redactedError is an error whose text had credentials removed.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// CredentialEnv names the variables that hold credentials evalgate itself
// may read or inherit, whatever the suite says: AWS keys and session
// tokens, Bedrock API keys, OpenAI's default key, and the CI job's tokens.
var CredentialEnv = []string{
	"AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_BEARER_TOKEN_BEDROCK",
	"OPENAI_API_KEY",
	"GITHUB_TOKEN", "INPUT_GITHUB-TOKEN", "INPUT_GITHUB_TOKEN",
	"ACTIONS_RUNTIME_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
}
