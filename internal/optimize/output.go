package optimize

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/evalgate/evalgate/internal/provider"
	"github.com/evalgate/evalgate/internal/suite"
)

// WriteWinner writes the winning prompt next to the suite
// (optimize.output, default prompts/<target>.optimized.txt, and
// .system.txt beside it for a system part) and puts the config snippet that
// uses it in the report. It writes only when the held-out verdict passes
// (exit 0), and replaces an existing file only with overwrite; otherwise the
// report's PromptNote says why nothing was written.
func WriteWinner(s *suite.Suite, p *Prepared, rep *Report, overwrite bool) {
	if rep.Winner == nil || rep.Verdict == nil {
		return
	}
	if !rep.Verdict.Passes() {
		rep.PromptNote = "the winner did not pass the held-out gate"
		return
	}
	rel := p.Config.Output
	if rel == "" {
		rel = filepath.Join("prompts", p.Target.ID+".optimized.txt")
	}
	sysRel := strings.TrimSuffix(rel, filepath.Ext(rel)) + ".system.txt"
	// Written byte for byte: a prompt file is read as it is, and a trailing
	// newline would make a different prompt from the one that won.
	files := map[string]string{s.ResolvePath(rel): rep.Winner.User}
	if rep.Winner.System != "" {
		files[s.ResolvePath(sysRel)] = rep.Winner.System
	}
	paths := slices.Sorted(maps.Keys(files))
	if !overwrite {
		for _, path := range paths {
			if _, err := os.Stat(path); err == nil {
				rep.PromptNote = path + " exists; rerun with --write to replace it"
				return
			}
		}
	}
	for _, path := range paths {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			rep.PromptNote = fmt.Sprintf("write %s: %v", path, err)
			return
		}
		if err := os.WriteFile(path, []byte(files[path]), 0o644); err != nil {
			rep.PromptNote = fmt.Sprintf("write %s: %v", path, err)
			return
		}
	}
	rep.PromptPath = s.ResolvePath(rel)
	rep.Snippet = Snippet(p.Target.ID, rep.Winner, rel, sysRel)
}

// Snippet is the evalgate.yaml change that uses the winning prompt.
func Snippet(target string, w *Candidate, userRel, sysRel string) string {
	name := target + "-optimized"
	var b strings.Builder
	fmt.Fprintf(&b, "prompts:\n  %s:\n", name)
	if w.System != "" {
		fmt.Fprintf(&b, "    system_file: %s\n", filepath.ToSlash(sysRel))
	}
	fmt.Fprintf(&b, "    user_file: %s\ntargets:\n  - id: %s\n    # provider, model and the rest as before\n    prompt: %s\n", filepath.ToSlash(userRel), target, name)
	var p strings.Builder
	enc := yaml.NewEncoder(&p)
	enc.SetIndent(2)
	if err := enc.Encode(map[string]provider.Params{"params": w.Params}); err == nil && p.String() != "params: {}\n" {
		for _, line := range strings.Split(strings.TrimRight(p.String(), "\n"), "\n") {
			b.WriteString("    " + line + "\n")
		}
	}
	return b.String()
}

// WriteReport writes report.md and report.json into dir.
func WriteReport(dir string, rep *Report) (mdPath, jsonPath string, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", fmt.Errorf("optimize report: %w", err)
	}
	js, err := rep.JSON()
	if err != nil {
		return "", "", err
	}
	mdPath, jsonPath = filepath.Join(dir, "report.md"), filepath.Join(dir, "report.json")
	if err := os.WriteFile(jsonPath, js, 0o644); err != nil {
		return "", "", fmt.Errorf("optimize report: %w", err)
	}
	if err := os.WriteFile(mdPath, []byte(rep.Markdown()), 0o644); err != nil {
		return "", "", fmt.Errorf("optimize report: %w", err)
	}
	return mdPath, jsonPath, nil
}
