package action

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/google/go-github/v60/github"
	"github.com/sethvargo/go-githubactions"
)

// Event names a workflow may be triggered by that the action supports.
//
// https://docs.github.com/actions/reference/workflows-and-actions/events-that-trigger-workflows
const (
	eventPullRequest       = "pull_request"
	eventPullRequestTarget = "pull_request_target"
	eventPush              = "push"
	eventSchedule          = "schedule"
	eventWorkflowDispatch  = "workflow_dispatch"
	eventRelease           = "release"
)

// event is the run's github context (go-githubactions reads the runner's
// variables) and the part of its webhook payload the action needs, in
// go-github's types.
type event struct {
	*githubactions.GitHubContext
	// workflowRef is GITHUB_WORKFLOW_REF (owner/repo/.github/workflows/file.yml@ref),
	// which go-githubactions v1.3.0 does not read.
	workflowRef string
	payload     payload
}

// payload is what the action reads of an event's payload: every event
// carries the repository (its default branch is where baselines come from);
// pull_request and pull_request_target carry the pull request.
//
// https://docs.github.com/webhooks/webhook-events-and-payloads
type payload struct {
	PullRequest *github.PullRequest `json:"pull_request"`
	Repository  *github.Repository  `json:"repository"`
}

// readEvent reads the github context and the event payload. An event the
// action does not support, or a pull-request event whose payload does not
// say which pull request, is a usage error: running on anyway would skip the
// comment and the changed-files check without a word.
func readEvent(a *githubactions.Action) (*event, error) {
	gh, err := a.Context()
	if err != nil {
		return nil, usage(fmt.Errorf("github context: %w", err))
	}
	ev := &event{GitHubContext: gh, workflowRef: a.Getenv("GITHUB_WORKFLOW_REF")}
	switch gh.EventName {
	case eventPullRequest, eventPullRequestTarget, eventPush, eventSchedule, eventWorkflowDispatch, eventRelease:
	case "":
		return nil, usage(fmt.Errorf("GITHUB_EVENT_NAME is not set: `evalgate gate` runs in a GitHub Actions step; use `evalgate run` elsewhere"))
	default:
		return nil, usage(fmt.Errorf("event %q is not supported: trigger the workflow on pull_request, pull_request_target, push, schedule, workflow_dispatch or release", gh.EventName))
	}
	if gh.Event != nil {
		// go-githubactions decoded the payload into a map; go-github's types
		// read it from the same JSON.
		raw, err := json.Marshal(gh.Event)
		if err == nil {
			err = json.Unmarshal(raw, &ev.payload)
		}
		if err != nil {
			return nil, usage(fmt.Errorf("event payload %s: %w", gh.EventPath, err))
		}
	}
	if ev.isPullRequestEvent() {
		switch {
		case gh.Event == nil && gh.EventPath == "":
			return nil, usage(fmt.Errorf("event %s: GITHUB_EVENT_PATH is not set, so the pull request is unknown: no comment could be posted and no changed files listed; run the action in the workflow's own job, as the runner sets it", gh.EventName))
		case gh.Event == nil:
			return nil, usage(fmt.Errorf("event %s: the payload file %s does not exist, so the pull request is unknown", gh.EventName, gh.EventPath))
		case ev.payload.PullRequest == nil || ev.payload.PullRequest.GetNumber() == 0:
			return nil, usage(fmt.Errorf("event %s: the payload %s has no pull_request, so the pull request is unknown: no comment could be posted and no changed files listed", gh.EventName, gh.EventPath))
		}
	}
	if gh.Repository == "" && ev.payload.Repository != nil {
		gh.Repository = ev.payload.Repository.GetFullName()
	}
	return ev, nil
}

func (e *event) isPullRequestEvent() bool {
	return e.EventName == eventPullRequest || e.EventName == eventPullRequestTarget
}

// pullRequest is the pull request of a pull_request or pull_request_target
// event, or nil.
func (e *event) pullRequest() *github.PullRequest {
	if !e.isPullRequestEvent() {
		return nil
	}
	return e.payload.PullRequest
}

// fromFork reports whether the run is for a pull request from another
// repository: GitHub then gives a pull_request workflow a read-only token and
// no secrets.
//
// https://docs.github.com/actions/reference/workflows-and-actions/events-that-trigger-workflows#workflows-in-forked-repositories
func (e *event) fromFork() bool {
	pr := e.pullRequest()
	if pr == nil || pr.GetHead().GetRepo() == nil {
		return false
	}
	head := pr.GetHead().GetRepo()
	if head.GetFork() {
		return true
	}
	base := pr.GetBase().GetRepo().GetFullName()
	return base != "" && head.GetFullName() != "" && head.GetFullName() != base
}

// defaultBranch is the repository's default branch from the payload, or "".
func (e *event) defaultBranch() string { return e.payload.Repository.GetDefaultBranch() }

// headSHA is the commit evaluated: the pull request's head, else GITHUB_SHA.
func (e *event) headSHA() string {
	if pr := e.pullRequest(); pr != nil && pr.GetHead().GetSHA() != "" {
		return pr.GetHead().GetSHA()
	}
	return e.SHA
}

// workflowFile is the running workflow's file name
// (.github/workflows/NAME.yml → NAME.yml), or "".
func (e *event) workflowFile() string {
	ref, _, _ := strings.Cut(e.workflowRef, "@")
	_, file, ok := strings.Cut(ref, "/.github/workflows/")
	if !ok {
		return ""
	}
	return file
}

// workflowKey tells apart the reports of two workflows on one pull request.
func (e *event) workflowKey() string {
	if f := e.workflowFile(); f != "" {
		return f
	}
	return e.Workflow
}

// runURL is the web page of this workflow run, or "".
func (e *event) runURL() string {
	if e.RunID == 0 || e.Repository == "" {
		return ""
	}
	return fmt.Sprintf("%s/%s/actions/runs/%d", strings.TrimSuffix(e.ServerURL, "/"), e.Repository, e.RunID)
}
