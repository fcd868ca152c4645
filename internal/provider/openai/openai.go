// Package openai calls OpenAI-compatible chat completions servers (OpenAI,
// Azure OpenAI's v1 endpoint, vLLM, Ollama, LiteLLM, ...) over plain HTTP and
// classifies their failures into provider error kinds.
//
// The wire protocol is spoken here rather than through github.com/openai/openai-go:
// we use two endpoints and a dozen fields, and the SDK added 12 MB to a binary
// whose Docker image must stay under 25 MB.
//
// API reference: https://platform.openai.com/docs/api-reference/chat/create
package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

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
	// HTTPClient sends the requests; nil means a client shared by the whole
	// package, which keeps up to 64 idle connections per host.
	HTTPClient *http.Client
}

// Client calls one OpenAI-compatible server. It is safe for concurrent use.
type Client struct {
	http      *http.Client
	chatURL   string
	embedURL  string
	key       string
	official  bool // OpenAI's own API: strict about unknown fields
	keyEnv    string
	hasAPIKey bool
	// endpoint is the API root, without user info: what identifies the
	// server in the response cache's key.
	endpoint string
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
		base += "/" // "chat/completions" is resolved against it
	}
	root, err := url.Parse(base)
	if err != nil || (root.Scheme != "http" && root.Scheme != "https") || root.Host == "" {
		return nil, fmt.Errorf("openai: base_url %q: set it to the server's API root, e.g. http://localhost:11434/v1/", opts.BaseURL)
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
	hc := opts.HTTPClient
	if hc == nil {
		hc = sharedClient
	}
	return &Client{
		http:      keepOrigin(hc, root),
		chatURL:   root.ResolveReference(&url.URL{Path: "chat/completions"}).String(),
		embedURL:  root.ResolveReference(&url.URL{Path: "embeddings"}).String(),
		key:       key,
		official:  official,
		keyEnv:    keyEnv,
		hasAPIKey: key != "",
		endpoint:  root.Redacted(),
	}, nil
}

// Endpoint is the server's API root: two servers never share cached answers.
func (c *Client) Endpoint() string { return c.endpoint }

// Complete sends one chat completion, streamed when req.Stream is set so that
// the time to first token is measured.
func (c *Client) Complete(ctx context.Context, req provider.Request) (provider.Response, error) {
	body, err := c.body(req)
	if err != nil {
		return provider.Response{}, err
	}
	if req.Stream {
		return c.stream(ctx, req.Model, body)
	}
	start := time.Now()
	var out completion
	header, err := c.call(ctx, c.chatURL, body, &out)
	latency := time.Since(start)
	if err != nil {
		return provider.Response{}, c.classify(ctx, req.Model, err)
	}
	resp := provider.Response{Latency: latency, Usage: out.Usage.provider(), RateLimit: rateLimitOf(header)}
	if len(out.Choices) > 0 {
		resp.Text = out.Choices[0].Message.Content
		resp.StopReason = normalizeStop(out.Choices[0].FinishReason)
	}
	return resp, nil
}

func (c *Client) stream(ctx context.Context, model string, body chatRequest) (provider.Response, error) {
	body.Stream = true
	body.StreamOptions = &streamOptions{IncludeUsage: true}
	start := time.Now()
	httpResp, err := c.post(ctx, c.chatURL, body)
	if err != nil {
		return provider.Response{}, c.classify(ctx, model, err)
	}
	defer httpResp.Body.Close()

	var (
		resp     provider.Response
		text     strings.Builder
		finished bool
		events   = newEventReader(httpResp.Body)
	)
	for {
		data, err := events.next()
		if errors.Is(err, io.EOF) {
			// A server that ends the response cleanly without [DONE] is
			// accepted, as before; a cut connection is a read error instead.
			break
		}
		if err != nil {
			return provider.Response{}, c.classify(ctx, model, readError(ctx, err))
		}
		if bytes.HasPrefix(data, doneEvent) {
			// Not drained: a server may hold the response open after [DONE].
			break
		}
		var ch chunk
		err = json.Unmarshal(data, &ch)
		// A type mismatch elsewhere in the chunk still fills Error: the
		// server's complaint is the better explanation.
		if len(ch.Error) > 0 && !bytes.Equal(ch.Error, []byte("null")) {
			return provider.Response{}, c.classify(ctx, model, newStreamError(ch.Error))
		}
		if err != nil {
			return provider.Response{}, c.classify(ctx, model, fmt.Errorf("parsing a response stream chunk: %w", err))
		}
		for _, choice := range ch.Choices {
			if choice.Index != 0 {
				continue
			}
			if choice.Delta.Content != "" {
				if resp.TTFT == 0 {
					resp.TTFT = time.Since(start)
				}
				text.WriteString(choice.Delta.Content)
			}
			if choice.FinishReason != "" {
				resp.StopReason = normalizeStop(choice.FinishReason)
				finished = true
			}
		}
		if text.Len() > maxResponseBytes {
			return provider.Response{}, provider.Errorf(provider.KindOther, Name, "model %s: streamed reply exceeds %d MB", model, maxResponseBytes>>20)
		}
		// With include_usage the last chunk carries the usage and no choices;
		// the others carry "usage": null, which leaves Usage nil.
		if ch.Usage != nil {
			resp.Usage = ch.Usage.provider()
		}
	}
	resp.Latency = time.Since(start)
	resp.RateLimit = rateLimitOf(httpResp.Header)
	if !finished {
		return provider.Response{}, &provider.Error{Kind: provider.KindTransient, Provider: Name,
			Err: fmt.Errorf("model %s: response stream ended before a finish_reason", model)}
	}
	resp.Text = text.String()
	return resp, nil
}

