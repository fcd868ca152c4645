package ghapi_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/ghapi"
	"github.com/evalgate/evalgate/internal/ghapi/ghapitest"
)

const token = "ghs_testtoken"

// newClient returns a real go-github client against a fresh fake, with
// rate-limit waits recorded instead of slept.
func newClient(t *testing.T) (*ghapi.Client, *ghapitest.Server, *[]time.Duration) {
	t.Helper()
	srv := ghapitest.New(t, "nimbus-drive", "support-bot")
	srv.Token = token
	var waits []time.Duration
	c, err := ghapi.New(ghapi.Options{
		APIURL: srv.APIURL(), Token: token, Repository: "nimbus-drive/support-bot",
		Retry: ghapi.RetryPolicy{Sleep: func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }},
	})
	require.NoError(t, err)
	return c, srv, &waits
}

func TestNewRejectsBadRepository(t *testing.T) {
	t.Parallel()
	for _, repo := range []string{"", "owner", "/repo", "a/b/c"} {
		_, err := ghapi.New(ghapi.Options{Repository: repo})
		assert.ErrorContains(t, err, "want owner/name", repo)
	}
	_, err := ghapi.New(ghapi.Options{Repository: "a/b", APIURL: "not a url"})
	assert.ErrorContains(t, err, "api url")
}

func TestStickyCommentTwoRunsOneComment(t *testing.T) {
	t.Parallel()
	c, srv, _ := newClient(t)
	ctx := context.Background()
	// Someone else's comments fill more than one page, so the marker is only
	// found by reading them all.
	for i := range 150 {
		srv.Comments[42] = append(srv.Comments[42], &ghapitest.Comment{ID: int64(i + 1), Body: fmt.Sprintf("comment %d", i)})
	}
	marker := "<!-- evalgate:comment suite=support-answers workflow=evalgate.yml -->"

	first, err := c.UpsertComment(ctx, 42, marker, marker+"\nevaluating...")
	require.NoError(t, err)
	assert.True(t, first.Created)
	final, err := c.EditComment(ctx, first.ID, marker+"\nrun 1: pass")
	require.NoError(t, err)
	assert.Equal(t, first.ID, final.ID)

	second, err := c.UpsertComment(ctx, 42, marker, marker+"\nevaluating...")
	require.NoError(t, err)
	assert.False(t, second.Created)
	assert.Equal(t, first.ID, second.ID)
	_, err = c.EditComment(ctx, second.ID, marker+"\nrun 2: regressed")
	require.NoError(t, err)

	srv.Lock()
	defer srv.Unlock()
	require.Len(t, srv.Comments[42], 151)
	last := srv.Comments[42][150]
	assert.Equal(t, marker+"\nrun 2: regressed", last.Body)
	assert.Equal(t, 1, srv.Calls["POST issues/{n}/comments"])
	assert.Equal(t, 3, srv.Calls["PATCH issues/comments/{n}"], "the final body, then the second run's placeholder and final body")
	assert.Equal(t, 4, srv.Calls["GET issues/{n}/comments"], "two pages on each of two runs")
	assert.Contains(t, final.HTMLURL, "#issuecomment-")
}

func TestUpsertCommentNeedsMarker(t *testing.T) {
	t.Parallel()
	c, _, _ := newClient(t)
	_, err := c.UpsertComment(context.Background(), 1, "<!-- m -->", "no marker")
	assert.ErrorContains(t, err, "lacks its marker")
}

func TestReadOnlyTokenIsNoPermission(t *testing.T) {
	t.Parallel()
	c, srv, _ := newClient(t)
	srv.ReadOnly = true
	_, err := c.UpsertComment(context.Background(), 43, "<!-- m -->", "<!-- m --> x")
	require.Error(t, err)
	assert.ErrorIs(t, err, ghapi.ErrNoPermission)
	assert.Contains(t, err.Error(), "403 Forbidden: Resource not accessible by integration")
	_, err = c.UpsertIssue(context.Background(), "<!-- m -->", "t", "<!-- m -->", nil)
	assert.ErrorIs(t, err, ghapi.ErrNoPermission)
}

