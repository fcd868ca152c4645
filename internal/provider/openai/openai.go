// Package openai calls OpenAI-compatible chat completions servers (OpenAI,
// Azure OpenAI's v1 endpoint, vLLM, Ollama, LiteLLM, ...) through
// github.com/openai/openai-go, and classifies their failures into provider
// error kinds.
//
// API reference: https://platform.openai.com/docs/api-reference/chat/create
package openai

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/evalgate/evalgate/internal/provider"
)

// Name is the provider name in evalgate.yaml and in classified errors.
const Name = "openai"

// DefaultBaseURL is OpenAI's own API.
const DefaultBaseURL = "https://api.openai.com/v1/"

// DefaultAPIKeyEnv names the variable holding the key when the target names none.
const DefaultAPIKeyEnv = "OPENAI_API_KEY"

// Options configure a Client.
type Options struct {
	// BaseURL is the server's API root, e.g. "http://localhost:11434/v1/" for
	// Ollama; empty means DefaultBaseURL.
	BaseURL string
	// APIKeyEnv names the environment variable holding the API key; empty
	// means DefaultAPIKeyEnv.
	APIKeyEnv string
	// Getenv reads the environment; the CLI passes os.Getenv.
	Getenv func(string) string
	// HTTPClient sends the requests; nil means http.DefaultClient's settings.
	HTTPClient *http.Client
}

// Client calls one OpenAI-compatible server. It is safe for concurrent use.
type Client struct {
	chat      openai.ChatCompletionService
	official  bool // OpenAI's own API: strict about unknown fields
	keyEnv    string
	hasAPIKey bool
}

// The signature the run engine calls.
var _ interface {
	Complete(context.Context, provider.Request) (provider.Response, error)
} = (*Client)(nil)

// New returns a client. A missing key is an error for OpenAI's own API only:
// local servers (Ollama, vLLM) usually take none.
func New(opts Options) (*Client, error) {
	if opts.Getenv == nil {
		return nil, errors.New("openai: no Getenv given")
	}
	base := opts.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	if !strings.HasSuffix(base, "/") {
		base += "/" // the SDK resolves "chat/completions" against it
	}
	keyEnv := opts.APIKeyEnv
	if keyEnv == "" {
		keyEnv = DefaultAPIKeyEnv
	}
	key := opts.Getenv(keyEnv)
	official := base == DefaultBaseURL
	if key == "" && (official || opts.APIKeyEnv != "") {
		return nil, fmt.Errorf("openai: environment variable %s is empty: set it to the API key of %s", keyEnv, base)
	}

	reqOpts := []option.RequestOption{
		option.WithBaseURL(base),
		// The run engine retries with its own backoff, budget and rate
		// limits; SDK retries underneath would multiply attempts and hide
		// throttling from the adaptive limiter.
		option.WithMaxRetries(0),
	}
	if key != "" {
		reqOpts = append(reqOpts, option.WithAPIKey(key))
	}
	if opts.HTTPClient != nil {
		reqOpts = append(reqOpts, option.WithHTTPClient(opts.HTTPClient))
	}
	// NewChatCompletionService, unlike openai.NewClient, reads no
	// OPENAI_* variables from the process environment.
	return &Client{
		chat:      openai.NewChatCompletionService(reqOpts...),
		official:  official,
		keyEnv:    keyEnv,
		hasAPIKey: key != "",
	}, nil
}

// Complete sends one chat completion, streamed when req.Stream is set so that
// the time to first token is measured.
func (c *Client) Complete(ctx context.Context, req provider.Request) (provider.Response, error) {
	params, err := c.params(req)
	if err != nil {
		return provider.Response{}, err
	}
	if req.Stream {
		return c.stream(ctx, req.Model, params)
	}
	start := time.Now()
	out, err := c.chat.New(ctx, params)
	latency := time.Since(start)
	if err != nil {
		return provider.Response{}, c.classify(ctx, req.Model, err)
	}
	resp := provider.Response{Latency: latency, Usage: usageOf(out.Usage)}
	if len(out.Choices) > 0 {
		resp.Text = out.Choices[0].Message.Content
		resp.StopReason = normalizeStop(out.Choices[0].FinishReason)
	}
	return resp, nil
}