// doneEvent ends an OpenAI response stream.
var doneEvent = []byte("[DONE]")

// chatRequest is the body of POST chat/completions. Unset parameters are left
// out so that the server's defaults apply.
type chatRequest struct {
	Model       string        `json:"model"`
	Messages    []chatMessage `json:"messages"`
	Temperature *float64      `json:"temperature,omitempty"`
	TopP        *float64      `json:"top_p,omitempty"`
	// TopK is not part of the OpenAI API; compatible servers read it.
	TopK                *int           `json:"top_k,omitempty"`
	MaxTokens           *int           `json:"max_tokens,omitempty"`
	MaxCompletionTokens *int           `json:"max_completion_tokens,omitempty"`
	Stop                []string       `json:"stop,omitempty"`
	Seed                *int64         `json:"seed,omitempty"`
	Stream              bool           `json:"stream,omitempty"`
	StreamOptions       *streamOptions `json:"stream_options,omitempty"`
}

type chatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type streamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// completion is the part of a chat completion we read.
type completion struct {
	Choices []completionChoice `json:"choices"`
	Usage   usage              `json:"usage"`
}

type completionChoice struct {
	Message struct {
		Content string `json:"content"`
	} `json:"message"`
	FinishReason string `json:"finish_reason"`
}

// chunk is the part of a chat completion chunk we read. Error is set when a
// server fails after it has started answering with status 200.
type chunk struct {
	Choices []chunkChoice   `json:"choices"`
	Usage   *usage          `json:"usage"`
	Error   json.RawMessage `json:"error"`
}

type chunkChoice struct {
	Index int `json:"index"`
	Delta struct {
		Content string `json:"content"`
	} `json:"delta"`
	FinishReason string `json:"finish_reason"`
}

type usage struct {
	PromptTokens        count `json:"prompt_tokens"`
	CompletionTokens    count `json:"completion_tokens"`
	PromptTokensDetails struct {
		CachedTokens count `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
}

// provider counts cached prompt tokens apart: OpenAI's prompt_tokens includes
// them, provider.Usage.InputTokens does not (they are priced differently).
// Tokens written to the cache stay input tokens: OpenAI bills them at the
// input price.
func (u usage) provider() provider.Usage {
	cached := int(u.PromptTokensDetails.CachedTokens)
	return provider.Usage{
		InputTokens:     int(u.PromptTokens) - cached,
		OutputTokens:    int(u.CompletionTokens),
		CacheReadTokens: cached,
	}
}

// count is a token count. It accepts 12.0 and "12" as well as 12, as the SDK
// did: not every compatible server is strict about JSON number types, and a
// count is not worth failing a reply over.
type count int

func (c *count) UnmarshalJSON(b []byte) error {
	s := string(bytes.Trim(b, `"`))
	if s == "null" || s == "" {
		return nil
	}
	var f float64
	if err := json.Unmarshal([]byte(s), &f); err != nil {
		return fmt.Errorf("token count %s is not a number", b)
	}
	*c = count(f)
	return nil
}

// body translates a request.
func (c *Client) body(req provider.Request) (chatRequest, error) {
	p := chatRequest{Model: req.Model, Messages: make([]chatMessage, 0, len(req.Messages)+1)}
	if req.System != "" {
		p.Messages = append(p.Messages, chatMessage{Role: "system", Content: req.System})
	}
	for _, m := range req.Messages {
		role := "user"
		if m.Role == provider.RoleAssistant {
			role = "assistant"
		}
		p.Messages = append(p.Messages, chatMessage{Role: role, Content: m.Content})
	}
	ps := req.Params
	p.Temperature = ps.Temperature
	p.TopP = ps.TopP
	if ps.MaxTokens != nil {
		// OpenAI's reasoning models accept only max_completion_tokens; many
		// compatible servers know only the older max_tokens.
		if c.official {
			p.MaxCompletionTokens = ps.MaxTokens
		} else {
			p.MaxTokens = ps.MaxTokens
		}
	}
	if len(ps.Stop) > 0 {
		p.Stop = ps.Stop
	}
	p.Seed = ps.Seed
	if ps.TopK != nil {
		// top_k is not part of the OpenAI API, which rejects unknown fields;
		// vLLM, Ollama, LiteLLM and llama.cpp read it from the body.
		if c.official {
			return p, provider.Errorf(provider.KindInvalidRequest, Name,
				"model %s: the OpenAI API has no top_k parameter: remove top_k from the target's params, "+
					"or set base_url to a server that accepts it (vLLM, Ollama)", req.Model)
		}
		p.TopK = ps.TopK
	}
	return p, nil
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