func TestRateLimitWaitAndRetry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		limited   int
		use429    bool
		wantErr   bool
		wantCalls int
	}{
		{"primary 403 twice then ok", 2, false, false, 3},
		{"secondary 429 with retry-after", 1, true, false, 2},
		{"bounded: gives up after 3 retries", 10, false, true, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, srv, waits := newClient(t)
			srv.PRFiles[42] = []string{"a.txt"}
			srv.RateLimited, srv.Use429 = tt.limited, tt.use429
			files, err := c.ChangedFiles(context.Background(), 42)
			srv.Lock()
			defer srv.Unlock()
			assert.Equal(t, tt.wantCalls, srv.Calls["GET pulls/{n}/files"])
			if tt.wantErr {
				require.Error(t, err)
				assert.Contains(t, err.Error(), "rate limit")
				assert.False(t, errors.Is(err, ghapi.ErrNoPermission), "a rate limit is not a permission problem")
				assert.Len(t, *waits, 3)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, []string{"a.txt"}, files)
			require.Len(t, *waits, tt.limited)
			for _, w := range *waits {
				assert.LessOrEqual(t, w, 2*time.Second)
			}
		})
	}
}

func TestRateLimitTooLongFailsNow(t *testing.T) {
	t.Parallel()
	srv := ghapitest.New(t, "o", "r")
	srv.RateLimited = 1
	var waits int
	c, err := ghapi.New(ghapi.Options{APIURL: srv.APIURL(), Repository: "o/r", Retry: ghapi.RetryPolicy{
		Now:   func() time.Time { return time.Now().Add(-time.Hour) }, // the reset is an hour away
		Sleep: func(context.Context, time.Duration) error { waits++; return nil },
	}})
	require.NoError(t, err)
	_, err = c.ChangedFiles(context.Background(), 1)
	require.Error(t, err)
	assert.Zero(t, waits)
}

func TestChangedFilesPaginatedWithRenames(t *testing.T) {
	t.Parallel()
	c, srv, _ := newClient(t)
	for i := range 250 {
		srv.PRFiles[7] = append(srv.PRFiles[7], fmt.Sprintf("src/f%03d.go", i))
	}
	srv.PRFiles[7] = append(srv.PRFiles[7], "prompts/old.txt -> prompts/new.txt")
	files, err := c.ChangedFiles(context.Background(), 7)
	require.NoError(t, err)
	assert.Len(t, files, 252)
	assert.Contains(t, files, "prompts/old.txt")
	assert.Contains(t, files, "prompts/new.txt")
	assert.Equal(t, 3, srv.Calls["GET pulls/{n}/files"])
}

func TestTrackingIssue(t *testing.T) {
	t.Parallel()
	c, srv, _ := newClient(t)
	ctx := context.Background()
	marker := "<!-- evalgate:tracking suite=s workflow=nightly.yml -->"
	srv.Issues[5] = &ghapitest.Issue{Number: 5, Title: "unrelated", Body: "x", State: "open"}

	is, err := c.UpsertIssue(ctx, marker, "evalgate: s regressed", marker+"\nnight 1", []string{"evalgate"})
	require.NoError(t, err)
	assert.True(t, is.Created)
	again, err := c.UpsertIssue(ctx, marker, "evalgate: s regressed", marker+"\nnight 2", nil)
	require.NoError(t, err)
	assert.False(t, again.Created)
	assert.Equal(t, is.Number, again.Number)
	assert.Equal(t, marker+"\nnight 2", srv.Issues[is.Number].Body)
	assert.Equal(t, []string{"evalgate"}, srv.Issues[is.Number].Labels)

	found, err := c.FindIssue(ctx, marker)
	require.NoError(t, err)
	require.NotNil(t, found)
	require.NoError(t, c.CloseIssue(ctx, found.GetNumber(), "passes again"))
	assert.Equal(t, "closed", srv.Issues[is.Number].State)
	assert.Equal(t, "passes again", srv.Comments[is.Number][0].Body)
	found, err = c.FindIssue(ctx, marker)
	require.NoError(t, err)
	assert.Nil(t, found)
}

