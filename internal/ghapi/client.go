// Package ghapi is what evalgate asks of GitHub's REST API, through go-github:
// the files a pull request changed, the baseline results artifact of the base
// branch, files at another revision, the sticky report comment and the
// tracking issue of scheduled runs.
package ghapi

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"
)

// Options configure a Client.
type Options struct {
	// APIURL is the REST API's base URL (GITHUB_API_URL); empty means
	// https://api.github.com. GitHub Enterprise Server's ends in /api/v3.
	APIURL string
	// Token authenticates every API call (the workflow's GITHUB_TOKEN). It is
	// never sent to artifact download URLs, which are signed.
	Token string
	// Repository is owner/name.
	Repository string
	// Transport is the HTTP transport under the rate-limit retries (default
	// http.DefaultTransport).
	Transport http.RoundTripper
	// Retry bounds the waits on rate-limit responses.
	Retry RetryPolicy
}

// Client calls GitHub for one repository.
type Client struct {
	gh    *github.Client
	dl    *http.Client
	owner string
	repo  string
}

// New returns a client for opts.Repository.
func New(opts Options) (*Client, error) {
	owner, repo, ok := strings.Cut(opts.Repository, "/")
	if !ok || owner == "" || repo == "" || strings.Contains(repo, "/") {
		return nil, fmt.Errorf("repository %q: want owner/name (GITHUB_REPOSITORY)", opts.Repository)
	}
	base := opts.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	rt := &retryTransport{base: base, policy: opts.Retry.withDefaults()}
	gh := github.NewClient(&http.Client{Transport: rt, Timeout: 2 * time.Minute})
	if opts.APIURL != "" && strings.TrimSuffix(opts.APIURL, "/") != "https://api.github.com" {
		u, err := url.Parse(strings.TrimSuffix(opts.APIURL, "/") + "/")
		if err != nil || u.Scheme == "" || u.Host == "" {
			return nil, fmt.Errorf("api url %q: want an absolute URL such as https://api.github.com", opts.APIURL)
		}
		gh.BaseURL = u
	}
	if opts.Token != "" {
		gh = gh.WithAuthToken(opts.Token)
	}
	return &Client{
		gh:    gh,
		dl:    &http.Client{Transport: rt, Timeout: 5 * time.Minute},
		owner: owner,
		repo:  repo,
	}, nil
}

// ErrNoPermission is matched (errors.Is) by errors of calls the token is not
// allowed to make: 403 without a rate limit, or 404, which GitHub answers for
// resources a token cannot see. A fork's pull request gets such a token.
var ErrNoPermission = errors.New("the token lacks the permission")

// APIError is a failed call: what was asked and GitHub's answer.
type APIError struct {
	// Op says what evalgate was doing ("list comments of #42").
	Op string
	// Status is the HTTP status, 0 when no response came back.
	Status int
	Err    error
}

func (e *APIError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("github: %s: %d %s: %v", e.Op, e.Status, http.StatusText(e.Status), errMessage(e.Err))
	}
	return fmt.Sprintf("github: %s: %v", e.Op, e.Err)
}

func (e *APIError) Unwrap() error { return e.Err }

// Is matches ErrNoPermission for 403 (not rate-limited) and 404.
func (e *APIError) Is(target error) bool {
	if target != ErrNoPermission {
		return false
	}
	var rl *github.RateLimitError
	var abuse *github.AbuseRateLimitError
	if errors.As(e.Err, &rl) || errors.As(e.Err, &abuse) {
		return false
	}
	return e.Status == http.StatusForbidden || e.Status == http.StatusNotFound
}

// errMessage keeps GitHub's message without go-github's repeat of the URL.
func errMessage(err error) string {
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Message != "" {
		return er.Message
	}
	return err.Error()
}

func apiErr(op string, resp *github.Response, err error) error {
	e := &APIError{Op: op, Err: err}
	if resp != nil && resp.Response != nil {
		e.Status = resp.StatusCode
	}
	return e
}

// perPage is the largest page GitHub serves: fewer calls against the rate
// limit.
const perPage = 100
