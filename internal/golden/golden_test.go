package golden

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPath(t *testing.T) {
	t.Parallel()
	assert.Equal(t, filepath.Join("testdata", "TestPath.golden"), Path(t))
	t.Run("sub/case", func(t *testing.T) {
		t.Parallel()
		assert.Equal(t, filepath.Join("testdata", "TestPath_sub_case.golden"), Path(t))
	})
}

// TestAssertReportsAMismatch runs Assert against a file that differs and
// checks that the test it was given fails (a recording TB stands in).
func TestAssertReportsAMismatch(t *testing.T) {
	t.Chdir(t.TempDir())
	require.NoError(t, os.MkdirAll("testdata", 0o755))
	rec := &recorder{TB: t, name: "TestX"}
	require.NoError(t, os.WriteFile(Path(rec), []byte("want\n"), 0o644))

	Assert(rec, "want\n")
	assert.False(t, rec.failed, "equal output passes")
	Assert(rec, "got\n")
	assert.True(t, rec.failed, "different output fails")
}

type recorder struct {
	testing.TB
	name   string
	failed bool
}

func (r *recorder) Name() string          { return r.name }
func (r *recorder) Helper()               {}
func (r *recorder) Errorf(string, ...any) { r.failed = true }
func (r *recorder) FailNow()              { r.failed = true }
