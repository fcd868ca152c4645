package suite

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
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

// namedFile is a file the config names: where in the config, the path as
// written, and what evalgate does with it.
type namedFile struct {
	at, path string
	use      fileUse
}

// fileUse says what evalgate does with a file a config names.
type fileUse int

const (
	// readHere: read by Load itself (dataset, prompts), which checks it.
	readHere fileUse = iota
	// readLater: read by a provider or a metric (cassettes, rubric and
	// schema files): Load checks it is a regular file.
	readLater
	// output: written (the results) or read as a run's output (a baseline).
	output
	// program: run by a command target.
	program
	// readTree: a file or a directory of files read later (optimize's
	// variants): only the root applies.
	readTree
)

// configFiles lists the files cfg names: the dataset, prompt files,
// cassettes (of targets and of judges), metrics' files (any *_file option),
// a command's program when it is a path, the results (also by default) and
// a baseline results file. The cache directory is not among them: its files
// are evalgate's own, named by hashes, and the gate links a base revision's
// cache to the workspace's on purpose.
func configFiles(cfg *Config) []namedFile {
	var files []namedFile
	add := func(at, p string, use fileUse) {
		if p != "" {
			files = append(files, namedFile{at, p, use})
		}
	}
	add("dataset.path", cfg.Dataset.Path, readHere)
	for _, name := range slices.Sorted(maps.Keys(cfg.Prompts)) {
		p := cfg.Prompts[name]
		add("prompts."+name+".system_file", p.SystemFile, readHere)
		add("prompts."+name+".user_file", p.UserFile, readHere)
	}
	for i, t := range cfg.Targets {
		add(indexPath("targets", i)+".cassette", t.Cassette, readLater)
		if t.Dataset != nil {
			add(indexPath("targets", i)+".dataset.path", t.Dataset.Path, readLater)
		}
		if len(t.Command) > 0 && strings.Contains(t.Command[0], "/") {
			add(indexPath("targets", i)+".command", t.Command[0], program)
		}
	}
	for i, m := range cfg.Metrics {
		at := indexPath("metrics", i)
		for _, k := range slices.Sorted(maps.Keys(m.Options)) {
			if v, ok := m.Options[k].(string); ok && strings.HasSuffix(k, "_file") {
				add(at+"."+k, v, readLater)
			}
		}
		if j, ok := m.Options["judge"].(map[string]any); ok {
			if v, ok := j["cassette"].(string); ok {
				add(at+".judge.cassette", v, readLater)
			}
		}
	}
	// The default results path counts too: a directory on its way may be a
	// link to elsewhere.
	add("run.results", cmp.Or(cfg.Run.Results, DefaultResults), output)
	if b := cfg.Gate.Baseline; strings.HasSuffix(b, ".jsonl") {
		add("gate.baseline", b, output)
	}
	if o := cfg.Optimize; o != nil {
		if o.Source != nil {
			add("optimize.source.csv", o.Source.CSV, readLater)
		}
		for i, f := range o.Generators.Files {
			add(indexPath("optimize.generators.files", i), f, readTree)
		}
		if m := o.Generators.Metaprompt; m != nil {
			add("optimize.generators.metaprompt.cassette", m.Cassette, readLater)
			if len(m.Command) > 0 && strings.Contains(m.Command[0], "/") {
				add("optimize.generators.metaprompt.command", m.Command[0], program)
			}
		}
		if b := o.Generators.Bedrock; b != nil {
			add("optimize.generators.bedrock.cassette", b.Cassette, readLater)
		}
		add("optimize.output", o.Output, output)
	}
	return files
}

// checkPaths refuses what reading the files the config names could not
// survive or should not do: a file that exists but is not a regular file
// (cassettes and metric files here; the dataset, prompts and results are
// checked where they are read), and, when the caller set a root, a file that
// resolves outside it: a config from a pull request must not read
// /etc/passwd into a prompt or write results over a file of the runner.
func (c *checker) checkPaths() {
	for _, f := range configFiles(c.cfg) {
		if f.use == program {
			continue
		}
		path := c.s.resolve(f.path)
		if c.root != nil {
			resolved, err := resolveExisting(path)
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
					cmp.Or(c.rootOpts.RootName, "the allowed directory"), *c.root, c.rootOpts.Hint)
				continue
			}
		}
		if f.use == readLater {
			if err := notRegular(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				c.errorf(c.at(f.at), "%s: %v", f.at, err)
			}
		}
	}
}
