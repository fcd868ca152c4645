package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/evalgate/evalgate/internal/ghaction"
	"github.com/evalgate/evalgate/internal/ghapi"
	"github.com/evalgate/evalgate/internal/suite"
)

// baselineChoice is the baseline a suite is compared with.
type baselineChoice struct {
	// override is runOptions.baseline: FILE#target, or "" for the suite's
	// own gate.baseline.
	override string
	// desc says in the report what the baseline is.
	desc string
	// notes say why a preferred baseline was not used.
	notes []string
}

// baseline resolves the baseline input for one suite:
//   - a results file: that file;
//   - suite: the suite's own gate.baseline;
//   - artifact: the newest matching results artifact of the base branch (the
//     default branch outside pull requests); on a pull request without one,
//     the base revision evaluated in this job;
//   - base: the base revision of the pull request, evaluated in this job;
//   - auto: artifact on pull requests and scheduled runs, suite otherwise.
//
// Whatever cannot be had falls back to the suite's own gate.baseline, with a
// note in the report.
func (j *gateJob) baseline(ctx context.Context, s *suite.Suite, configRel string) baselineChoice {
	own := baselineChoice{desc: "the suite's gate.baseline"}
	if s.Config.Gate.Baseline != "" {
		own.desc = fmt.Sprintf("the suite's gate.baseline (%s)", s.Config.Gate.Baseline)
	}
	fallback := func(note string, args ...any) baselineChoice {
		c := own
		c.notes = append(c.notes, fmt.Sprintf(note, args...))
		j.a.Warningf(ghaction.CommandProperties{Title: "evalgate: " + s.Config.Name + " baseline", File: configRel}, "%s", c.notes[0])
		return c
	}
	src := j.in.baseline
	switch src {
	case baselineSuite:
		return own
	case baselineAuto, baselineArtifact, baselineBase:
	default:
		file, target, _ := cutLast(src, "#")
		if target == "" {
			target = gatedTarget(s)
		}
		p := filepath.Join(j.workspace, filepath.FromSlash(file))
		return baselineChoice{override: p + "#" + target, desc: "the results file " + file}
	}
	pr := j.gh.PullRequest()
	if src == baselineAuto && pr == nil && j.gh.EventName != ghaction.EventSchedule {
		return own
	}
	gated := gatedTarget(s)
	if gated == "" {
		return fallback("cannot tell which target to compare with the base branch: set gate.target in %s", configRel)
	}
	if j.api == nil {
		return fallback("no github-token: cannot fetch the base branch's baseline")
	}
	var notes []string
	if src != baselineBase {
		branch := j.gh.DefaultBranch()
		if pr != nil {
			branch = pr.Base.Ref
		}
		if branch == "" {
			branch = j.gh.RefName
		}
		workflow := orText(j.in.workflow, j.gh.WorkflowFile())
		b, err := j.api.FindBaseline(ctx, ghapi.BaselineQuery{
			Workflow: workflow, Branch: branch, Artifact: ArtifactName(s.Config.Name), Accept: acceptBaseline(s, gated),
		})
		if err == nil {
			p := filepath.Join(j.tmp, fmt.Sprintf("baseline-%d.jsonl", b.ArtifactID))
			if err := os.WriteFile(p, b.Data, 0o600); err != nil {
				return fallback("baseline artifact: %v", err)
			}
			return baselineChoice{override: p + "#" + gated,
				desc: fmt.Sprintf("%s of %s at %s (workflow run %d)", ArtifactName(s.Config.Name), branch, short(b.HeadSHA), b.RunID)}
		}
		if !errors.Is(err, ghapi.ErrNoBaseline) {
			notes = append(notes, fmt.Sprintf("the baseline artifact could not be fetched: %v", err))
		} else {
			notes = append(notes, err.Error())
		}
		if pr == nil {
			return fallback("%s", notes[0])
		}
	}
	if pr == nil {
		return fallback("baseline base needs a pull request; this is a %s run", j.gh.EventName)
	}
	// Evaluate the base revision in this job.
	j.a.Noticef(ghaction.CommandProperties{Title: "evalgate: " + s.Config.Name}, "evaluating the base revision %s of %s as the baseline", short(pr.Base.SHA), configRel)
	c, err := j.baseRevision(ctx, s, configRel, pr.Base.SHA, gated)
	if err != nil {
		notes = append(notes, fmt.Sprintf("the base revision %s could not be evaluated: %v", short(pr.Base.SHA), err))
		c = own
		c.notes = notes
		j.a.Warningf(ghaction.CommandProperties{Title: "evalgate: " + s.Config.Name + " baseline", File: configRel}, "%s", notes[len(notes)-1])
		return c
	}
	c.notes = notes
	return c
}