func TestFindBaseline(t *testing.T) {
	t.Parallel()
	results := func(suite string) string { return `{"kind":"header","suite":"` + suite + `"}` + "\n" }
	accept := func(data []byte) error {
		if !strings.Contains(string(data), `"suite":"support-answers"`) {
			return errors.New("another suite")
		}
		return nil
	}
	type art = ghapitest.Artifact
	tests := []struct {
		name      string
		runs      []ghapitest.Run
		artifacts map[int64][]art
		wantRun   int64
		wantErr   string
		file      string
	}{
		{
			name: "newest successful run on the branch",
			runs: []ghapitest.Run{
				{ID: 9, Workflow: "evalgate.yml", Branch: "feature", Status: "success"},
				{ID: 8, Workflow: "evalgate.yml", Branch: "main", Status: "failure"},
				{ID: 7, Workflow: "other.yml", Branch: "main", Status: "success"},
				{ID: 6, Workflow: "evalgate.yml", Branch: "main", Status: "success"},
				{ID: 5, Workflow: "evalgate.yml", Branch: "main", Status: "success"},
			},
			artifacts: map[int64][]art{
				9: {{ID: 90, Name: "evalgate-results-support-answers"}},
				8: {{ID: 80, Name: "evalgate-results-support-answers"}},
				7: {{ID: 70, Name: "evalgate-results-support-answers"}},
				6: {{ID: 60, Name: "coverage"}, {ID: 61, Name: "evalgate-results-support-answers"}},
				5: {{ID: 50, Name: "evalgate-results-support-answers"}},
			},
			wantRun: 6,
		},
		{
			name: "expired and mismatched artifacts are skipped",
			runs: []ghapitest.Run{
				{ID: 6, Workflow: "evalgate.yml", Branch: "main", Status: "success"},
				{ID: 5, Workflow: "evalgate.yml", Branch: "main", Status: "success"},
				{ID: 4, Workflow: "evalgate.yml", Branch: "main", Status: "success"},
			},
			artifacts: map[int64][]art{
				6: {{ID: 60, Name: "evalgate-results-support-answers", Expired: true}},
				5: {{ID: 50, Name: "evalgate-results-support-answers", Zip: nil}}, // filled below: another suite
				4: {{ID: 40, Name: "evalgate-results-support-answers"}},
			},
			wantRun: 4,
		},
		{
			name: "absent",
			runs: []ghapitest.Run{{ID: 6, Workflow: "evalgate.yml", Branch: "main", Status: "success"}},
			artifacts: map[int64][]art{
				6: {{ID: 60, Name: "something-else"}},
			},
			wantErr: `no artifact "evalgate-results-support-answers" in the last 1 successful runs of evalgate.yml on main`,
		},
		{
			name: "only expired",
			runs: []ghapitest.Run{{ID: 6, Workflow: "evalgate.yml", Branch: "main", Status: "success"}},
			artifacts: map[int64][]art{
				6: {{ID: 60, Name: "evalgate-results-support-answers", Expired: true}},
			},
			wantErr: "run 6: artifact expired",
		},
		{
			name:      "no runs at all",
			wantErr:   "in the last 0 successful runs",
			artifacts: map[int64][]art{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, srv, _ := newClient(t)
			srv.Runs = tt.runs
			for run, arts := range tt.artifacts {
				for i := range arts {
					suite := "support-answers"
					if arts[i].ID == 50 && tt.wantRun == 4 {
						suite = "other-suite"
					}
					arts[i].Zip = ghapitest.Zip(t, map[string]string{"results.jsonl": results(suite)})
				}
				srv.Artifacts[run] = arts
			}
			b, err := c.FindBaseline(context.Background(), ghapi.BaselineQuery{
				Workflow: "evalgate.yml", Branch: "main", Artifact: "evalgate-results-support-answers", Accept: accept,
			})
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.ErrorIs(t, err, ghapi.ErrNoBaseline)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantRun, b.RunID)
			assert.Equal(t, results("support-answers"), string(b.Data))
			assert.Contains(t, b.RunURL, fmt.Sprintf("/actions/runs/%d", tt.wantRun))
		})
	}
}

