package ghapi

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"
)

// BaselineQuery says which artifact holds a baseline: one named Artifact,
// uploaded by a successful run of the workflow on Branch.
type BaselineQuery struct {
	// Workflow is the workflow's file name (evalgate.yml); empty searches the
	// runs of every workflow of the repository.
	Workflow string
	// Branch is the branch whose runs are searched (the base branch).
	Branch string
	// Artifact is the artifact's name (evalgate-results-<suite>).
	Artifact string
	// File picks the file in the artifact's zip: its base name
	// (results.jsonl); empty takes the only .jsonl file.
	File string
	// Accept checks a candidate's file (its suite and config); a rejected
	// one is skipped for an older run. Nil accepts any.
	Accept func(data []byte) error
	// MaxRuns bounds the runs looked at (DefaultMaxRuns when zero).
	MaxRuns int
}

// DefaultMaxRuns is how many successful runs are searched for a baseline:
// a month of nightly runs, past which a baseline is too stale to trust.
const DefaultMaxRuns = 30

// MaxArtifactBytes caps an artifact's zip and the file unzipped from it,
// both held in memory. A results file of 100,000 records is ~200 MB.
const MaxArtifactBytes = 512 << 20

// Baseline is a results file found in an artifact.
type Baseline struct {
	RunID      int64
	RunURL     string
	HeadSHA    string
	ArtifactID int64
	Created    time.Time
	// Data is the results file, unzipped.
	Data []byte
}

// ErrNoBaseline is matched (errors.Is) when no run holds a usable artifact;
// the error says what was searched and why candidates were skipped.
var ErrNoBaseline = errors.New("no baseline artifact")

// FindBaseline returns the newest artifact matching q: the successful runs
// on q.Branch are read newest first, page by page, and the first artifact
// with the name that has not expired and that q.Accept takes is downloaded
// and unzipped in memory.
//
// https://docs.github.com/rest/actions/workflow-runs#list-workflow-runs-for-a-workflow
// https://docs.github.com/rest/actions/artifacts#download-an-artifact
func (c *Client) FindBaseline(ctx context.Context, q BaselineQuery) (*Baseline, error) {
	if q.MaxRuns == 0 {
		q.MaxRuns = DefaultMaxRuns
	}
	opts := &github.ListWorkflowRunsOptions{Branch: q.Branch, Status: "success", ListOptions: github.ListOptions{PerPage: min(perPage, q.MaxRuns)}}
	var skipped []string
	seen := 0
	for {
		var runs *github.WorkflowRuns
		var resp *github.Response
		var err error
		if q.Workflow != "" {
			runs, resp, err = c.gh.Actions.ListWorkflowRunsByFileName(ctx, c.owner, c.repo, q.Workflow, opts)
		} else {
			runs, resp, err = c.gh.Actions.ListRepositoryWorkflowRuns(ctx, c.owner, c.repo, opts)
		}
		if err != nil {
			return nil, apiErr(fmt.Sprintf("list successful runs of %s on %s", orAll(q.Workflow), q.Branch), resp, err)
		}
		for _, run := range runs.WorkflowRuns {
			if seen == q.MaxRuns {
				return nil, noBaseline(q, seen, skipped)
			}
			seen++
			b, why, err := c.runBaseline(ctx, run, q)
			if err != nil {
				return nil, err
			}
			if b != nil {
				return b, nil
			}
			if why != "" {
				skipped = append(skipped, fmt.Sprintf("run %d: %s", run.GetID(), why))
			}
		}
		if resp.NextPage == 0 {
			return nil, noBaseline(q, seen, skipped)
		}
		opts.Page = resp.NextPage
	}
}

func orAll(workflow string) string {
	if workflow == "" {
		return "all workflows"
	}
	return workflow
}

// maxSkipsListed bounds the skipped runs an error lists.
const maxSkipsListed = 3

func noBaseline(q BaselineQuery, seen int, skipped []string) error {
	msg := fmt.Sprintf("no artifact %q in the last %d successful runs of %s on %s", q.Artifact, seen, orAll(q.Workflow), q.Branch)
	if len(skipped) > 0 {
		more := ""
		if len(skipped) > maxSkipsListed {
			more = fmt.Sprintf(" (and %d more)", len(skipped)-maxSkipsListed)
			skipped = skipped[:maxSkipsListed]
		}
		msg += " that matches: " + strings.Join(skipped, "; ") + more
	}
	return fmt.Errorf("%w: %s", ErrNoBaseline, msg)
}

// runBaseline returns the run's matching artifact, or why it has none ("" when
// it simply has no artifact of that name).
func (c *Client) runBaseline(ctx context.Context, run *github.WorkflowRun, q BaselineQuery) (*Baseline, string, error) {
	opts := &github.ListOptions{PerPage: perPage}
	for {
		list, resp, err := c.gh.Actions.ListWorkflowRunArtifacts(ctx, c.owner, c.repo, run.GetID(), opts)
		if err != nil {
			return nil, "", apiErr(fmt.Sprintf("list artifacts of run %d", run.GetID()), resp, err)
		}
		for _, a := range list.Artifacts {
			if a.GetName() != q.Artifact {
				continue
			}
			if a.GetExpired() {
				return nil, "artifact expired", nil
			}
			data, err := c.download(ctx, a, q.File)
			if err != nil {
				return nil, "", err
			}
			if q.Accept != nil {
				if err := q.Accept(data); err != nil {
					return nil, err.Error(), nil
				}
			}
			return &Baseline{
				RunID: run.GetID(), RunURL: run.GetHTMLURL(), HeadSHA: run.GetHeadSHA(),
				ArtifactID: a.GetID(), Created: a.GetCreatedAt().Time, Data: data,
			}, "", nil
		}
		if resp.NextPage == 0 {
			return nil, "", nil
		}
		opts.Page = resp.NextPage
	}
}

