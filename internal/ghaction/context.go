package ghaction

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Event names a workflow may be triggered by that evalgate knows.
//
// https://docs.github.com/actions/reference/workflows-and-actions/events-that-trigger-workflows
const (
	EventPullRequest       = "pull_request"
	EventPullRequestTarget = "pull_request_target"
	EventPush              = "push"
	EventSchedule          = "schedule"
	EventWorkflowDispatch  = "workflow_dispatch"
	EventRelease           = "release"
)

// Context is the github context of the run: the default environment
// variables the runner sets and the event payload at GITHUB_EVENT_PATH.
//
// https://docs.github.com/actions/reference/workflows-and-actions/variables#default-environment-variables
type Context struct {
	// EventName is GITHUB_EVENT_NAME (pull_request, push, schedule, ...).
	EventName string
	// EventPath is GITHUB_EVENT_PATH, the file holding the payload.
	EventPath string
	// Repository is GITHUB_REPOSITORY (owner/name); Owner and Repo split it.
	Repository string
	Owner      string
	Repo       string
	// SHA and Ref are the commit and ref that triggered the run.
	SHA string
	Ref string
	// RefName is GITHUB_REF_NAME: the branch or tag name.
	RefName string
	// BaseRef and HeadRef are the branches of a pull request.
	BaseRef string
	HeadRef string
	// Workspace is GITHUB_WORKSPACE, the checkout.
	Workspace string
	// APIURL and ServerURL are GITHUB_API_URL and GITHUB_SERVER_URL (GitHub
	// Enterprise Server sets others than github.com's).
	APIURL    string
	ServerURL string
	// RunID and RunAttempt identify this workflow run.
	RunID      int64
	RunAttempt int
	// Workflow is GITHUB_WORKFLOW (the workflow's name); WorkflowRef is
	// GITHUB_WORKFLOW_REF (owner/repo/.github/workflows/file.yml@ref).
	Workflow    string
	WorkflowRef string
	// Job is GITHUB_JOB, the job's id.
	Job string
	// Actor is GITHUB_ACTOR.
	Actor string
	// Event is the decoded payload (nil when GITHUB_EVENT_PATH is unset).
	Event *Event
}

// Event is the part of a webhook payload evalgate reads. The payload of
// every event carries the repository; the rest depends on the event.
//
// https://docs.github.com/webhooks/webhook-events-and-payloads
type Event struct {
	// Action is the activity type (opened, synchronize, published, ...).
	Action string `json:"action"`
	// Number is the pull request's number (pull_request events).
	Number      int          `json:"number"`
	PullRequest *PullRequest `json:"pull_request"`
	Repository  *Repository  `json:"repository"`
	// Ref, Before and After describe a push.
	Ref    string `json:"ref"`
	Before string `json:"before"`
	After  string `json:"after"`
	// Schedule is the cron expression of a scheduled run.
	Schedule string `json:"schedule"`
	// Inputs are the inputs of a workflow_dispatch run.
	Inputs  map[string]any `json:"inputs"`
	Release *Release       `json:"release"`
}

// PullRequest is a pull request in an event payload.
//
// https://docs.github.com/webhooks/webhook-events-and-payloads#pull_request
type PullRequest struct {
	Number  int     `json:"number"`
	Title   string  `json:"title"`
	HTMLURL string  `json:"html_url"`
	Head    Branch  `json:"head"`
	Base    Branch  `json:"base"`
	Draft   bool    `json:"draft"`
	User    Account `json:"user"`
}

// Branch is the head or base of a pull request.
type Branch struct {
	Ref  string      `json:"ref"`
	SHA  string      `json:"sha"`
	Repo *Repository `json:"repo"`
}

// Repository is a repository in an event payload.
type Repository struct {
	FullName      string  `json:"full_name"`
	Name          string  `json:"name"`
	Owner         Account `json:"owner"`
	DefaultBranch string  `json:"default_branch"`
	Fork          bool    `json:"fork"`
	Private       bool    `json:"private"`
}

// Account is a user or an organization.
type Account struct {
	Login string `json:"login"`
}

// Release is the release of a release event.
//
// https://docs.github.com/webhooks/webhook-events-and-payloads#release
type Release struct {
	TagName    string `json:"tag_name"`
	Name       string `json:"name"`
	Prerelease bool   `json:"prerelease"`
	Draft      bool   `json:"draft"`
	HTMLURL    string `json:"html_url"`
}

