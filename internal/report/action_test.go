package report

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/evalgate/evalgate/internal/golden"
)

const (
	testRunURL = "https://github.com/nimbus-drive/support-bot/actions/runs/777"
	testHead   = "3b7e1f0a2c4d6e8f0a1b3c5d7e9f1a3b5c7d9e1f"
	testEarly  = "9f1c2d3e4b5a69788796a5b4c3d2e1f0a9b8c7d6"
)

func TestActionMarkdown(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		s    ActionSuite
	}{
		{"report", ActionSuite{Name: "support-answers", Status: "regressed", Report: "## ❌ support-answers: regressed\n\nthe report\n\n",
			Baseline: "evalgate-results-support-answers of main at 9f1c2d3 (workflow run 555)", Commit: testHead, RunURL: testRunURL, Version: "v1.2.3"}},
		{"ungated", ActionSuite{Name: "support-answers", Status: "ungated", Reason: "the suite names no baseline (gate.baseline) and none was found",
			Notes: []string{`no artifact "evalgate-results-support-answers" in the last 30 successful runs`}, Baseline: "the suite's gate.baseline", Commit: testHead, Version: "dev"}},
		{"error", ActionSuite{Name: "evals/a.yaml", Status: "error", Reason: "evals/a.yaml:3:1: unknown key 'nmae'", Version: "dev"}},
		{"hostile", ActionSuite{Name: hostile, Status: "incomplete", Reason: hostile, Notes: []string{hostile}, Baseline: hostile, Version: "dev"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			md := ActionMarkdown(tt.s)
			golden.Assert(t, md)
			if tt.name == "hostile" {
				assertSafe(t, md)
			}
		})
	}
}

func TestActionPlaceholder(t *testing.T) {
	t.Parallel()
	golden.Assert(t, ActionPlaceholder("support-answers", testHead, testRunURL))
}

func TestActionStale(t *testing.T) {
	t.Parallel()
	md := ActionStale("support-answers", "5c5c5c5c5c5c5c5c", testEarly, "## ❌ support-answers: regressed\n\nthe report\n", testRunURL)
	golden.Assert(t, md)
	earlier, ok := EarlierReport("<!-- marker -->\n" + md)
	assert.True(t, ok)
	assert.Equal(t, "## ❌ support-answers: regressed\n\nthe report", earlier)
	_, ok = EarlierReport("## ❌ support-answers: regressed\n")
	assert.False(t, ok)

	// Without the earlier commit (a comment from an older evalgate).
	assert.Contains(t, ActionStale("s", testHead, "", "", ""), "The report below is for an earlier commit")
}

func TestActionProblems(t *testing.T) {
	t.Parallel()
	assert.Empty(t, ActionProblems(nil))
	golden.Assert(t, ActionProblems([]string{"no github-token: the reports cannot be posted on the pull request", "github: comment on #42: 403 Forbidden: Resource not accessible by integration"}))
}

func TestActionFatalAndIssueClosed(t *testing.T) {
	t.Parallel()
	golden.Assert(t, ActionFatal(`input mode: "x": want regression or non_inferiority`)+"\n"+ActionIssueClosed("support-answers", testRunURL))
	assert.Equal(t, "Suite s passes again in the scheduled run; closing.\n", ActionIssueClosed("s", ""))
	assertSafe(t, ActionFatal(hostile))
	assert.False(t, strings.Contains(ActionIssueClosed(hostile, ""), "@octocat"))
}
