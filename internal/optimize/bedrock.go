package optimize

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/evalgate/evalgate/internal/provider"
	"github.com/evalgate/evalgate/internal/provider/bedrock"
)

// Bedrock asks Amazon Bedrock Prompt Optimization to rewrite the source
// prompt for the target model. Its calls go through Completer (a
// *run.Completer around a *bedrock.Optimizer), so throttling is retried with
// the run's backoff and a cassette can replay them offline.
type Bedrock struct {
	Completer Completer
	// TargetModel is the model id the prompt is optimized for.
	TargetModel string
}

// Name is the generator's name.
func (Bedrock) Name() string { return GenBedrock }

// Generate makes one OptimizePrompt call. The service takes one text, so the
// system and user parts are sent together and the rewrite is one user part;
// its {{variable}} syntax is evalgate's, so placeholders go through as they are.
func (g Bedrock) Generate(ctx context.Context, src *Source, params provider.Params) ([]Candidate, error) {
	text := src.User
	if s := strings.TrimSpace(src.System); s != "" {
		text = s + "\n\n" + src.User
	}
	resp, err := g.Completer.Complete(ctx, provider.Request{Model: g.TargetModel, Messages: []provider.Message{{Role: provider.RoleUser, Content: text}}})
	if err != nil {
		return nil, fmt.Errorf("bedrock prompt optimization for %s: %w", g.TargetModel, err)
	}
	var res bedrock.OptimizeResult
	if err := json.Unmarshal([]byte(resp.Text), &res); err != nil {
		return nil, fmt.Errorf("bedrock prompt optimization for %s: unreadable result: %w", g.TargetModel, err)
	}
	if strings.TrimSpace(res.Prompt) == "" {
		return nil, fmt.Errorf("bedrock prompt optimization for %s: %w: the service streamed no optimizedPromptEvent text", g.TargetModel, ErrEmptyPrompt)
	}
	c := Candidate{ID: GenBedrock, Generator: GenBedrock, User: strings.TrimSpace(res.Prompt), Params: cloneParams(params)}
	for _, a := range res.Analysis {
		c.Notes = append(c.Notes, "analysis: "+a)
	}
	return []Candidate{c}, nil
}
