package action

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// workflow is the part of a GitHub Actions workflow file the checks read.
//
// https://docs.github.com/actions/reference/workflows-and-actions/workflow-syntax
type workflow struct {
	Name        string            `yaml:"name"`
	On          map[string]any    `yaml:"on"`
	Permissions map[string]string `yaml:"permissions"`
	Jobs        map[string]struct {
		Needs    any `yaml:"needs"`
		Strategy struct {
			Matrix map[string]any `yaml:"matrix"`
		} `yaml:"strategy"`
		Steps []workflowStep `yaml:"steps"`
	} `yaml:"jobs"`
}

type workflowStep struct {
	ID   string            `yaml:"id"`
	If   string            `yaml:"if"`
	Uses string            `yaml:"uses"`
	Run  string            `yaml:"run"`
	With map[string]string `yaml:"with"`
}

func (s workflowStep) isEvalgate() bool {
	return strings.HasPrefix(s.Uses, "evalgate/evalgate@") || strings.HasPrefix(s.Uses, "docker://ghcr.io/evalgate/evalgate")
}

var outputRef = regexp.MustCompile(`steps\.([\w-]+)\.outputs\.([\w-]+)`)

// checkWorkflow returns what is wrong with a workflow that uses the action:
// inputs it does not have, outputs it does not write, and an artifact upload
// fed by a step that gates more than one suite (upload-artifact takes one
// name per step, so a newline-joined artifact-name breaks it).
func checkWorkflow(w workflow) []string {
	var problems []string
	declared := func(name string) bool {
		return slices.ContainsFunc(Inputs, func(in Input) bool { return in.Name == name })
	}
	for jobName, job := range w.Jobs {
		steps := map[string]workflowStep{}
		for _, s := range job.Steps {
			if s.ID != "" {
				steps[s.ID] = s
			}
			if !s.isEvalgate() {
				continue
			}
			for k := range s.With {
				if !declared(k) && !(k == "args" && strings.HasPrefix(s.Uses, "docker://")) {
					problems = append(problems, fmt.Sprintf("job %s: input %q is not an input of the action", jobName, k))
				}
			}
		}
		for _, s := range job.Steps {
			texts := []string{s.If, s.Run}
			for _, v := range s.With {
				texts = append(texts, v)
			}
			for _, m := range outputRef.FindAllStringSubmatch(strings.Join(texts, "\n"), -1) {
				src, ok := steps[m[1]]
				if !ok || !src.isEvalgate() {
					continue
				}
				if !slices.Contains(Outputs, m[2]) {
					problems = append(problems, fmt.Sprintf("job %s: output %q is not an output of the action", jobName, m[2]))
				}
				if strings.HasPrefix(s.Uses, "actions/upload-artifact@") && !singleSuite(src.With["config"], job.Strategy.Matrix) {
					problems = append(problems, fmt.Sprintf("job %s: the artifact upload takes step %s's outputs, but that step may gate several suites (config %q): run one suite per job (a matrix)", jobName, m[1], src.With["config"]))
				}
			}
		}
	}
	return problems
}

// singleSuite reports whether a config input names exactly one suite: one
// path without glob characters, or a matrix variable each of whose values is
// such a path.
func singleSuite(config string, matrix map[string]any) bool {
	one := func(p string) bool {
		return p != "" && !strings.ContainsAny(p, "*?[,\n")
	}
	if config == "" {
		config = "evalgate.yaml"
	}
	if m := regexp.MustCompile(`^\$\{\{\s*matrix\.([\w-]+)\s*\}\}$`).FindStringSubmatch(config); m != nil {
		values, ok := matrix[m[1]].([]any)
		if !ok || len(values) == 0 {
			return false
		}
		for _, v := range values {
			if s, ok := v.(string); !ok || !one(s) {
				return false
			}
		}
		return true
	}
	return !strings.Contains(config, "${{") && one(config)
}

func readWorkflows(t *testing.T) map[string]workflow {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("..", "..", "docs", "workflows", "*.yml"))
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	out := map[string]workflow{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		var w workflow
		require.NoError(t, yaml.Unmarshal(b, &w), p)
		out[filepath.Base(p)] = w
	}
	return out
}

// Fault 3i: the artifact-upload recipe broke with more than one suite. Every
// workflow in docs/ is parsed and checked against the action's inputs and
// outputs.
func TestDocWorkflowsUseTheActionAsDeclared(t *testing.T) {
	t.Parallel()
	for name, w := range readWorkflows(t) {
		assert.Empty(t, checkWorkflow(w), name)
	}
}

// The check catches the recipe that broke: one step gating a glob of suites
// feeding upload-artifact.
func TestCheckWorkflowCatchesAMultiSuiteUpload(t *testing.T) {
	t.Parallel()
	var w workflow
	require.NoError(t, yaml.Unmarshal([]byte(`
jobs:
  gate:
    steps:
      - id: evalgate
        uses: evalgate/evalgate@v1
        with: {config: "evals/*/evalgate.yaml", colour: blue}
      - uses: actions/upload-artifact@v4
        with:
          name: ${{ steps.evalgate.outputs.artifact-name }}
          path: ${{ steps.evalgate.outputs.results-paths }}
`), &w))
	problems := strings.Join(checkWorkflow(w), "\n")
	assert.Contains(t, problems, `input "colour" is not an input of the action`)
	assert.Contains(t, problems, `output "results-paths" is not an output of the action`)
	assert.Contains(t, problems, `may gate several suites (config "evals/*/evalgate.yaml")`)

	assert.True(t, singleSuite("${{ matrix.config }}", map[string]any{"config": []any{"a/evalgate.yaml", "b/evalgate.yaml"}}))
	assert.False(t, singleSuite("${{ matrix.config }}", map[string]any{"config": []any{"a/*.yaml"}}))
	assert.False(t, singleSuite("a.yaml, b.yaml", nil))
	assert.True(t, singleSuite("", nil), "the default, evalgate.yaml")
}

// Each documented workflow grants what its use of the action needs, and the
// release gate blocks the job after it.
func TestDocWorkflowsPermissionsAndReleaseGate(t *testing.T) {
	t.Parallel()
	ws := readWorkflows(t)
	pr := ws["pr-gate.yml"]
	assert.Equal(t, "write", pr.Permissions["pull-requests"], "the sticky comment")
	assert.Equal(t, "read", pr.Permissions["actions"], "the base branch's artifact")
	nightly := ws["nightly-drift.yml"]
	assert.Equal(t, "write", nightly.Permissions["issues"], "the tracking issue")
	assert.Equal(t, "read", nightly.Permissions["actions"])

	release := ws["release-gate.yml"]
	assert.Contains(t, release.On, "release")
	assert.Contains(t, release.On, "push", "a version tag")
	assert.Equal(t, "read", release.Permissions["actions"], "the production artifact")
	step := evalgateStep(t, release, "gate")
	assert.Equal(t, "non_inferiority", step.With["mode"])
	assert.Equal(t, "artifact", step.With["baseline"])
	assert.Equal(t, "inconclusive", step.With["fail-on"])
	assert.Equal(t, "gate", release.Jobs["deploy"].Needs, "the deploy job waits for the gate")
}

// evalgateStep is the action's step in a job of w.
func evalgateStep(t *testing.T, w workflow, job string) workflowStep {
	t.Helper()
	for _, s := range w.Jobs[job].Steps {
		if s.isEvalgate() {
			return s
		}
	}
	t.Fatalf("job %s has no evalgate step", job)
	return workflowStep{}
}
