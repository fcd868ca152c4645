package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// TestGateHelpListsEveryInput keeps `gate --help` in step with action.yml.
func TestGateHelpListsEveryInput(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("..", "..", "action.yml"))
	require.NoError(t, err)
	var action struct {
		Inputs map[string]any `yaml:"inputs"`
	}
	require.NoError(t, yaml.Unmarshal(b, &action))
	require.NotEmpty(t, action.Inputs)
	code, stdout, _ := invoke(t, context.Background(), "gate", "--help")
	require.Equal(t, ExitPass, code)
	for name := range action.Inputs {
		assert.Contains(t, stdout, "INPUT_"+strings.ToUpper(name)+" ", "gate --help lists input %s", name)
	}
	assert.Contains(t, stdout, "Flags:\n  none\n")
	assert.Contains(t, stdout, "GITHUB_EVENT_PATH")
}

// TestCompareClusterEmptyTurnsClusteringOff: the bundled example clusters by
// doc_id; --cluster "" compares the samples as independent.
func TestCompareClusterEmptyTurnsClusteringOff(t *testing.T) {
	t.Parallel()
	dir, out := exampleRun(t)
	cfg := filepath.Join(dir, "evalgate.yaml")
	args := []string{"compare", "--baseline", out + "#source", "--target", out + "#nova-lite", "--config", cfg}
	code, stdout, stderr := invoke(t, context.Background(), args...)
	require.Equal(t, ExitPass, code, stderr)
	assert.Contains(t, stdout, "clustered by doc\\_id")
	code, stdout, stderr = invoke(t, context.Background(), append(args, "--cluster", "")...)
	require.Equal(t, ExitPass, code, stderr)
	assert.NotContains(t, stdout, "clustered by")
}