func TestFindBaselinePaginatesRuns(t *testing.T) {
	t.Parallel()
	c, srv, _ := newClient(t)
	for i := range 25 {
		srv.Runs = append(srv.Runs, ghapitest.Run{ID: int64(100 - i), Workflow: "evalgate.yml", Branch: "main", Status: "success"})
	}
	srv.Artifacts[76] = []ghapitest.Artifact{{ID: 760, Name: "r", Zip: ghapitest.Zip(t, map[string]string{"dir/results.jsonl": "x\n", "dir/notes.txt": "n"})}}
	b, err := c.FindBaseline(context.Background(), ghapi.BaselineQuery{Workflow: "evalgate.yml", Branch: "main", Artifact: "r", MaxRuns: 25})
	require.NoError(t, err)
	assert.Equal(t, int64(76), b.RunID)
	assert.Equal(t, "x\n", string(b.Data))
	assert.Equal(t, 1, srv.Downloads)
	assert.Equal(t, 1, srv.Calls["GET actions/workflows/evalgate.yml/runs"], "one page of 25")

	_, err = c.FindBaseline(context.Background(), ghapi.BaselineQuery{Workflow: "evalgate.yml", Branch: "main", Artifact: "r", MaxRuns: 10})
	assert.ErrorIs(t, err, ghapi.ErrNoBaseline, "the artifact is past the 10 runs searched")
}

func TestFindBaselineBadZip(t *testing.T) {
	t.Parallel()
	c, srv, _ := newClient(t)
	srv.Runs = []ghapitest.Run{{ID: 1, Workflow: "w.yml", Branch: "main", Status: "success"}}
	srv.Artifacts[1] = []ghapitest.Artifact{{ID: 10, Name: "r", Zip: ghapitest.Zip(t, map[string]string{"a.jsonl": "", "b.jsonl": ""})}}
	_, err := c.FindBaseline(context.Background(), ghapi.BaselineQuery{Workflow: "w.yml", Branch: "main", Artifact: "r"})
	assert.ErrorContains(t, err, "several results files")
	srv.Artifacts[1] = []ghapitest.Artifact{{ID: 10, Name: "r", Zip: []byte("not a zip")}}
	_, err = c.FindBaseline(context.Background(), ghapi.BaselineQuery{Workflow: "w.yml", Branch: "main", Artifact: "r"})
	assert.ErrorContains(t, err, "artifact zip")
}

func TestFileAt(t *testing.T) {
	t.Parallel()
	c, srv, _ := newClient(t)
	srv.Contents["abc123"] = map[string]string{"examples/support/evalgate.yaml": "version: 1\n"}
	big := strings.Repeat("x", 2<<20) // past the JSON form's 1 MB
	srv.Contents["abc123"]["data/big.jsonl"] = big
	b, err := c.FileAt(context.Background(), "examples/support/evalgate.yaml", "abc123")
	require.NoError(t, err)
	assert.Equal(t, "version: 1\n", string(b))
	b, err = c.FileAt(context.Background(), "data/big.jsonl", "abc123")
	require.NoError(t, err)
	assert.Equal(t, len(big), len(b))
	assert.Equal(t, 2, srv.Calls["GET contents"], "one call a file, whatever its size (raw media type)")
	_, err = c.FileAt(context.Background(), "missing.yaml", "abc123")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "read missing.yaml at abc123")
}

// go-github v60 lists a run's artifacts without a name filter: the name is
// matched here, over every page.
func TestFindBaselineFiltersArtifactsOverEveryPage(t *testing.T) {
	t.Parallel()
	c, srv, _ := newClient(t)
	srv.Runs = []ghapitest.Run{{ID: 1, Workflow: "evalgate.yml", Branch: "main", Status: "success", HeadSHA: "abc"}}
	for i := range 150 {
		srv.Artifacts[1] = append(srv.Artifacts[1], ghapitest.Artifact{ID: int64(100 + i), Name: fmt.Sprintf("coverage-%d", i)})
	}
	srv.Artifacts[1] = append(srv.Artifacts[1], ghapitest.Artifact{ID: 999, Name: "evalgate-results-s",
		Zip: ghapitest.Zip(t, map[string]string{"results.jsonl": "r\n"})})
	b, err := c.FindBaseline(context.Background(), ghapi.BaselineQuery{Workflow: "evalgate.yml", Branch: "main", Artifact: "evalgate-results-s"})
	require.NoError(t, err)
	assert.Equal(t, int64(999), b.ArtifactID)
	assert.Equal(t, "r\n", string(b.Data))
	assert.Equal(t, 2, srv.Calls["GET actions/runs/{n}/artifacts"], "two pages of 100")
	assert.Equal(t, 1, srv.Downloads)
}
