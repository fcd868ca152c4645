package optimize

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strings"

	"github.com/evalgate/evalgate/internal/provider"
)

// metaprompt is the instruction that asks a model to rewrite a prompt for
// another model. It was written for evalgate; {{fields}}, {{target_model}}
// and {{family_advice}} are filled in before the call.
//
//go:embed metaprompt.txt
var metaprompt string

// Completer is what the metaprompt generator needs of a model: a
// *run.Completer, which shares the run's cache, retries, limits and budget.
type Completer interface {
	Complete(ctx context.Context, req provider.Request) (provider.Response, error)
}

// Metaprompt asks a model to rewrite the source prompt for the target
// model's conventions, keeping every placeholder.
type Metaprompt struct {
	Model     string
	Completer Completer
	// TargetModel is the model id the rewrite is for.
	TargetModel string
	// MaxTokens bounds the rewrite.
	MaxTokens int
}

// DefaultMetapromptMaxTokens leaves room for a long prompt's rewrite.
const DefaultMetapromptMaxTokens = 4096

// Name is the generator's name.
func (Metaprompt) Name() string { return GenMetaprompt }

// ErrNoRewrite is wrapped when the model's reply lacks the rewrite sections.
var ErrNoRewrite = errors.New("the reply has no <user_prompt> section")

// Generate makes one call and returns one candidate.
func (g Metaprompt) Generate(ctx context.Context, src *Source, params provider.Params) ([]Candidate, error) {
	req := MetapromptRequest(g.Model, g.TargetModel, src, g.MaxTokens)
	resp, err := g.Completer.Complete(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("metaprompt rewrite with %s: %w", g.Model, err)
	}
	system, user, err := parseRewrite(resp.Text)
	if err != nil {
		return nil, fmt.Errorf("metaprompt rewrite with %s: %w; the model must answer with <system_prompt> and <user_prompt> sections", g.Model, err)
	}
	c := Candidate{ID: GenMetaprompt, Generator: GenMetaprompt, System: system, User: user, Params: cloneParams(params),
		Notes: []string{"rewritten by " + g.Model + " for " + g.TargetModel}}
	return []Candidate{c}, nil
}

// MetapromptRequest is the rewrite request for src: the same for the same
// source and models, so the cache and cassettes replay it.
func MetapromptRequest(model, targetModel string, src *Source, maxTokens int) provider.Request {
	if maxTokens <= 0 {
		maxTokens = DefaultMetapromptMaxTokens
	}
	var fields []string
	for _, f := range src.Fields {
		fields = append(fields, "{{"+f+"}}")
	}
	instr := strings.NewReplacer(
		"{{fields}}", strings.Join(fields, ", "),
		"{{target_model}}", targetModel,
		"{{family_advice}}", familyAdvice(targetModel),
	).Replace(metaprompt)
	var b strings.Builder
	b.WriteString("<original_system_prompt>\n")
	b.WriteString(src.System)
	b.WriteString("\n</original_system_prompt>\n<original_user_prompt>\n")
	b.WriteString(src.User)
	b.WriteString("\n</original_user_prompt>")
	zero := 0.0
	return provider.Request{
		Model:    model,
		System:   instr,
		Messages: []provider.Message{{Role: provider.RoleUser, Content: b.String()}},
		Params:   provider.Params{Temperature: &zero, MaxTokens: &maxTokens},
	}
}

// familyAdvice is what differs between model families, in a sentence each.
func familyAdvice(model string) string {
	m := strings.ToLower(model)
	switch {
	case strings.Contains(m, "anthropic") || strings.Contains(m, "claude"):
		return "Claude follows instructions best when the material is wrapped in descriptive XML tags (for example <document> and </document> around a placeholder) and the task and output format are stated plainly after it."
	case strings.Contains(m, "nova"):
		return "Amazon Nova expects the role and rules in the system prompt, the task in the user prompt, and responds well to short Markdown sections (## Task, ## Context, ## Output) and explicit length limits."
	case strings.Contains(m, "llama"):
		return "Llama models do best with a short system prompt, the data before the question in the user prompt, and an explicit statement of the answer format and length."
	case strings.Contains(m, "mistral"):
		return "Mistral models do best with direct imperative instructions, the data clearly delimited, and the output format stated last."
	case strings.Contains(m, "gpt") || strings.Contains(m, "openai"):
		return "OpenAI chat models do best with the role and rules in the system message and clearly delimited data in the user message."
	}
	return "State the task, the data and the output format in clearly separated parts."
}

// parseRewrite takes the two sections out of the model's reply. The reply is
// untrusted text: only what is inside the tags is kept.
func parseRewrite(reply string) (system, user string, err error) {
	section := func(tag string) (string, bool) {
		open, close := "<"+tag+">", "</"+tag+">"
		i := strings.Index(reply, open)
		if i < 0 {
			return "", false
		}
		rest := reply[i+len(open):]
		j := strings.LastIndex(rest, close)
		if j < 0 {
			return "", false
		}
		return strings.TrimSpace(rest[:j]), true
	}
	user, ok := section("user_prompt")
	if !ok {
		return "", "", ErrNoRewrite
	}
	if user == "" {
		return "", "", ErrEmptyPrompt
	}
	system, _ = section("system_prompt")
	return system, user, nil
}
