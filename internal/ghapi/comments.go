package ghapi

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-github/v60/github"
)

// Comment is a comment posted or edited on an issue or pull request.
type Comment struct {
	ID      int64
	HTMLURL string
	// Created is true when the comment is new, false when an earlier one
	// was edited.
	Created bool
}

// FindComment returns the first comment on issue or pull request number
// whose body holds marker, reading every page; nil when there is none.
//
// https://docs.github.com/rest/issues/comments#list-issue-comments
func (c *Client) FindComment(ctx context.Context, number int, marker string) (*github.IssueComment, error) {
	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: perPage}}
	for {
		comments, resp, err := c.gh.Issues.ListComments(ctx, c.owner, c.repo, number, opts)
		if err != nil {
			return nil, apiErr(fmt.Sprintf("list comments of #%d", number), resp, err)
		}
		for _, cm := range comments {
			if strings.Contains(cm.GetBody(), marker) {
				return cm, nil
			}
		}
		if resp.NextPage == 0 {
			return nil, nil
		}
		opts.Page = resp.NextPage
	}
}

// UpsertComment makes body (which must contain marker) the one comment with
// marker on issue or pull request number: the earlier one is edited in
// place, or a new one is created. Runs of the same suite and workflow so keep
// one comment, whatever their number.
//
// https://docs.github.com/rest/issues/comments#update-an-issue-comment
func (c *Client) UpsertComment(ctx context.Context, number int, marker, body string) (*Comment, error) {
	if !strings.Contains(body, marker) {
		return nil, fmt.Errorf("comment body lacks its marker %q: a later run could not find it", marker)
	}
	prev, err := c.FindComment(ctx, number, marker)
	if err != nil {
		return nil, err
	}
	if prev != nil {
		cm, resp, err := c.gh.Issues.EditComment(ctx, c.owner, c.repo, prev.GetID(), &github.IssueComment{Body: github.String(body)})
		if err != nil {
			return nil, apiErr(fmt.Sprintf("edit comment %d on #%d", prev.GetID(), number), resp, err)
		}
		return &Comment{ID: cm.GetID(), HTMLURL: cm.GetHTMLURL()}, nil
	}
	cm, resp, err := c.gh.Issues.CreateComment(ctx, c.owner, c.repo, number, &github.IssueComment{Body: github.String(body)})
	if err != nil {
		return nil, apiErr(fmt.Sprintf("comment on #%d", number), resp, err)
	}
	return &Comment{ID: cm.GetID(), HTMLURL: cm.GetHTMLURL(), Created: true}, nil
}

// EditComment replaces the body of comment id (known from UpsertComment),
// without listing the comments again.
//
// https://docs.github.com/rest/issues/comments#update-an-issue-comment
func (c *Client) EditComment(ctx context.Context, id int64, body string) (*Comment, error) {
	cm, resp, err := c.gh.Issues.EditComment(ctx, c.owner, c.repo, id, &github.IssueComment{Body: github.String(body)})
	if err != nil {
		return nil, apiErr(fmt.Sprintf("edit comment %d", id), resp, err)
	}
	return &Comment{ID: cm.GetID(), HTMLURL: cm.GetHTMLURL()}, nil
}

// Issue is a tracking issue opened or updated.
type Issue struct {
	Number  int
	HTMLURL string
	Created bool
}

// UpsertIssue makes body (which must contain marker) the body of the one open
// issue with marker, creating it with title and labels when there is none;
// an existing one gets title and body replaced and is not reopened twice.
//
// https://docs.github.com/rest/issues/issues#list-repository-issues
func (c *Client) UpsertIssue(ctx context.Context, marker, title, body string, labels []string) (*Issue, error) {
	if !strings.Contains(body, marker) {
		return nil, fmt.Errorf("issue body lacks its marker %q", marker)
	}
	prev, err := c.FindIssue(ctx, marker)
	if err != nil {
		return nil, err
	}
	req := &github.IssueRequest{Title: github.String(title), Body: github.String(body)}
	if prev != nil {
		is, resp, err := c.gh.Issues.Edit(ctx, c.owner, c.repo, prev.GetNumber(), req)
		if err != nil {
			return nil, apiErr(fmt.Sprintf("edit issue #%d", prev.GetNumber()), resp, err)
		}
		return &Issue{Number: is.GetNumber(), HTMLURL: is.GetHTMLURL()}, nil
	}
	if len(labels) > 0 {
		req.Labels = &labels
	}
	is, resp, err := c.gh.Issues.Create(ctx, c.owner, c.repo, req)
	if err != nil {
		return nil, apiErr("create issue", resp, err)
	}
	return &Issue{Number: is.GetNumber(), HTMLURL: is.GetHTMLURL(), Created: true}, nil
}

// FindIssue returns the open issue (not pull request) whose body holds
// marker, reading every page; nil when there is none.
//
// https://docs.github.com/rest/issues/issues#list-repository-issues
func (c *Client) FindIssue(ctx context.Context, marker string) (*github.Issue, error) {
	opts := &github.IssueListByRepoOptions{State: "open", ListOptions: github.ListOptions{PerPage: perPage}}
	for {
		issues, resp, err := c.gh.Issues.ListByRepo(ctx, c.owner, c.repo, opts)
		if err != nil {
			return nil, apiErr("list open issues", resp, err)
		}
		for _, is := range issues {
			if !is.IsPullRequest() && strings.Contains(is.GetBody(), marker) {
				return is, nil
			}
		}
		if resp.NextPage == 0 {
			return nil, nil
		}
		opts.ListOptions.Page = resp.NextPage
	}
}

// CloseIssue comments on issue number and closes it (a scheduled run that
// passes again closes the issue its regression opened).
//
// https://docs.github.com/rest/issues/issues#update-an-issue
func (c *Client) CloseIssue(ctx context.Context, number int, comment string) error {
	if comment != "" {
		if _, resp, err := c.gh.Issues.CreateComment(ctx, c.owner, c.repo, number, &github.IssueComment{Body: github.String(comment)}); err != nil {
			return apiErr(fmt.Sprintf("comment on #%d", number), resp, err)
		}
	}
	_, resp, err := c.gh.Issues.Edit(ctx, c.owner, c.repo, number, &github.IssueRequest{State: github.String("closed")})
	if err != nil {
		return apiErr(fmt.Sprintf("close issue #%d", number), resp, err)
	}
	return nil
}

// ChangedFiles returns the paths a pull request adds, modifies, removes or
// renames (both the old and the new name of a rename), reading every page.
// GitHub lists at most 3000 files.
//
// https://docs.github.com/rest/pulls/pulls#list-pull-requests-files
func (c *Client) ChangedFiles(ctx context.Context, number int) ([]string, error) {
	var out []string
	opts := &github.ListOptions{PerPage: perPage}
	for {
		files, resp, err := c.gh.PullRequests.ListFiles(ctx, c.owner, c.repo, number, opts)
		if err != nil {
			return nil, apiErr(fmt.Sprintf("list files of pull request #%d", number), resp, err)
		}
		for _, f := range files {
			out = append(out, f.GetFilename())
			if p := f.GetPreviousFilename(); p != "" {
				out = append(out, p)
			}
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}