// Context reads the github context from the environment and decodes the
// event payload. A missing GITHUB_EVENT_PATH leaves Event nil; a path that
// cannot be read or decoded is an error.
//
// https://docs.github.com/actions/reference/workflows-and-actions/contexts#github-context
func (a *Action) Context() (*Context, error) {
	c := &Context{
		EventName:   a.getenv("GITHUB_EVENT_NAME"),
		EventPath:   a.getenv("GITHUB_EVENT_PATH"),
		Repository:  a.getenv("GITHUB_REPOSITORY"),
		SHA:         a.getenv("GITHUB_SHA"),
		Ref:         a.getenv("GITHUB_REF"),
		RefName:     a.getenv("GITHUB_REF_NAME"),
		BaseRef:     a.getenv("GITHUB_BASE_REF"),
		HeadRef:     a.getenv("GITHUB_HEAD_REF"),
		Workspace:   a.getenv("GITHUB_WORKSPACE"),
		APIURL:      a.getenv("GITHUB_API_URL"),
		ServerURL:   a.getenv("GITHUB_SERVER_URL"),
		Workflow:    a.getenv("GITHUB_WORKFLOW"),
		WorkflowRef: a.getenv("GITHUB_WORKFLOW_REF"),
		Job:         a.getenv("GITHUB_JOB"),
		Actor:       a.getenv("GITHUB_ACTOR"),
	}
	if c.APIURL == "" {
		c.APIURL = "https://api.github.com"
	}
	if c.ServerURL == "" {
		c.ServerURL = "https://github.com"
	}
	if v := a.getenv("GITHUB_RUN_ID"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("GITHUB_RUN_ID %q: %w", v, err)
		}
		c.RunID = id
	}
	if v := a.getenv("GITHUB_RUN_ATTEMPT"); v != "" {
		c.RunAttempt, _ = strconv.Atoi(v)
	}
	if c.EventPath != "" {
		b, err := os.ReadFile(c.EventPath)
		if err != nil {
			return nil, fmt.Errorf("event payload: %w", err)
		}
		var ev Event
		if err := json.Unmarshal(b, &ev); err != nil {
			return nil, fmt.Errorf("event payload %s: %w", c.EventPath, err)
		}
		c.Event = &ev
	}
	if c.Repository == "" && c.Event != nil && c.Event.Repository != nil {
		c.Repository = c.Event.Repository.FullName
	}
	c.Owner, c.Repo, _ = strings.Cut(c.Repository, "/")
	return c, nil
}

// PullRequest returns the pull request of a pull_request or
// pull_request_target event, or nil.
func (c *Context) PullRequest() *PullRequest {
	if c.Event == nil || c.Event.PullRequest == nil {
		return nil
	}
	if c.EventName != EventPullRequest && c.EventName != EventPullRequestTarget {
		return nil
	}
	return c.Event.PullRequest
}

// FromFork reports whether the run is for a pull request from another
// repository: GitHub then gives the workflow a read-only token and no secrets
// (pull_request events).
//
// https://docs.github.com/actions/reference/workflows-and-actions/events-that-trigger-workflows#workflows-in-forked-repositories
func (c *Context) FromFork() bool {
	pr := c.PullRequest()
	if pr == nil || pr.Head.Repo == nil {
		return false
	}
	if pr.Head.Repo.Fork {
		return true
	}
	return pr.Base.Repo != nil && pr.Head.Repo.FullName != "" && pr.Head.Repo.FullName != pr.Base.Repo.FullName
}

// DefaultBranch is the repository's default branch from the payload, or ""
// when the payload does not say.
func (c *Context) DefaultBranch() string {
	if c.Event != nil && c.Event.Repository != nil {
		return c.Event.Repository.DefaultBranch
	}
	return ""
}

// WorkflowFile is the file name of the running workflow
// (.github/workflows/NAME.yml → NAME.yml), from GITHUB_WORKFLOW_REF, or "".
func (c *Context) WorkflowFile() string {
	ref, _, _ := strings.Cut(c.WorkflowRef, "@")
	i := strings.Index(ref, "/.github/workflows/")
	if i < 0 {
		return ""
	}
	return ref[i+len("/.github/workflows/"):]
}

// RunURL is the web page of this workflow run.
func (c *Context) RunURL() string {
	if c.RunID == 0 || c.Repository == "" {
		return ""
	}
	return fmt.Sprintf("%s/%s/actions/runs/%d", strings.TrimSuffix(c.ServerURL, "/"), c.Repository, c.RunID)
}
