package ghaction

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func fixture(name string) string { return filepath.Join("..", "..", "testdata", "events", name) }

func TestContextEvents(t *testing.T) {
	t.Parallel()
	tests := []struct {
		event, file string
		check       func(t *testing.T, c *Context)
	}{
		{EventPullRequest, "pull_request.json", func(t *testing.T, c *Context) {
			pr := c.PullRequest()
			require.NotNil(t, pr)
			assert.Equal(t, 42, pr.Number)
			assert.Equal(t, "main", pr.Base.Ref)
			assert.Equal(t, "9f1c2d3e4b5a69788796a5b4c3d2e1f0a9b8c7d6", pr.Base.SHA)
			assert.Equal(t, "3b7e1f0a2c4d6e8f0a1b3c5d7e9f1a3b5c7d9e1f", pr.Head.SHA)
			assert.False(t, c.FromFork())
			assert.Equal(t, "main", c.DefaultBranch())
		}},
		{EventPullRequest, "pull_request_fork.json", func(t *testing.T, c *Context) {
			require.NotNil(t, c.PullRequest())
			assert.Equal(t, 43, c.PullRequest().Number)
			assert.True(t, c.FromFork())
		}},
		{EventPullRequestTarget, "pull_request_target.json", func(t *testing.T, c *Context) {
			require.NotNil(t, c.PullRequest())
			assert.True(t, c.FromFork())
		}},
		{EventPush, "push.json", func(t *testing.T, c *Context) {
			assert.Nil(t, c.PullRequest())
			assert.Equal(t, "refs/heads/main", c.Event.Ref)
			assert.Equal(t, "main", c.DefaultBranch())
		}},
		{EventSchedule, "schedule.json", func(t *testing.T, c *Context) {
			assert.Equal(t, "17 3 * * *", c.Event.Schedule)
			assert.Equal(t, "main", c.DefaultBranch())
		}},
		{EventWorkflowDispatch, "workflow_dispatch.json", func(t *testing.T, c *Context) {
			assert.Equal(t, "true", c.Event.Inputs["force"])
		}},
		{EventRelease, "release.json", func(t *testing.T, c *Context) {
			require.NotNil(t, c.Event.Release)
			assert.Equal(t, "v2.0.0", c.Event.Release.TagName)
			assert.Equal(t, "published", c.Event.Action)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			a, _ := newTest(map[string]string{
				"GITHUB_EVENT_NAME":   tt.event,
				"GITHUB_EVENT_PATH":   fixture(tt.file),
				"GITHUB_REPOSITORY":   "nimbus-drive/support-bot",
				"GITHUB_RUN_ID":       "12345678901",
				"GITHUB_WORKFLOW_REF": "nimbus-drive/support-bot/.github/workflows/evalgate.yml@refs/pull/42/merge",
			})
			c, err := a.Context()
			require.NoError(t, err)
			assert.Equal(t, "nimbus-drive", c.Owner)
			assert.Equal(t, "support-bot", c.Repo)
			assert.Equal(t, "evalgate.yml", c.WorkflowFile())
			assert.Equal(t, "https://github.com/nimbus-drive/support-bot/actions/runs/12345678901", c.RunURL())
			assert.Equal(t, "https://api.github.com", c.APIURL)
			tt.check(t, c)
		})
	}
}

func TestContextErrors(t *testing.T) {
	t.Parallel()
	a, _ := newTest(map[string]string{"GITHUB_EVENT_PATH": filepath.Join(t.TempDir(), "missing.json")})
	_, err := a.Context()
	assert.ErrorContains(t, err, "event payload")

	a, _ = newTest(map[string]string{"GITHUB_RUN_ID": "abc"})
	_, err = a.Context()
	assert.ErrorContains(t, err, "GITHUB_RUN_ID")

	a, _ = newTest(map[string]string{})
	c, err := a.Context()
	require.NoError(t, err)
	assert.Nil(t, c.Event)
	assert.Nil(t, c.PullRequest())
	assert.Equal(t, "", c.WorkflowFile())
}
