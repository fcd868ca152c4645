package optimize

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/evalgate/evalgate/internal/provider"
)

// Rules is the deterministic generator: conversions a migration always
// needs, with no model call.
//   - placeholders of other tools become {{column}} (done when the source is read);
//   - the turn markers of text-completion prompts ("Human:", "Assistant:",
//     "User:", "System:") are removed: chat APIs such as Converse carry turns
//     themselves, and a literal "Assistant:" makes models answer in character;
//   - instructions that lead the user part and hold no placeholder move to
//     the system part, where chat models weigh instructions most;
//   - stop sequences that only made sense as turn markers are dropped, and
//     max_tokens is cut so that the longest prompt and the reply fit the
//     target model's context window.
type Rules struct {
	// Checks bound max_tokens by the context window.
	Checks Checks
}

var (
	// leadingMarker matches a turn marker at the start of a line.
	leadingMarker = regexp.MustCompile(`(?m)^[ \t]*(Human|User|System)[ \t]*:[ \t]*`)
	// trailingAssistant matches the "Assistant:" a text-completion prompt ends with.
	trailingAssistant = regexp.MustCompile(`(?s)\n*[ \t]*Assistant[ \t]*:[ \t]*$`)
)

// Name is the generator's name.
func (Rules) Name() string { return GenRules }

// Generate returns one candidate, or none when no rule changes anything
// (a copy of the control would only spend the budget twice).
func (g Rules) Generate(_ context.Context, src *Source, params provider.Params) ([]Candidate, error) {
	c := Candidate{ID: GenRules, Generator: GenRules, System: src.System, User: src.User, Params: cloneParams(params)}
	if src.Foreign {
		c.Notes = append(c.Notes, "placeholders converted to {{column}}: "+strings.Join(src.Fields, ", "))
	}
	if u := trailingAssistant.ReplaceAllString(c.User, ""); u != c.User {
		c.User = u
		c.Notes = append(c.Notes, `removed the trailing "Assistant:" turn marker`)
	}
	for _, part := range []*string{&c.System, &c.User} {
		if t := leadingMarker.ReplaceAllString(*part, ""); t != *part {
			*part = t
			c.Notes = append(c.Notes, `removed "Human:"/"User:"/"System:" turn markers`)
		}
	}
	c.Notes = slices.Compact(c.Notes)
	if sys, user, ok := extractSystem(c.User); ok && strings.TrimSpace(c.System) == "" {
		c.System, c.User = sys, user
		c.Notes = append(c.Notes, "moved the leading instructions (no placeholders) to the system part")
	}
	c.System, c.User = strings.TrimSpace(c.System), strings.TrimSpace(c.User)
	if kept := slices.DeleteFunc(slices.Clone(c.Params.Stop), isTurnMarker); len(kept) != len(c.Params.Stop) {
		c.Notes = append(c.Notes, "dropped turn-marker stop sequences (the chat API ends turns itself)")
		c.Params.Stop = kept
	}
	if mt := c.Params.MaxTokens; mt != nil && g.Checks.ContextWindow > 0 {
		longest := (len(c.System) + len(c.User)) / bytesPerToken
		for _, f := range src.Fields {
			longest += g.Checks.Longest[f] / bytesPerToken
		}
		if room := g.Checks.ContextWindow - longest; room > 0 && *mt > room {
			c.Params.MaxTokens = &room
			c.Notes = append(c.Notes, fmt.Sprintf("max_tokens %d cut to %d so the longest prompt and the reply fit the %d-token context window", *mt, room, g.Checks.ContextWindow))
		}
	}
	if len(c.Notes) == 0 || (c.System == strings.TrimSpace(src.System) && c.User == strings.TrimSpace(src.User) && paramsEqual(c.Params, params)) {
		return nil, nil
	}
	return []Candidate{c}, nil
}

// extractSystem splits user into leading paragraphs without placeholders
// (instructions) and the rest, when both are non-empty.
func extractSystem(user string) (system, rest string, ok bool) {
	paras := strings.Split(strings.TrimSpace(user), "\n\n")
	i := 0
	for i < len(paras) && !strings.Contains(paras[i], "{{") {
		i++
	}
	if i == 0 || i == len(paras) {
		return "", "", false
	}
	return strings.Join(paras[:i], "\n\n"), strings.Join(paras[i:], "\n\n"), true
}

func isTurnMarker(s string) bool {
	t := strings.ToLower(strings.TrimSpace(s))
	return t == "human:" || t == "user:" || t == "assistant:"
}

func cloneParams(p provider.Params) provider.Params {
	p.Stop = slices.Clone(p.Stop)
	if p.MaxTokens != nil {
		v := *p.MaxTokens
		p.MaxTokens = &v
	}
	return p
}

func paramsEqual(a, b provider.Params) bool {
	eqInt := func(x, y *int) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	return eqInt(a.MaxTokens, b.MaxTokens) && slices.Equal(a.Stop, b.Stop)
}
