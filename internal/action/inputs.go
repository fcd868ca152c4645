package action

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/sethvargo/go-githubactions"

	"github.com/evalgate/evalgate/internal/spelling"
	"github.com/evalgate/evalgate/internal/suite"
)

// Input is one input of the action (action.yml) and the default the code
// applies when the runner passes none. The defaults are the code's, not
// only action.yml's, because a `docker://` step runs the image without
// action.yml: none of its defaults apply there.
//
// https://docs.github.com/actions/reference/workflows-and-actions/metadata-syntax#inputs
type Input struct {
	Name    string
	Default string
}

// Inputs are every input the action reads; action.yml declares the same
// (a test holds them together).
var Inputs = []Input{
	{"config", "evalgate.yaml"},
	{"github-token", ""}, // action.yml: ${{ github.token }}
	{"baseline", baselineAuto},
	{"baseline-workflow", ""},
	{"mode", ""},
	{"comment", "true"},
	{"issue", "true"},
	{"force", "false"},
	{"budget", ""},
	{"concurrency", ""},
	{"sequential", ""},
	{"fail-on", failOnRegressed},
}

// Outputs are every output the action writes; action.yml declares the same.
//
// https://docs.github.com/actions/reference/workflows-and-actions/metadata-syntax#outputs-for-docker-container-and-javascript-actions
var Outputs = []string{"verdict", "verdicts", "results-path", "report-path", "comment-url", "artifact-name", "html-path", "html-artifact", "history-path", "history-artifact"}

// Baseline sources of the baseline input.
const (
	baselineAuto     = "auto"     // PR: artifact, else base revision; schedule: artifact; else: suite
	baselineArtifact = "artifact" // the base branch's results artifact, else the base revision
	baselineBase     = "base"     // evaluate the base revision in this job
	baselineSuite    = "suite"    // the suite's own gate.baseline
)

// Values of the fail-on input: one level, and publish.
const (
	failOnRegressed    = "regressed"    // fail on a regression, an error or an incomplete run
	failOnInconclusive = "inconclusive" // also fail on an inconclusive verdict
	failOnError        = "error"        // report regressions, fail only on errors and incomplete runs
	failOnPublish      = "publish"      // also fail when the report could not be put on the pull request
)

// inputs are the action's inputs, checked.
type inputs struct {
	configs     []string
	token       string
	baseline    string
	workflow    string
	mode        string
	comment     bool
	issue       bool
	force       bool
	budget      float64
	concurrency int
	// sequential is "true" or "false" to override run.sequential, ""
	// to keep the suite's.
	sequential string
	failOn     string
	// failOnPublish adds publish failures to what fails the step.
	failOnPublish bool
}

// input returns the input's value, or its default.
func input(a *githubactions.Action, name string) string {
	if v := a.GetInput(name); v != "" {
		return v
	}
	for _, in := range Inputs {
		if in.Name == name {
			return in.Default
		}
	}
	return ""
}

// splitList splits a list input written one per line or comma-separated.
func splitList(v string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == '\n' || r == ',' }) {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// readInputs reads and checks the inputs; every mistake is reported at once
// and says what to write.
func readInputs(a *githubactions.Action) (inputs, error) {
	in := inputs{
		configs:  splitList(input(a, "config")),
		token:    input(a, "github-token"),
		baseline: input(a, "baseline"),
		workflow: input(a, "baseline-workflow"),
		mode:     input(a, "mode"),
		failOn:   failOnRegressed,
	}
	var errs []string
	boolean := func(name string) bool {
		v := input(a, name)
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Sprintf("input %s: %q is not a boolean; write true or false", name, v))
		}
		return b
	}
	in.comment = boolean("comment")
	in.issue = boolean("issue")
	in.force = boolean("force")
	switch in.baseline {
	case baselineAuto, baselineArtifact, baselineBase, baselineSuite:
	default:
		if file, _, _ := strings.Cut(in.baseline, "#"); !strings.HasSuffix(file, ".jsonl") {
			errs = append(errs, fmt.Sprintf("input baseline: %q: want auto, artifact, base, suite or a results file (.jsonl)", in.baseline))
		}
	}
	if _, err := suite.ParseMode(in.mode); err != nil {
		errs = append(errs, fmt.Sprintf("input mode: %v%s", err, didYouMean(in.mode, suite.Modes)))
	}
	levels := 0
	for _, v := range splitList(strings.ReplaceAll(input(a, "fail-on"), " ", ",")) {
		switch v {
		case failOnRegressed, failOnInconclusive, failOnError:
			in.failOn = v
			levels++
		case failOnPublish:
			in.failOnPublish = true
		default:
			errs = append(errs, fmt.Sprintf("input fail-on: %q: want regressed, inconclusive or error, optionally with publish (e.g. \"regressed, publish\")", v))
		}
	}
	if levels > 1 {
		errs = append(errs, fmt.Sprintf("input fail-on: %q names more than one of regressed, inconclusive and error; keep one", input(a, "fail-on")))
	}
	if v := input(a, "budget"); v != "" {
		b, err := strconv.ParseFloat(strings.TrimPrefix(v, "$"), 64)
		if err != nil || b < 0 {
			errs = append(errs, fmt.Sprintf("input budget: %q: want an amount in USD such as 5 or 2.50", v))
		}
		in.budget = b
	}
	if v := input(a, "concurrency"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			errs = append(errs, fmt.Sprintf("input concurrency: %q: want a whole number of calls >= 1", v))
		}
		in.concurrency = n
	}
	switch v := strings.TrimSpace(input(a, "sequential")); v {
	case "", "true", "false":
		in.sequential = v
	default:
		errs = append(errs, fmt.Sprintf("input sequential: %q: write true or false, or leave it empty for the suite's run.sequential", v))
	}
	if len(in.configs) == 0 {
		errs = append(errs, "input config: empty; give the suite config (evalgate.yaml), several, or a glob")
	}
	if len(errs) > 0 {
		return in, usage(fmt.Errorf("%s", strings.Join(errs, "; ")))
	}
	return in, nil
}

// didYouMean returns ", did you mean X?" for the closest name, or "".
func didYouMean(s string, names []string) string {
	if best := spelling.Closest(s, names); best != "" {
		return fmt.Sprintf(", did you mean %q?", best)
	}
	return ""
}
