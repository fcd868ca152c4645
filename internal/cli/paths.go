package cli

import (
	"context"
	"os"
	"path/filepath"

	"github.com/evalgate/evalgate/internal/suite"
)

// loadSuite loads the suite at config, refusing the files it names that
// lie outside where this run may read and write (issue: a config from a pull
// request pointing its dataset at ../../etc/passwd):
//   - root, when the caller knows it (the gate's base revision, checked out
//     in a temporary directory);
//   - else, without --allow-outside, the workspace in GitHub Actions
//     (GITHUB_WORKSPACE), or the git work tree holding the config on the
//     command line (no check outside a git work tree).
func loadSuite(ctx context.Context, e *Env, config, root string, allowOutside bool) (*suite.Suite, error) {
	return suite.LoadContext(ctx, config, loadOptions(e, config, root, allowOutside))
}

func loadOptions(e *Env, config, root string, allowOutside bool) suite.LoadOptions {
	switch {
	case root != "":
		return suite.LoadOptions{Root: root, RootName: "the checkout of the revision evaluated"}
	case allowOutside:
		return suite.LoadOptions{}
	case e.Getenv("GITHUB_WORKSPACE") != "":
		return suite.LoadOptions{Root: e.Getenv("GITHUB_WORKSPACE"), RootName: "the workspace (GITHUB_WORKSPACE)",
			Hint: "; in GitHub Actions a suite reads and writes only files of the checked-out repository"}
	}
	if wt := gitWorkTree(config); wt != "" {
		return suite.LoadOptions{Root: wt, RootName: "the git work tree holding the config",
			Hint: "; move the file into the repository, or pass --allow-outside if you trust this config"}
	}
	return suite.LoadOptions{}
}

// gitWorkTree returns the top of the git work tree that holds file: the
// nearest directory above it with a .git entry (a directory, or a file in a
// linked work tree or submodule), or "" when there is none.
func gitWorkTree(file string) string {
	abs, err := filepath.Abs(file)
	if err != nil {
		return ""
	}
	for dir := filepath.Dir(abs); ; {
		if _, err := os.Lstat(filepath.Join(dir, ".git")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}
