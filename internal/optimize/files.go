package optimize

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/evalgate/evalgate/internal/provider"
)

// Files is the generator of variants written by hand: each .txt file is the
// user part of one candidate, in evalgate's {{column}} syntax; a sibling
// NAME.system.txt, when present, is its system part. A directory stands for
// the .txt files in it.
type Files struct {
	// Paths are files or directories, already resolved.
	Paths []string
}

// Name is the generator's name.
func (Files) Name() string { return GenFiles }

// Generate reads the variants, in the order given (a directory's files by name).
func (g Files) Generate(_ context.Context, _ *Source, params provider.Params) ([]Candidate, error) {
	var files []string
	for _, p := range g.Paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("prompt variants: %w", err)
		}
		if !fi.IsDir() {
			files = append(files, p)
			continue
		}
		matches, err := filepath.Glob(filepath.Join(p, "*.txt"))
		if err != nil {
			return nil, fmt.Errorf("prompt variants %s: %w", p, err)
		}
		n := 0
		for _, m := range matches {
			if !strings.HasSuffix(m, ".system.txt") {
				files = append(files, m)
				n++
			}
		}
		if n == 0 {
			return nil, fmt.Errorf("prompt variants: directory %s has no .txt file", p)
		}
	}
	var out []Candidate
	seen := map[string]string{}
	for _, f := range files {
		user, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("prompt variant: %w", err)
		}
		c := Candidate{ID: "file-" + idPart(f), Generator: GenFiles, User: string(user), Params: cloneParams(params), Notes: []string{"from " + f}}
		if prev, dup := seen[c.ID]; dup {
			return nil, fmt.Errorf("prompt variants %s and %s have the same name; rename one", prev, f)
		}
		seen[c.ID] = f
		sysPath := strings.TrimSuffix(f, filepath.Ext(f)) + ".system.txt"
		if sys, err := os.ReadFile(sysPath); err == nil {
			c.System = string(sys)
			c.Notes = append(c.Notes, "system part from "+sysPath)
		}
		out = append(out, c)
	}
	return out, nil
}

// idPart makes a file name usable in a target id (letters, digits, '_', '-', '.').
func idPart(path string) string {
	base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	return strings.Map(func(r rune) rune {
		if r == '_' || r == '-' || r == '.' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, base)
}
