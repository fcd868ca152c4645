package openai

import (
	"context"

	"github.com/evalgate/evalgate/internal/provider"
)

// Embedder embeds texts with one model of an OpenAI-compatible server's
// embeddings API, for judge metrics that compare meanings (answer_relevancy).
// It is safe for concurrent use.
//
// API reference: https://platform.openai.com/docs/api-reference/embeddings/create
type Embedder struct {
	c     *Client
	model string
}

// Embedder returns an embedder for model on the client's server, with the
// client's base URL, key and HTTP client.
func (c *Client) Embedder(model string) *Embedder {
	return &Embedder{c: c, model: model}
}

// Endpoint is the server's API root (Client.Endpoint).
func (e *Embedder) Endpoint() string { return e.c.Endpoint() }

// embeddingRequest is the body of POST embeddings.
type embeddingRequest struct {
	Model string   `json:"model"`
	Input []string `json:"input"`
	// EncodingFormat asks for arrays of numbers rather than base64.
	EncodingFormat string `json:"encoding_format"`
}

// embeddingResponse is the part of the reply we read.
type embeddingResponse struct {
	Data  []embedding `json:"data"`
	Usage struct {
		PromptTokens count `json:"prompt_tokens"`
	} `json:"usage"`
}

type embedding struct {
	Index     int       `json:"index"`
	Embedding []float64 `json:"embedding"`
}

// Embed returns one vector per text, in order, from one request.
func (e *Embedder) Embed(ctx context.Context, texts []string) ([][]float64, provider.Usage, error) {
	if len(texts) == 0 {
		return nil, provider.Usage{}, nil
	}
	var out embeddingResponse
	_, err := e.c.call(ctx, e.c.embedURL, embeddingRequest{Model: e.model, Input: texts, EncodingFormat: "float"}, &out)
	if err != nil {
		return nil, provider.Usage{}, e.c.classify(ctx, e.model, err)
	}
	usage := provider.Usage{InputTokens: int(out.Usage.PromptTokens)}
	vecs := make([][]float64, len(texts))
	for _, d := range out.Data {
		if d.Index < 0 || d.Index >= len(texts) || vecs[d.Index] != nil {
			return nil, usage, provider.Errorf(provider.KindOther, Name, "model %s: embeddings response has an unexpected index %d for %d texts", e.model, d.Index, len(texts))
		}
		vecs[d.Index] = d.Embedding
	}
	for i, v := range vecs {
		if len(v) == 0 {
			return nil, usage, provider.Errorf(provider.KindOther, Name, "model %s: embeddings response has no vector for text %d of %d", e.model, i+1, len(texts))
		}
	}
	return vecs, usage, nil
}

// Model is the embedding model's id.
func (e *Embedder) Model() string { return e.model }
