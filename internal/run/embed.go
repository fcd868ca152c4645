package run

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/evalgate/evalgate/internal/provider"
)

// Embedder is what an embedding model's adapter offers.
type Embedder interface {
	Embed(ctx context.Context, texts []string) ([][]float64, provider.Usage, error)
}

// EmbedCompleter calls an embedding model through a Caller: from the
// response cache when the same texts were embedded before, within the
// budget, paced by the target's limiter, bounded by the timeout and retried
// when throttled, like every other model call of the run.
type EmbedCompleter struct {
	c *Completer
}

// Embedder returns an EmbedCompleter for the embedding model e, described
// by t (its Provider is replaced), with at most concurrency calls in flight.
func (c *Caller) Embedder(t Target, e Embedder, concurrency int) *EmbedCompleter {
	t.Provider = embedProvider{e}
	return &EmbedCompleter{c: c.Completer(t, concurrency)}
}

// Embed returns one vector per text.
func (p *EmbedCompleter) Embed(ctx context.Context, texts []string) ([][]float64, provider.Usage, error) {
	req := provider.Request{Model: p.c.t.Info.Model}
	for _, t := range texts {
		req.Messages = append(req.Messages, provider.Message{Role: provider.RoleUser, Content: t})
	}
	resp, err := p.c.Complete(ctx, req)
	if err != nil {
		return nil, resp.Usage, err
	}
	var vecs [][]float64
	if err := json.Unmarshal([]byte(resp.Text), &vecs); err != nil || len(vecs) != len(texts) {
		return nil, resp.Usage, fmt.Errorf("embedding %s: unreadable vectors (%d for %d texts)", p.c.t.Info.Model, len(vecs), len(texts))
	}
	return vecs, resp.Usage, nil
}

// CostOf is the USD cost of usage on this model, nil when its price is unknown.
func (p *EmbedCompleter) CostOf(u provider.Usage) *float64 { return p.c.CostOf(u) }

// embedProvider carries embeddings through the completion path: the texts
// are the messages, the vectors the reply's text as JSON, so that the cache,
// budget, limits and retries serve embeddings unchanged.
type embedProvider struct{ e Embedder }

// Endpoint is the embedding service's, for the cache key.
func (p embedProvider) Endpoint() string {
	if e, ok := p.e.(Endpointer); ok {
		return e.Endpoint()
	}
	return ""
}

func (p embedProvider) Complete(ctx context.Context, req provider.Request) (provider.Response, error) {
	texts := make([]string, len(req.Messages))
	for i, m := range req.Messages {
		texts[i] = m.Content
	}
	vecs, usage, err := p.e.Embed(ctx, texts)
	if err != nil {
		return provider.Response{Usage: usage}, err
	}
	b, err := json.Marshal(vecs)
	if err != nil {
		return provider.Response{}, fmt.Errorf("embedding: %w", err)
	}
	return provider.Response{Text: string(b), Usage: usage}, nil
}
