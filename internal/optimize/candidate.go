package optimize

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/evalgate/evalgate/internal/provider"
	"github.com/evalgate/evalgate/internal/suite"
)

// Generator names, as shown in reports.
const (
	GenControl    = "control"
	GenRules      = "rules"
	GenFiles      = "files"
	GenMetaprompt = "metaprompt"
	GenBedrock    = "bedrock"
)

// Candidate is one prompt for the target: a system and a user part in
// evalgate's {{field}} syntax, and the params to run it with.
type Candidate struct {
	// ID names the candidate in results and reports ("rules", "file-terse").
	ID        string `json:"id"`
	Generator string `json:"generator"`
	System    string `json:"system,omitempty"`
	User      string `json:"user"`
	// Params are the target's params, as the generator adjusted them.
	Params provider.Params `json:"params"`
	// Notes say what the generator did or reported (Bedrock's analysis).
	Notes []string `json:"notes,omitempty"`
}

// Checks is what a candidate is checked against before any evaluation.
type Checks struct {
	// Required are the fields of the source prompt: a candidate must keep each.
	Required []string
	// Columns are the dataset columns every sample has.
	Columns []string
	// Longest is the longest value of each column, in bytes, to bound the
	// largest rendered prompt.
	Longest map[string]int
	// ContextWindow is the target model's, in tokens (0: unknown, not checked).
	ContextWindow int
}

// bytesPerToken is a deliberately rough estimate (English text is about four
// bytes a token); the window check needs an order of magnitude, not a count.
const bytesPerToken = 4

// ErrEmptyPrompt is wrapped when a candidate's user part is empty.
var ErrEmptyPrompt = errors.New("the prompt is empty")

// Check returns the candidate's compiled template, or an error saying why it
// must not be evaluated: empty, malformed, a source placeholder lost, a
// placeholder the data cannot fill, or too long for the context window.
func (k Checks) Check(c Candidate) (*suite.Template, error) {
	if strings.TrimSpace(c.User) == "" {
		return nil, fmt.Errorf("candidate %s (%s): %w; the generator returned no text for the user part", c.ID, c.Generator, ErrEmptyPrompt)
	}
	tpl, err := suite.NewTemplate(c.ID, c.System, c.User)
	if err != nil {
		return nil, fmt.Errorf("candidate %s (%s): %w", c.ID, c.Generator, err)
	}
	fields := tpl.Fields()
	var lost, unfilled []string
	for _, f := range k.Required {
		if !slices.Contains(fields, f) {
			lost = append(lost, "{{"+f+"}}")
		}
	}
	for _, f := range fields {
		if !slices.Contains(k.Columns, f) {
			unfilled = append(unfilled, "{{"+f+"}}")
		}
	}
	var problems []string
	if len(lost) > 0 {
		problems = append(problems, fmt.Sprintf("it drops the source prompt's placeholders %s, so the model would never see that data", strings.Join(lost, ", ")))
	}
	if len(unfilled) > 0 {
		problems = append(problems, fmt.Sprintf("placeholders %s name no dataset column (columns: %s)", strings.Join(unfilled, ", "), strings.Join(k.Columns, ", ")))
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("candidate %s (%s): %s", c.ID, c.Generator, strings.Join(problems, "; "))
	}
	if k.ContextWindow > 0 {
		n := len(c.System) + len(c.User)
		for _, f := range fields {
			n += k.Longest[f]
		}
		est := n / bytesPerToken
		if c.Params.MaxTokens != nil {
			est += *c.Params.MaxTokens
		}
		if est > k.ContextWindow {
			return nil, fmt.Errorf("candidate %s (%s): the longest sample's prompt plus max_tokens is about %d tokens, over the model's context window of %d", c.ID, c.Generator, est, k.ContextWindow)
		}
	}
	return tpl, nil
}
