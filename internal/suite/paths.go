package suite

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// notRegular returns why the file at path cannot be read as a file: a named
// pipe waits forever for a writer, a device such as /dev/zero never ends,
// and a directory holds no data. It returns nil for a regular file (symlinks
// followed) and the stat error when there is none.
func notRegular(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if fi.Mode().IsRegular() {
		return nil
	}
	what := "not a regular file"
	switch t := fi.Mode().Type(); {
	case t&fs.ModeDir != 0:
		what = "a directory"
	case t&fs.ModeNamedPipe != 0:
		what = "a named pipe (FIFO)"
	case t&fs.ModeDevice != 0:
		what = "a device"
	case t&fs.ModeSocket != 0:
		what = "a socket"
	}
	return fmt.Errorf("%s is %s, not a regular file; save the content to a file and name that", path, what)
}

// ctxReader is a reader that fails once ctx ends, so that hashing a large
// dataset stops on a signal.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// resolveExisting returns the absolute form of path with every symlink
// resolved, as the system would when opening it. The part of path that does
// not exist yet (a results file to create) is joined to its deepest existing
// directory, resolved.
func resolveExisting(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	var missing []string
	for p := abs; ; {
		r, err := filepath.EvalSymlinks(p)
		if err == nil {
			return filepath.Join(append([]string{r}, missing...)...), nil
		}
		parent := filepath.Dir(p)
		if !errors.Is(err, fs.ErrNotExist) || parent == p {
			return "", err
		}
		missing = append([]string{filepath.Base(p)}, missing...)
		p = parent
	}
}

// inside reports whether the resolved path lies in the resolved root.
func inside(root, path string) bool {
	rel, err := filepath.Rel(root, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// checkPaths refuses, when the caller set a root, every file the suite
// names that resolves outside it: a config from a pull request must not read
// /etc/passwd into a prompt or write results over a file of the runner. The
// files: the dataset, prompt files, cassettes, metrics' files and
// cassettes, the results and a baseline results file.
func (c *checker) checkPaths() {
	if c.root == nil {
		return
	}
	type named struct{ at, path string }
	var files []named
	add := func(at, p string) {
		if p != "" {
			files = append(files, named{at, p})
		}
	}
	add("dataset.path", c.cfg.Dataset.Path)
	for _, name := range slices.Sorted(mapsKeys(c.cfg.Prompts)) {
		p := c.cfg.Prompts[name]
		add("prompts."+name+".system_file", p.SystemFile)
		add("prompts."+name+".user_file", p.UserFile)
	}
	for i, t := range c.cfg.Targets {
		add(indexPath("targets", i)+".cassette", t.Cassette)
	}
	for i, m := range c.cfg.Metrics {
		for _, k := range slices.Sorted(mapsKeys(m.Options)) {
			if v, ok := m.Options[k].(string); ok && (k == "cassette" || strings.HasSuffix(k, "_file")) {
				add(indexPath("metrics", i)+"."+k, v)
			}
		}
	}
	// The cache directory is not checked: its files are evalgate's own,
	// named by hashes, and the gate links a base revision's cache to the
	// workspace's on purpose.
	add("run.results", c.cfg.Run.Results)
	if b := c.cfg.Gate.Baseline; strings.HasSuffix(b, ".jsonl") {
		file, _, _ := strings.Cut(b, "#")
		add("gate.baseline", file)
	}
	for _, f := range files {
		resolved, err := resolveExisting(c.s.resolve(f.path))
		if err != nil {
			c.errorf(c.at(f.at), "%s %s: %v", f.at, f.path, err)
			continue
		}
		if !inside(*c.root, resolved) {
			if c.refused == nil {
				c.refused = map[string]bool{}
			}
			c.refused[f.at] = true
			c.errorf(c.at(f.at), "%s %s resolves to %s, outside %s (%s)%s", f.at, f.path, resolved,
				orDefault(c.rootOpts.RootName, "the allowed directory"), *c.root, c.rootOpts.Hint)
		}
	}
}