// baseRevision evaluates the suite's gated target as it was at sha: the
// config and every file it names are read through the contents API into a
// temporary tree, and run with the head's response cache, so that unchanged
// requests cost nothing.
func (j *gateJob) baseRevision(ctx context.Context, head *suite.Suite, configRel, sha, gated string) (baselineChoice, error) {
	raw, err := j.api.FileAt(ctx, configRel, sha)
	if err != nil {
		if errors.Is(err, ghapi.ErrNoPermission) {
			return baselineChoice{}, fmt.Errorf("the suite is not in the base revision (a new suite?): %w", err)
		}
		return baselineChoice{}, err
	}
	_, files, err := suiteFiles(configRel, raw)
	if err != nil {
		return baselineChoice{}, fmt.Errorf("%s at %s: %w", configRel, short(sha), err)
	}
	root := filepath.Join(j.tmp, "base-"+short(sha)+"-"+ArtifactName(head.Config.Name))
	for _, f := range files {
		data := raw
		if f != configRel {
			if data, err = j.api.FileAt(ctx, f, sha); err != nil {
				return baselineChoice{}, err
			}
		}
		p := filepath.Join(root, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return baselineChoice{}, err
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return baselineChoice{}, err
		}
	}
	config := filepath.Join(root, filepath.FromSlash(configRel))
	base, err := suite.Load(config)
	if err != nil {
		return baselineChoice{}, err
	}
	if _, ok := base.Target(gated); !ok {
		return baselineChoice{}, fmt.Errorf("the base revision has no target %q", gated)
	}
	// Share the response cache: the base's cache directory is the head's.
	if head.CacheEnabled() && base.CacheEnabled() && base.CacheDir() != head.CacheDir() {
		if err := os.MkdirAll(head.CacheDir(), 0o755); err == nil {
			os.MkdirAll(filepath.Dir(base.CacheDir()), 0o755)
			os.RemoveAll(base.CacheDir())
			os.Symlink(head.CacheDir(), base.CacheDir())
		}
	}
	out := filepath.Join(root, "base-results.jsonl")
	r, runErr := executeSuite(ctx, j.e, runOptions{config: config, out: out, targets: gated, progress: "off",
		concurrency: j.in.concurrency, budget: j.in.budget})
	if r == nil {
		return baselineChoice{}, runErr
	}
	evaluated := false
	for _, t := range r.summary.Targets {
		if t.ID == gated && t.Records > t.Errors {
			evaluated = true
		}
	}
	if !evaluated {
		return baselineChoice{}, fmt.Errorf("no record of %s was evaluated: %v", gated, runErr)
	}
	return baselineChoice{override: out + "#" + gated, desc: fmt.Sprintf("the base revision %s, evaluated in this job", short(sha))}, nil
}

// cutLast splits s around the last sep.
func cutLast(s, sep string) (before, after string, found bool) {
	for i := len(s) - len(sep); i >= 0; i-- {
		if s[i:i+len(sep)] == sep {
			return s[:i], s[i+len(sep):], true
		}
	}
	return s, "", false
}
