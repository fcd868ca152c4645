// Package golden compares what a test renders with a reviewed file,
// testdata/<TestName>.golden, rewritten with `go test ./internal/xyz -update`
// and reviewed in the diff. Only tests import it.
package golden

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite testdata/<TestName>.golden from the output")

// Path is the golden file of t: testdata/<TestName>.golden, a subtest's
// slashes written as underscores.
func Path(t testing.TB) string {
	return filepath.Join("testdata", strings.ReplaceAll(t.Name(), "/", "_")+".golden")
}

// Assert compares got with t's golden file, first rewriting the file when
// the test runs with -update.
func Assert(t testing.TB, got string) {
	t.Helper()
	path := Path(t)
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "%s: run the test with -update to create it", path)
	assert.Equal(t, string(want), got, "%s differs: review the change and run the test with -update", path)
}
