package bedrock

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"

	"github.com/evalgate/evalgate/internal/provider"
)

// Embedder embeds texts with an Amazon Titan text embeddings model
// (amazon.titan-embed-text-v2:0, amazon.titan-embed-text-v1) through
// InvokeModel, for judge metrics that compare meanings (answer_relevancy).
// It is safe for concurrent use.
//
// Request and response bodies: https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-titan-embed-text.html
type Embedder struct {
	c     *Client
	model string
}

// Embedder returns an embedder for a Titan text embeddings model in the
// client's region, with the client's credentials and endpoint.
func (c *Client) Embedder(model string) *Embedder { return &Embedder{c: c, model: model} }

// Endpoint identifies the service called (Client.Endpoint).
func (e *Embedder) Endpoint() string { return e.c.Endpoint() }

// Model is the embedding model's id.
func (e *Embedder) Model() string { return e.model }

// titanRequest and titanResponse are Titan's InvokeModel bodies; the
// dimensions and normalization are left at the model's defaults (1024 and
// normalized for v2).
type titanRequest struct {
	InputText string `json:"inputText"`
}

type titanResponse struct {
	Embedding           []float64 `json:"embedding"`
	InputTextTokenCount int       `json:"inputTextTokenCount"`
}

// Embed returns one vector per text, in order. Titan embeds one text per
// call, so this makes len(texts) calls, one after the other.
func (e *Embedder) Embed(ctx context.Context, texts []string) ([][]float64, provider.Usage, error) {
	var usage provider.Usage
	out := make([][]float64, 0, len(texts))
	for i, text := range texts {
		body, err := json.Marshal(titanRequest{InputText: text})
		if err != nil {
			return nil, usage, fmt.Errorf("bedrock: embed text %d: %w", i+1, err)
		}
		resp, err := e.c.rt.InvokeModel(ctx, &bedrockruntime.InvokeModelInput{
			ModelId:     aws.String(e.model),
			ContentType: aws.String("application/json"),
			Accept:      aws.String("application/json"),
			Body:        body,
		})
		if err != nil {
			return nil, usage, e.c.classify(ctx, e.model, err)
		}
		var tr titanResponse
		if err := json.Unmarshal(resp.Body, &tr); err != nil {
			return nil, usage, provider.Errorf(provider.KindOther, Name, "model %s: read embeddings response: %v (is it a Titan text embeddings model?)", e.model, err)
		}
		usage.InputTokens += tr.InputTextTokenCount
		if len(tr.Embedding) == 0 {
			return nil, usage, provider.Errorf(provider.KindOther, Name, "model %s: the response has no embedding (is it a Titan text embeddings model?)", e.model)
		}
		out = append(out, tr.Embedding)
	}
	return out, usage, nil
}
