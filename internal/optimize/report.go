package optimize

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/evalgate/evalgate/internal/gate"
	"github.com/evalgate/evalgate/internal/report"
)

// Report is everything an optimization did and found, for people (Markdown)
// and programs (JSON).
type Report struct {
	Suite  string  `json:"suite"`
	Target string  `json:"target"`
	Model  string  `json:"model"`
	Source *Source `json:"source"`
	// Generators are the generators that ran.
	Generators []string  `json:"generators"`
	Objective  Objective `json:"objective"`
	Split      float64   `json:"split"`
	Seed       int64     `json:"seed"`
	DevSamples int       `json:"dev_samples"`
	// HeldOutSamples were used by the gate only.
	HeldOutSamples int `json:"held_out_samples"`
	// Tried counts every candidate proposed (evaluated or dropped).
	Tried      int         `json:"candidates_tried"`
	Control    Candidate   `json:"control"`
	Candidates []Candidate `json:"candidates"`
	Dropped    []Dropped   `json:"dropped,omitempty"`
	Ranking    *Ranking    `json:"ranking,omitempty"`
	Winner     *Candidate  `json:"winner,omitempty"`
	BaselineID string      `json:"baseline,omitempty"`
	// Verdict is the held-out gate's; SelectionBias states why it can be
	// trusted although several candidates were tried.
	Verdict       *gate.Verdict `json:"verdict,omitempty"`
	SelectionBias string        `json:"selection_bias,omitempty"`
	// PromptPath is where the winning prompt was written ("" when it was
	// not); PromptNote says why not.
	PromptPath string  `json:"prompt_path,omitempty"`
	PromptNote string  `json:"prompt_note,omitempty"`
	Snippet    string  `json:"config_snippet,omitempty"`
	SpentUSD   float64 `json:"spent_usd"`
	DevPath    string  `json:"dev_results,omitempty"`
	HeldPath   string  `json:"held_out_results,omitempty"`
}

// SelectionBiasNote is the report's statement about the held-out verdict.
const SelectionBiasNote = "The winner was chosen on the dev part only; the held-out samples were not run for any candidate before the choice, so the held-out verdict is free of selection bias (it is one pre-registered comparison, not the best of many)."

// JSON renders the report as indented JSON.
func (r *Report) JSON() ([]byte, error) {
	if r.Verdict != nil {
		r.SelectionBias = SelectionBiasNote
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("optimize report json: %w", err)
	}
	return append(b, '\n'), nil
}

