package action

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/evalgate/evalgate/internal/ghapi"
	"github.com/evalgate/evalgate/internal/results"
	"github.com/evalgate/evalgate/internal/suite"
)

// baselineChoice is the baseline a suite is compared with.
type baselineChoice struct {
	// override is RunRequest.Baseline: FILE#target, or "" for the suite's
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
func (j *job) baseline(ctx context.Context, s *suite.Suite, configRel string) baselineChoice {
	own := baselineChoice{desc: "the suite's gate.baseline"}
	if s.Config.Gate.Baseline != "" {
		own.desc = fmt.Sprintf("the suite's gate.baseline (%s)", s.Config.Gate.Baseline)
	}
	at := where{title: "evalgate: " + s.Config.Name + " baseline", file: configRel}
	fallback := func(note string, args ...any) baselineChoice {
		c := own
		c.notes = append(c.notes, fmt.Sprintf(note, args...))
		j.out.warningf(at, "%s", c.notes[0])
		return c
	}
	src := j.in.baseline
	switch src {
	case baselineSuite:
		return own
	case baselineAuto, baselineArtifact, baselineBase:
	default:
		file, target := src, ""
		if i := strings.LastIndex(src, "#"); i >= 0 {
			file, target = src[:i], src[i+1:]
		}
		if target == "" {
			target = gatedTarget(s)
		}
		p := filepath.Join(j.workspace, filepath.FromSlash(file))
		return baselineChoice{override: p + "#" + target, desc: "the results file " + file}
	}
	pr := j.ev.pullRequest()
	if src == baselineAuto && pr == nil && j.ev.EventName != eventSchedule {
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
		branch := j.ev.defaultBranch()
		if pr != nil {
			branch = pr.GetBase().GetRef()
		}
		if branch == "" {
			branch = j.ev.RefName
		}
		workflow := j.in.workflow
		if workflow == "" {
			workflow = j.ev.workflowFile()
		}
		b, err := j.api.FindBaseline(ctx, ghapi.BaselineQuery{
			Workflow: workflow, Branch: branch, Artifact: ArtifactName(s.Config.Name), Accept: acceptBaseline(ctx, s, gated),
		})
		if err == nil {
			p := filepath.Join(j.tmp, fmt.Sprintf("baseline-%d.jsonl", b.ArtifactID))
			if err := os.WriteFile(p, b.Data, 0o600); err != nil {
				return fallback("baseline artifact: %v", err)
			}
			return baselineChoice{override: p + "#" + gated,
				desc: fmt.Sprintf("%s of %s at %s (workflow run %d)", ArtifactName(s.Config.Name), branch, shortSHA(b.HeadSHA), b.RunID)}
		}
		if errors.Is(err, ghapi.ErrNoBaseline) {
			notes = append(notes, err.Error())
		} else {
			notes = append(notes, fmt.Sprintf("the baseline artifact could not be fetched: %v", err))
		}
		if pr == nil {
			return fallback("%s", notes[0])
		}
	}
	if pr == nil {
		return fallback("baseline base needs a pull request; this is a %s run", j.ev.EventName)
	}
	// Evaluate the base revision in this job.
	baseSHA := pr.GetBase().GetSHA()
	j.out.noticef(where{title: "evalgate: " + s.Config.Name}, "evaluating the base revision %s of %s as the baseline", shortSHA(baseSHA), configRel)
	c, err := j.baseRevision(ctx, s, configRel, baseSHA, gated)
	if err != nil {
		notes = append(notes, fmt.Sprintf("the base revision %s could not be evaluated: %v", shortSHA(baseSHA), err))
		c = own
		c.notes = notes
		j.out.warningf(at, "%s", notes[len(notes)-1])
		return c
	}
	c.notes = notes
	return c
}

// baseRevision evaluates the suite's gated target as it was at sha: the
// config and every file it names are read through the contents API into a
// temporary tree, and run with the head's response cache, so that unchanged
// requests cost nothing.
func (j *job) baseRevision(ctx context.Context, head *suite.Suite, configRel, sha, gated string) (baselineChoice, error) {
	raw, err := j.api.FileAt(ctx, configRel, sha)
	if err != nil {
		if errors.Is(err, ghapi.ErrNoPermission) {
			return baselineChoice{}, fmt.Errorf("the suite is not in the base revision (a new suite?): %w", err)
		}
		return baselineChoice{}, err
	}
	_, files, err := suite.Files(configRel, raw)
	if err != nil {
		return baselineChoice{}, fmt.Errorf("%s at %s: %w", configRel, shortSHA(sha), err)
	}
	root := filepath.Join(j.tmp, "base-"+shortSHA(sha)+"-"+ArtifactName(head.Config.Name))
	for _, f := range files {
		data := raw
		if f != configRel {
			if data, err = j.api.FileAt(ctx, f, sha); err != nil {
				return baselineChoice{}, err
			}
		}
		p := filepath.Join(root, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return baselineChoice{}, fmt.Errorf("base revision tree: %w", err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return baselineChoice{}, fmt.Errorf("base revision tree: %w", err)
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
	// Without the link the base is simply evaluated with a cache of its own.
	if head.CacheEnabled() && base.CacheEnabled() && base.CacheDir() != head.CacheDir() {
		if err := linkCache(head.CacheDir(), base.CacheDir()); err != nil {
			j.out.noticef(where{title: "evalgate: " + head.Config.Name + " baseline", file: configRel},
				"the base revision is evaluated with a response cache of its own: %v", err)
		}
	}
	out := filepath.Join(root, "base-results.jsonl")
	r, runErr := j.d.Runner.RunSuite(ctx, RunRequest{Config: config, Root: root, Out: out, Targets: []string{gated}, Quiet: true,
		Concurrency: j.in.concurrency, Budget: j.in.budget})
	if r == nil {
		return baselineChoice{}, runErr
	}
	evaluated := slices.ContainsFunc(r.Summary.Targets, func(t results.TargetSummary) bool { return t.ID == gated && t.Records > t.Errors })
	if !evaluated {
		return baselineChoice{}, fmt.Errorf("no record of %s was evaluated: %v", gated, runErr)
	}
	return baselineChoice{override: out + "#" + gated, desc: fmt.Sprintf("the base revision %s, evaluated in this job", shortSHA(sha))}, nil
}

// linkCache makes base a symbolic link to the head's cache directory, so the
// base revision reuses (and adds to) the head's responses.
func linkCache(head, base string) error {
	if err := os.MkdirAll(head, 0o755); err != nil {
		return fmt.Errorf("cache %s: %w", head, err)
	}
	if err := os.MkdirAll(filepath.Dir(base), 0o755); err != nil {
		return fmt.Errorf("cache %s: %w", base, err)
	}
	if err := os.RemoveAll(base); err != nil {
		return fmt.Errorf("cache %s: %w", base, err)
	}
	if err := os.Symlink(head, base); err != nil {
		return fmt.Errorf("cache %s: link to %s: %w", base, head, err)
	}
	return nil
}

// gatedTarget is the target a suite gates among all its targets
// (suite.GatedTarget); empty when the suite must name it in gate.target.
func gatedTarget(s *suite.Suite) string {
	ids := make([]string, len(s.Config.Targets))
	for i, t := range s.Config.Targets {
		ids[i] = t.ID
	}
	id, _ := s.GatedTarget(ids, s.Config.Gate.Baseline)
	return id
}

// acceptBaseline checks that a baseline results file is of this suite, was
// run on the same dataset and metrics, and holds the gated target.
func acceptBaseline(ctx context.Context, s *suite.Suite, target string) func([]byte) error {
	return func(data []byte) error {
		hash, err := s.Hash(ctx)
		if err != nil {
			return err
		}
		rd, err := results.NewReader(bytes.NewReader(data), "artifact")
		if err != nil {
			return fmt.Errorf("not a results file: %v", err)
		}
		h := rd.Header()
		rd.Close()
		switch {
		case h.Suite != s.Config.Name:
			return fmt.Errorf("suite %q, not %q", h.Suite, s.Config.Name)
		case h.SuiteHash != hash:
			return fmt.Errorf("the suite changed since (dataset or metrics differ)")
		case !slices.ContainsFunc(h.Targets, func(t results.TargetInfo) bool { return t.ID == target }):
			return fmt.Errorf("no target %q in it", target)
		}
		return nil
	}
}

// shortSHA is the 7-character form GitHub shows commits in.
func shortSHA(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}