func (c *Client) stream(ctx context.Context, model string, params openai.ChatCompletionNewParams) (provider.Response, error) {
	params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
	start := time.Now()
	s := c.chat.NewStreaming(ctx, params)
	defer s.Close()

	var (
		resp     provider.Response
		text     strings.Builder
		finished bool
	)
	for s.Next() {
		chunk := s.Current()
		for _, ch := range chunk.Choices {
			if ch.Index != 0 {
				continue
			}
			if ch.Delta.Content != "" {
				if resp.TTFT == 0 {
					resp.TTFT = time.Since(start)
				}
				text.WriteString(ch.Delta.Content)
			}
			if ch.FinishReason != "" {
				resp.StopReason = normalizeStop(ch.FinishReason)
				finished = true
			}
		}
		// With include_usage the last chunk carries the usage and no choices.
		if chunk.JSON.Usage.Valid() {
			resp.Usage = usageOf(chunk.Usage)
		}
	}
	resp.Latency = time.Since(start)
	if err := s.Err(); err != nil {
		return provider.Response{}, c.classify(ctx, model, err)
	}
	if !finished {
		return provider.Response{}, &provider.Error{Kind: provider.KindTransient, Provider: Name,
			Err: fmt.Errorf("model %s: response stream ended before a finish_reason", model)}
	}
	resp.Text = text.String()
	return resp, nil
}

// params translates a request.
func (c *Client) params(req provider.Request) (openai.ChatCompletionNewParams, error) {
	p := openai.ChatCompletionNewParams{Model: req.Model}
	if req.System != "" {
		p.Messages = append(p.Messages, openai.SystemMessage(req.System))
	}
	for _, m := range req.Messages {
		if m.Role == provider.RoleAssistant {
			p.Messages = append(p.Messages, openai.AssistantMessage(m.Content))
		} else {
			p.Messages = append(p.Messages, openai.UserMessage(m.Content))
		}
	}
	ps := req.Params
	if ps.Temperature != nil {
		p.Temperature = openai.Float(*ps.Temperature)
	}
	if ps.TopP != nil {
		p.TopP = openai.Float(*ps.TopP)
	}
	if ps.MaxTokens != nil {
		// OpenAI's reasoning models accept only max_completion_tokens; many
		// compatible servers know only the older max_tokens.
		if c.official {
			p.MaxCompletionTokens = openai.Int(int64(*ps.MaxTokens))
		} else {
			p.MaxTokens = openai.Int(int64(*ps.MaxTokens))
		}
	}
	if len(ps.Stop) > 0 {
		p.Stop = openai.ChatCompletionNewParamsStopUnion{OfStringArray: ps.Stop}
	}
	if ps.Seed != nil {
		p.Seed = openai.Int(*ps.Seed)
	}
	if ps.TopK != nil {
		// top_k is not part of the OpenAI API, which rejects unknown fields;
		// vLLM, Ollama, LiteLLM and llama.cpp read it from the body.
		if c.official {
			return p, provider.Errorf(provider.KindInvalidRequest, Name,
				"model %s: the OpenAI API has no top_k parameter: remove top_k from the target's params, "+
					"or set base_url to a server that accepts it (vLLM, Ollama)", req.Model)
		}
		p.SetExtraFields(map[string]any{"top_k": *ps.TopK})
	}
	return p, nil
}

// usageOf counts cached prompt tokens apart: OpenAI's prompt_tokens includes
// them, provider.Usage.InputTokens does not (they are priced differently).
// Tokens written to the cache stay input tokens: OpenAI bills them at the
// input price.
func usageOf(u openai.CompletionUsage) provider.Usage {
	cached := int(u.PromptTokensDetails.CachedTokens)
	return provider.Usage{
		InputTokens:     int(u.PromptTokens) - cached,
		OutputTokens:    int(u.CompletionTokens),
		CacheReadTokens: cached,
	}
}

// normalizeStop maps finish_reason onto the words of provider.Response.StopReason.
func normalizeStop(r string) string {
	switch r {
	case "stop":
		return "end_turn"
	case "length":
		return provider.StopMaxTokens
	case "content_filter":
		return "content_filtered"
	case "tool_calls", "function_call":
		return "tool_use"
	default:
		return r
	}
}