// Markdown renders the report. Prompt text may come from a model, so every
// piece of it is escaped.
func (r *Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# evalgate optimize: %s\n\n", report.Inline(r.Suite))
	fmt.Fprintf(&b, "Target **%s** (`%s`); source prompt from %s.\n\n", report.Inline(r.Target), report.Inline(r.Model), report.Inline(r.Source.Origin))
	fmt.Fprintf(&b, "- Generators: %s; **%d candidates tried**, %d evaluated, %d dropped before evaluation.\n", report.Inline(strings.Join(r.Generators, ", ")), r.Tried, len(r.Candidates), r.Tried-len(r.Candidates))
	fmt.Fprintf(&b, "- Split (seed %d, dev fraction %g, stratified by cluster): %d dev samples for selection, %d held-out samples for the gate.\n", r.Seed, r.Split, r.DevSamples, r.HeldOutSamples)
	fmt.Fprintf(&b, "- Objective: %s.\n", report.Inline(r.Objective.String()))
	fmt.Fprintf(&b, "- Spent: %s.\n\n", usd(r.SpentUSD))

	if r.Winner != nil && r.Verdict != nil {
		fmt.Fprintf(&b, "## Held-out verdict: %s\n\n", strings.ToUpper(string(r.Verdict.Status)))
		fmt.Fprintf(&b, "Winner **%s** (%s) against **%s** on %d held-out samples: %s.\n\n", report.Inline(r.Winner.ID), report.Inline(r.Winner.Generator), report.Inline(r.BaselineID), r.HeldOutSamples, report.Inline(r.Verdict.Reason))
		fmt.Fprintf(&b, "%s\n\n", SelectionBiasNote)
	}
	if r.PromptPath != "" {
		fmt.Fprintf(&b, "Winning prompt written to `%s`.\n\n", report.Inline(r.PromptPath))
	} else if r.PromptNote != "" {
		fmt.Fprintf(&b, "Winning prompt not written: %s.\n\n", report.Inline(r.PromptNote))
	}
	if r.Snippet != "" {
		fmt.Fprintf(&b, "<pre>%s</pre>\n\n", report.Block(r.Snippet))
	}

	if rk := r.Ranking; rk != nil {
		fmt.Fprintf(&b, "## Dev scores (%d samples)\n\n", r.DevSamples)
		if rk.Winner != "" {
			fmt.Fprintf(&b, "Chosen: **%s**: %s.\n\n", report.Inline(rk.Winner), report.Inline(rk.Why))
		}
		fmt.Fprintf(&b, "| candidate | generator | %s (95%% CI) | vs control (95%% CI) | cost / 1k calls | latency p95 | tokens in / out | errors |\n", report.Inline(r.Objective.Metric))
		b.WriteString("|---|---|---|---|---|---|---|---|\n")
		row := func(s Score, delta string) {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s / %s | %s |\n", report.Inline(s.ID), report.Inline(s.Generator), ci(s.Primary), delta,
				usd(float64(s.CostPer1K)), msText(float64(s.LatencyP95)), tok(float64(s.InputTokens)), tok(float64(s.OutputTokens)), pctText(float64(s.ErrorRate)))
		}
		row(rk.Control, "(reference)")
		for _, s := range rk.Scores {
			row(s, ci(s.Delta))
		}
		b.WriteString("\n")
		for _, u := range rk.Unranked {
			fmt.Fprintf(&b, "- not ranked: **%s** (%s): %s\n", report.Inline(u.ID), report.Inline(u.Generator), report.Inline(u.Reason))
		}
		if len(rk.Unranked) > 0 {
			b.WriteString("\n")
		}
	}

	if len(r.Dropped) > 0 {
		b.WriteString("## Dropped before evaluation\n\n")
		for _, d := range r.Dropped {
			id := d.ID
			if id == "" {
				id = "(generator)"
			}
			fmt.Fprintf(&b, "- **%s** (%s): %s\n", report.Inline(id), report.Inline(d.Generator), report.Inline(d.Reason))
		}
		b.WriteString("\n")
	}

	b.WriteString("## Candidates\n\n")
	for _, c := range r.Candidates {
		fmt.Fprintf(&b, "### %s (%s)\n\n", report.Inline(c.ID), report.Inline(c.Generator))
		for _, n := range c.Notes {
			fmt.Fprintf(&b, "- %s\n", report.Inline(n))
		}
		if len(c.Notes) > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "Diff from the source prompt (system part, then user part):\n\n<pre>%s</pre>\n\n",
			report.Block(Diff(r.Control.System, c.System)+"----\n"+Diff(r.Control.User, c.User)))
	}

	if r.Verdict != nil {
		b.WriteString("## Held-out comparison\n\n")
		b.WriteString(report.Markdown(r.Verdict, report.Options{Title: r.Suite + " (held-out)"}))
	}
	return b.String()
}

func bad(x float64) bool { return math.IsNaN(x) || math.IsInf(x, 0) }

func ci(iv gate.Interval) string {
	if bad(iv.Est) {
		return "n/a"
	}
	if bad(iv.Lo) || bad(iv.Hi) {
		return fmt.Sprintf("%.3f", iv.Est)
	}
	return fmt.Sprintf("%.3f [%.3f, %.3f]", iv.Est, iv.Lo, iv.Hi)
}

func usd(x float64) string {
	if bad(x) {
		return "unknown"
	}
	return fmt.Sprintf("$%.4f", x)
}

func msText(x float64) string {
	if bad(x) {
		return "n/a"
	}
	return fmt.Sprintf("%.0f ms", x)
}

func tok(x float64) string {
	if bad(x) {
		return "n/a"
	}
	return fmt.Sprintf("%.0f", x)
}

func pctText(x float64) string {
	if bad(x) {
		return "n/a"
	}
	return fmt.Sprintf("%.0f%%", 100*x)
}
