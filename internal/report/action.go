package report

import (
	"fmt"
	"strings"
)

// The Markdown the GitHub Action publishes around a suite's report: the
// pull-request comment while the suite runs, the comment and step summary
// after it, the notices when it was not evaluated or could not be published.
// Everything that comes from the repository (suite names, reasons, paths) is
// escaped: a suite name is written by whoever opens the pull request.

// ActionSuite is one suite as the Action publishes it.
type ActionSuite struct {
	// Name is the suite's name (or its config path when it has none).
	Name string
	// Status is the gate's verdict, or skipped, ungated or error.
	Status string
	// Reason says why, when there is no report to say it.
	Reason string
	// Report is the suite's Markdown report (Markdown's output); empty when
	// the suite produced none.
	Report string
	// Notes say why the preferred baseline was not used.
	Notes []string
	// Baseline says what the target was compared with.
	Baseline string
	// Trend is the history of scheduled runs (TrendMarkdown's output), shown
	// under the report.
	Trend string
	// HTMLArtifact is the artifact the workflow uploads the HTML report as
	// ("" without one): the comment names it and links the run's artifacts.
	HTMLArtifact string
	// Commit is the commit evaluated; RunURL the workflow run's page.
	Commit string
	RunURL string
	// Version is evalgate's version.
	Version string
}

// actionIcons mark the statuses that have no report of their own.
var actionIcons = map[string]string{"ungated": "ℹ️", "incomplete": "⏸️", "skipped": "⏭️"}

// ActionMarkdown is a suite's comment and step summary: the report (or the
// status and its reason), the baseline notes and a footer naming the
// baseline, the commit and the run.
func ActionMarkdown(s ActionSuite) string {
	md := actionMarkdown(s)
	if s.Trend != "" && len(md) > GitHubCommentLimit-markerRoom {
		// The report was fitted to the limit on its own; the trend comes
		// second, and the HTML report draws it too.
		s.Trend = "_The trend of the scheduled runs is left out to fit GitHub's comment limit; the HTML report draws it._\n"
		md = actionMarkdown(s)
	}
	return md
}

// markerRoom is what the publisher puts before the Markdown: the hidden
// marker and commit lines of a comment or issue.
const markerRoom = 200

func actionMarkdown(s ActionSuite) string {
	var b strings.Builder
	if s.Report != "" {
		b.WriteString(strings.TrimRight(s.Report, "\n"))
		b.WriteString("\n")
	} else {
		icon := actionIcons[s.Status]
		if icon == "" {
			icon = "🛑"
		}
		fmt.Fprintf(&b, "## %s evalgate: %s: %s\n\n%s\n", icon, Inline(s.Name), Inline(s.Status), Inline(s.Reason))
	}
	b.WriteString("\n")
	if len(s.Notes) > 0 {
		b.WriteString("> [!NOTE]\n")
		for _, n := range s.Notes {
			b.WriteString("> " + Inline(n) + "\n")
		}
		b.WriteString("\n")
	}
	if s.Trend != "" {
		b.WriteString(strings.TrimRight(s.Trend, "\n") + "\n\n")
	}
	if s.HTMLArtifact != "" && s.RunURL != "" {
		// A container action cannot upload artifacts itself: the workflow's
		// actions/upload-artifact step does, from the html-path output.
		fmt.Fprintf(&b, "📊 The HTML report (charts, every sample with both answers) is the artifact **%s** of the [workflow run](%s#artifacts), when the workflow uploads it.\n\n",
			Inline(s.HTMLArtifact), s.RunURL)
	}
	var foot []string
	if s.Baseline != "" {
		foot = append(foot, "Baseline: "+Inline(s.Baseline))
	}
	if s.Commit != "" {
		foot = append(foot, "commit "+Inline(shortSHA(s.Commit)))
	}
	if s.RunURL != "" {
		foot = append(foot, fmt.Sprintf("[workflow run](%s)", s.RunURL))
	}
	foot = append(foot, "evalgate "+Inline(s.Version))
	b.WriteString("<sub>" + strings.Join(foot, " · ") + "</sub>\n")
	return b.String()
}

// ActionPlaceholder is the pull-request comment while a suite is evaluated.
func ActionPlaceholder(name, commit, runURL string) string {
	of := ""
	if commit != "" {
		of = " of " + Inline(shortSHA(commit))
	}
	run := ""
	if runURL != "" {
		run = fmt.Sprintf(" ([workflow run](%s))", runURL)
	}
	return fmt.Sprintf("## ⏳ evalgate: %s\n\nEvaluating the changes%s... This comment is updated when the run finishes%s.\n", Inline(name), of, run)
}

// ActionStale replaces a suite's earlier comment when the pull request no
// longer changes any of the suite's files: the earlier verdict is kept, folded,
// under a heading that says which commit it is for, so that the comment never
// contradicts the latest (green) check.
func ActionStale(name, head, earlier, earlierReport, runURL string) string {
	was := "an earlier commit"
	if earlier != "" {
		was = "commit " + Inline(shortSHA(earlier))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "## ⏭️ evalgate: %s: not evaluated at %s\n\n", Inline(name), Inline(shortSHA(head)))
	fmt.Fprintf(&b, "At %s this pull request no longer changes any of the suite's files, so the suite was not evaluated again and does not decide the check. "+
		"The report below is for %s and no longer describes this pull request. Set the action's `force` input to evaluate every suite on every push.\n\n", Inline(shortSHA(head)), was)
	if earlierReport != "" {
		fmt.Fprintf(&b, "<details><summary>Earlier report (%s)</summary>\n\n%s\n%s\n%s\n\n</details>\n\n", was, earlierStart, strings.TrimRight(earlierReport, "\n"), earlierEnd)
	}
	if runURL != "" {
		fmt.Fprintf(&b, "<sub>[workflow run](%s)</sub>\n", runURL)
	}
	return b.String()
}

// earlierStart and earlierEnd fence the earlier report in a stale comment,
// so that a later stale run keeps it rather than folding the notice itself.
const (
	earlierStart = "<!-- evalgate:earlier -->"
	earlierEnd   = "<!-- /evalgate:earlier -->"
)

// EarlierReport returns the earlier report folded in a comment ActionStale
// wrote, and whether there is one.
func EarlierReport(comment string) (string, bool) {
	_, rest, ok := strings.Cut(comment, earlierStart+"\n")
	if !ok {
		return "", false
	}
	inner, _, ok := strings.Cut(rest, "\n"+earlierEnd)
	return inner, ok
}

// ActionProblems heads the step summary with what could not be published,
// so that a missing pull-request comment is seen where the report is.
func ActionProblems(problems []string) string {
	if len(problems) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("> [!CAUTION]\n> **evalgate could not publish on the pull request**; the report is only in this summary.\n")
	for _, p := range problems {
		b.WriteString("> - " + Inline(p) + "\n")
	}
	return b.String() + "\n"
}

// ActionFatal is the step summary of a run that stopped before any suite ran
// (a wrong input, an unusable event).
func ActionFatal(msg string) string {
	return fmt.Sprintf("## 🛑 evalgate: error\n\n%s\n", Inline(msg))
}

// ActionIssueClosed is the comment that closes a suite's tracking issue.
func ActionIssueClosed(name, runURL string) string {
	in := "the scheduled run"
	if runURL != "" {
		in = fmt.Sprintf("the [scheduled run](%s)", runURL)
	}
	return fmt.Sprintf("Suite %s passes again in %s; closing.\n", Inline(name), in)
}

// shortSHA is the 7-character form GitHub shows commits in.
func shortSHA(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}
