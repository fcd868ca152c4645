package action

import (
	"context"
	"errors"
	"os"
	"path/filepath"

	"github.com/evalgate/evalgate/internal/ghapi"
	"github.com/evalgate/evalgate/internal/report"
	"github.com/evalgate/evalgate/internal/trend"
)

// historyFile is the history's file name, in the workspace and in its
// artifact's zip.
const historyFile = "history.jsonl"

// HistoryArtifactName is the name under which a scheduled workflow uploads a
// suite's history, for its next run to find.
func HistoryArtifactName(suiteName string) string {
	return "evalgate-history-" + artifactSafe(suiteName)
}

// history prepares the history of a scheduled run's suite: the history file
// the latest successful run of this workflow uploaded, written into the
// workspace next to the suite, where the run appends to it. It returns the
// file's path; the first run (or an unreadable artifact) starts a new
// history, with a notice or a warning saying so.
func (j *job) history(ctx context.Context, suiteName, configPath string) string {
	dir := filepath.Join(filepath.Dir(configPath), ".evalgate")
	path := filepath.Join(dir, historyFile)
	at := where{title: "evalgate: " + suiteName + " history"}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		j.out.warningf(at, "history: %v", err)
		return ""
	}
	// A file left in the workspace by an earlier job is not this workflow's
	// history.
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		j.out.warningf(at, "history: %v", err)
		return ""
	}
	if j.api == nil {
		j.out.warningf(at, "no github-token: the earlier runs' history cannot be fetched; this run starts a new one")
		return path
	}
	branch := j.ev.defaultBranch()
	if branch == "" {
		branch = j.ev.RefName
	}
	name := HistoryArtifactName(suiteName)
	b, err := j.api.FindBaseline(ctx, ghapi.BaselineQuery{Workflow: j.ev.workflowFile(), Branch: branch, Artifact: name, File: historyFile,
		Accept: func(data []byte) error { _, err := trend.Parse(data, name); return err }})
	switch {
	case errors.Is(err, ghapi.ErrNoBaseline):
		j.out.noticef(at, "no earlier history (%v); this run starts one: upload %s as the artifact %s for the next run", err, j.rel(path), name)
	case err != nil:
		j.out.warningf(at, "the earlier runs' history could not be fetched (%v); this run starts a new one", err)
	default:
		if err := os.WriteFile(path, b.Data, 0o644); err != nil {
			j.out.warningf(at, "history: %v", err)
		}
	}
	return path
}

// trendMarkdown is the history's trend for the tracking issue and the step
// summary, read after the run appended to it; "" without one.
func (j *job) trendMarkdown(path string) string {
	if path == "" {
		return ""
	}
	h, err := trend.Read(path)
	if err != nil {
		j.out.warningf(where{title: "evalgate: history"}, "%v", err)
		return ""
	}
	return report.TrendMarkdown(h)
}

// historyRun is this run as a history entry names it.
func (j *job) historyRun() trend.Run {
	return trend.Run{ID: j.ev.RunID, URL: j.ev.runURL(), Commit: j.ev.headSHA()}
}