// download fetches the artifact's zip from the signed URL GitHub redirects
// to (without the token) and returns the one file in it.
func (c *Client) download(ctx context.Context, a *github.Artifact, file string) ([]byte, error) {
	if a.GetSizeInBytes() > MaxArtifactBytes {
		return nil, fmt.Errorf("artifact %s (%d bytes) is larger than the %d bytes evalgate reads", a.GetName(), a.GetSizeInBytes(), MaxArtifactBytes)
	}
	u, resp, err := c.gh.Actions.DownloadArtifact(ctx, c.owner, c.repo, a.GetID(), 0)
	if err != nil {
		return nil, apiErr(fmt.Sprintf("download artifact %d", a.GetID()), resp, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	dl, err := c.dl.Do(req)
	if err != nil {
		return nil, fmt.Errorf("download artifact %d: %w", a.GetID(), err)
	}
	defer dl.Body.Close()
	if dl.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("download artifact %d: %s", a.GetID(), dl.Status)
	}
	zipped, err := io.ReadAll(io.LimitReader(dl.Body, MaxArtifactBytes+1))
	if err != nil {
		return nil, fmt.Errorf("download artifact %d: %w", a.GetID(), err)
	}
	if len(zipped) > MaxArtifactBytes {
		return nil, fmt.Errorf("artifact %d is larger than the %d bytes evalgate reads", a.GetID(), MaxArtifactBytes)
	}
	return unzipOne(zipped, file)
}

// unzipOne returns the file named file (its base name) in the zip, or the
// only .jsonl file when file is empty.
func unzipOne(zipped []byte, file string) ([]byte, error) {
	zr, err := zip.NewReader(bytes.NewReader(zipped), int64(len(zipped)))
	if err != nil {
		return nil, fmt.Errorf("artifact zip: %w", err)
	}
	var pick *zip.File
	var names []string
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		names = append(names, f.Name)
		base := path.Base(f.Name)
		if (file != "" && base == file) || (file == "" && strings.HasSuffix(base, ".jsonl")) {
			if pick != nil {
				return nil, fmt.Errorf("artifact zip holds several results files (%s, %s): upload one file per artifact", pick.Name, f.Name)
			}
			pick = f
		}
	}
	if pick == nil {
		want := file
		if want == "" {
			want = "a .jsonl results file"
		}
		return nil, fmt.Errorf("artifact zip has no %s (it holds %s)", want, strings.Join(names, ", "))
	}
	if pick.UncompressedSize64 > MaxArtifactBytes {
		return nil, fmt.Errorf("artifact file %s (%d bytes) is larger than the %d bytes evalgate reads", pick.Name, pick.UncompressedSize64, MaxArtifactBytes)
	}
	rc, err := pick.Open()
	if err != nil {
		return nil, fmt.Errorf("artifact file %s: %w", pick.Name, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, MaxArtifactBytes+1))
	if err != nil {
		return nil, fmt.Errorf("artifact file %s: %w", pick.Name, err)
	}
	if len(data) > MaxArtifactBytes {
		return nil, fmt.Errorf("artifact file %s is larger than the %d bytes evalgate reads", pick.Name, MaxArtifactBytes)
	}
	return data, nil
}

// FileAt returns the content of the file at path (relative to the
// repository's root, with forward slashes) at ref (a commit sha or branch).
// It asks for the raw media type, which serves files of any size up to
// GitHub's 100 MB in one call (the JSON form stops at 1 MB).
//
// https://docs.github.com/rest/repos/contents#get-repository-content
func (c *Client) FileAt(ctx context.Context, filePath, ref string) ([]byte, error) {
	op := fmt.Sprintf("read %s at %s", filePath, short(ref))
	u := fmt.Sprintf("repos/%s/%s/contents/%s?ref=%s", c.owner, c.repo, (&url.URL{Path: filePath}).EscapedPath(), url.QueryEscape(ref))
	req, err := c.gh.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("github: %s: %w", op, err)
	}
	req.Header.Set("Accept", rawMediaType)
	var buf limitedBuffer
	resp, err := c.gh.Do(ctx, req, &buf)
	if err != nil {
		return nil, apiErr(op, resp, err)
	}
	if buf.over {
		return nil, fmt.Errorf("github: %s at %s is larger than the %d bytes evalgate reads", filePath, short(ref), MaxArtifactBytes)
	}
	return buf.Bytes(), nil
}

// rawMediaType asks the contents API for the file itself rather than JSON.
//
// https://docs.github.com/rest/repos/contents#custom-media-types-for-repository-contents
const rawMediaType = "application/vnd.github.raw+json"

// limitedBuffer keeps at most MaxArtifactBytes and notes what it dropped.
type limitedBuffer struct {
	bytes.Buffer
	over bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := MaxArtifactBytes - b.Len(); len(p) > room {
		b.over = true
		b.Buffer.Write(p[:max(room, 0)])
		return len(p), nil
	}
	return b.Buffer.Write(p)
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}
