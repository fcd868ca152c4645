// Package bedrock calls Amazon Bedrock models through the Converse and
// ConverseStream APIs of aws-sdk-go-v2, and classifies their failures into
// provider error kinds.
//
// Credentials and region come from the SDK's default chain
// (config.LoadDefaultConfig): environment variables, shared profiles, web
// identity (the OIDC role that aws-actions/configure-aws-credentials sets up),
// container and instance roles, and Bedrock API keys (AWS_BEARER_TOKEN_BEDROCK).
//
// API reference: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html
package bedrock

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/document"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"

	"github.com/evalgate/evalgate/internal/provider"
)

// Name is the provider name in evalgate.yaml and in classified errors.
const Name = "bedrock"

// maxIdleConnsPerHost keeps a connection per concurrent call alive: the SDK's
// default of 10 makes runs with a higher concurrency reopen TLS connections.
const maxIdleConnsPerHost = 64

// Options configure a Client. The zero value uses the SDK's default chain for
// everything.
type Options struct {
	// Region overrides the region of the default chain (AWS_REGION, profile).
	Region string
	// Endpoint overrides the service endpoint (a VPC endpoint, a proxy, a test
	// server). A path in it is kept as a prefix of every request path.
	Endpoint string
	// HTTPClient sends the requests; nil means the SDK's client with a larger
	// idle connection pool. With AWS_CA_BUNDLE set it must be an
	// *awshttp.BuildableClient, which the SDK can give the extra root CAs.
	HTTPClient aws.HTTPClient
	// Credentials replaces the default credential chain (tests use static
	// credentials); nil means the default chain.
	Credentials aws.CredentialsProvider
	// ConfigOptions are passed on to config.LoadDefaultConfig after evalgate's
	// own, e.g. config.WithSharedConfigFiles to keep tests away from ~/.aws.
	ConfigOptions []func(*config.LoadOptions) error
}

// Client calls one Bedrock region. It is safe for concurrent use.
type Client struct {
	rt     *bedrockruntime.Client
	region string
	// endpoint is Options.Endpoint, "" for the region's own.
	endpoint string
}

// The signature the run engine calls.
var _ interface {
	Complete(context.Context, provider.Request) (provider.Response, error)
} = (*Client)(nil)

// New loads the AWS configuration and returns a client. It does not call AWS:
// missing credentials surface on the first call as a KindAuth error.
func New(ctx context.Context, opts Options) (*Client, error) {
	cfg, err := loadConfig(ctx, opts)
	if err != nil {
		return nil, err
	}
	rt := bedrockruntime.NewFromConfig(cfg, func(o *bedrockruntime.Options) {
		if opts.Endpoint != "" {
			o.BaseEndpoint = aws.String(opts.Endpoint)
		}
	})
	endpoint := opts.Endpoint
	if u, err := url.Parse(endpoint); err == nil && endpoint != "" {
		endpoint = u.Redacted() // the key is a hash, but a password has no business in it
	}
	return &Client{rt: rt, region: cfg.Region, endpoint: endpoint}, nil
}

// loadConfig is the AWS config every Bedrock client of evalgate shares:
// one SDK attempt per call, the region, credentials and HTTP client of opts.
func loadConfig(ctx context.Context, opts Options) (aws.Config, error) {
	loadOpts := []func(*config.LoadOptions) error{
		// The run engine retries with its own backoff, budget and rate limits;
		// SDK retries underneath would multiply attempts and hide throttling
		// from the adaptive limiter, so the SDK makes exactly one attempt.
		config.WithRetryer(func() aws.Retryer { return aws.NopRetryer{} }),
	}
	if opts.Region != "" {
		loadOpts = append(loadOpts, config.WithRegion(opts.Region))
	}
	if opts.Credentials != nil {
		loadOpts = append(loadOpts, config.WithCredentialsProvider(opts.Credentials))
	}
	httpClient := opts.HTTPClient
	if httpClient == nil {
		httpClient = awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
			t.MaxIdleConnsPerHost = maxIdleConnsPerHost
		})
	}
	loadOpts = append(loadOpts, config.WithHTTPClient(httpClient))
	loadOpts = append(loadOpts, opts.ConfigOptions...)

	cfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("bedrock: load aws config: %w", err)
	}
	if cfg.Region == "" {
		return aws.Config{}, errors.New("bedrock: no aws region: set region in the target or AWS_REGION in the environment")
	}
	if cfg.Credentials != nil {
		cfg.Credentials = credentialsMarker{inner: cfg.Credentials}
	}
	return cfg, nil
}

// Region is the AWS region the client calls.
func (c *Client) Region() string { return c.region }

// Endpoint identifies the service called: the region, and the custom
// endpoint when one is set (a VPC endpoint, a proxy), so that two of them
// never share cached answers.
func (c *Client) Endpoint() string {
	if c.endpoint == "" {
		return c.region
	}
	return c.region + " " + c.endpoint
}

// Complete sends one request with Converse, or ConverseStream when req.Stream
// is set so that the time to first token is measured.
func (c *Client) Complete(ctx context.Context, req provider.Request) (provider.Response, error) {
	if req.Stream {
		return c.converseStream(ctx, req)
	}
	return c.converse(ctx, req)
}

func (c *Client) converse(ctx context.Context, req provider.Request) (provider.Response, error) {
	in := converseInput(req)
	start := time.Now()
	out, err := c.rt.Converse(ctx, in)
	latency := time.Since(start)
	if err != nil {
		return provider.Response{}, c.classify(ctx, req.Model, err)
	}
	resp := provider.Response{
		Latency:    latency,
		StopReason: normalizeStop(out.StopReason),
		Usage:      usageOf(out.Usage),
	}
	if out.Metrics != nil && out.Metrics.LatencyMs != nil {
		resp.ServiceLatency = time.Duration(*out.Metrics.LatencyMs) * time.Millisecond
	}
	if msg, ok := out.Output.(*types.ConverseOutputMemberMessage); ok {
		resp.Text = textOf(msg.Value.Content)
	}
	return resp, nil
}

func (c *Client) converseStream(ctx context.Context, req provider.Request) (provider.Response, error) {
	in := converseInput(req)
	start := time.Now()
	out, err := c.rt.ConverseStream(ctx, &bedrockruntime.ConverseStreamInput{
		ModelId:                      in.ModelId,
		System:                       in.System,
		Messages:                     in.Messages,
		InferenceConfig:              in.InferenceConfig,
		AdditionalModelRequestFields: in.AdditionalModelRequestFields,
	})
	if err != nil {
		return provider.Response{}, c.classify(ctx, req.Model, err)
	}
	stream := out.GetStream()
	defer stream.Close()

	var (
		resp provider.Response
		text strings.Builder
	)
	for ev := range stream.Events() {
		switch ev := ev.(type) {
		case *types.ConverseStreamOutputMemberContentBlockDelta:
			if d, ok := ev.Value.Delta.(*types.ContentBlockDeltaMemberText); ok {
				if resp.TTFT == 0 && d.Value != "" {
					resp.TTFT = time.Since(start)
				}
				text.WriteString(d.Value)
			}
		case *types.ConverseStreamOutputMemberMessageStop:
			resp.StopReason = normalizeStop(ev.Value.StopReason)
		case *types.ConverseStreamOutputMemberMetadata:
			resp.Usage = usageOf(ev.Value.Usage)
			if m := ev.Value.Metrics; m != nil && m.LatencyMs != nil {
				resp.ServiceLatency = time.Duration(*m.LatencyMs) * time.Millisecond
			}
		}
	}
	resp.Latency = time.Since(start)
	if err := stream.Err(); err != nil {
		return provider.Response{}, c.classify(ctx, req.Model, err)
	}
	if resp.StopReason == "" {
		// The service always ends a stream with messageStop; a stream without
		// one was cut by the network or a proxy.
		return provider.Response{}, &provider.Error{Kind: provider.KindTransient, Provider: Name,
			Err: fmt.Errorf("model %s: response stream ended before messageStop", req.Model)}
	}
	resp.Text = text.String()
	return resp, nil
}

// converseInput translates a request; converseStream copies its fields into
// a ConverseStreamInput.
func converseInput(req provider.Request) *bedrockruntime.ConverseInput {
	in := &bedrockruntime.ConverseInput{ModelId: aws.String(req.Model)}
	if req.System != "" {
		head, tail, cache := cut(req.System, req.CacheSystem)
		in.System = []types.SystemContentBlock{&types.SystemContentBlockMemberText{Value: head}}
		if cache {
			in.System = append(in.System, &types.SystemContentBlockMemberCachePoint{Value: cachePoint})
			if tail != "" {
				in.System = append(in.System, &types.SystemContentBlockMemberText{Value: tail})
			}
		}
	}
	for i, m := range req.Messages {
		role := types.ConversationRoleUser
		if m.Role == provider.RoleAssistant {
			role = types.ConversationRoleAssistant
		}
		prefix := 0
		if i == 0 {
			prefix = req.CacheUser
		}
		head, tail, cache := cut(m.Content, prefix)
		content := []types.ContentBlock{&types.ContentBlockMemberText{Value: head}}
		if cache {
			content = append(content, &types.ContentBlockMemberCachePoint{Value: cachePoint})
			if tail != "" {
				content = append(content, &types.ContentBlockMemberText{Value: tail})
			}
		}
		in.Messages = append(in.Messages, types.Message{Role: role, Content: content})
	}
	p := req.Params
	var ic types.InferenceConfiguration
	set := false
	if p.MaxTokens != nil {
		ic.MaxTokens, set = aws.Int32(int32(*p.MaxTokens)), true
	}
	if p.Temperature != nil {
		ic.Temperature, set = aws.Float32(float32(*p.Temperature)), true
	}
	if p.TopP != nil {
		ic.TopP, set = aws.Float32(float32(*p.TopP)), true
	}
	if len(p.Stop) > 0 {
		ic.StopSequences, set = p.Stop, true
	}
	if set {
		in.InferenceConfig = &ic
	}
	// Converse has no top_k field: models that take one read it from their
	// native request body, passed as additionalModelRequestFields. Converse
	// has no seed either; Params.Seed is ignored.
	if p.TopK != nil {
		in.AdditionalModelRequestFields = document.NewLazyDocument(topKField(req.Model, *p.TopK))
	}
	return in
}

// cachePoint ends the prefix Bedrock caches: everything before it in the
// request (system blocks, then messages) is written to the cache on a miss
// and read from it on a hit. A prefix shorter than the model's minimum
// (1,024 tokens for most Claude models) is simply not cached; the call still
// succeeds.
// https://docs.aws.amazon.com/bedrock/latest/userguide/prompt-caching.html
var cachePoint = types.CachePointBlock{Type: types.CachePointTypeDefault}

// cut splits text after its first n bytes, the shared prefix to cache. cache
// is false when there is nothing to cache (n is 0) or n does not fit text.
func cut(text string, n int) (head, tail string, cache bool) {
	if n <= 0 || n > len(text) {
		return text, "", false
	}
	return text[:n], text[n:], true
}

// topKField is top_k in the native body of the model's family: Nova nests
// it as inferenceConfig.topK; Anthropic and Mistral models read "top_k".
// https://docs.aws.amazon.com/nova/latest/userguide/using-converse-api.html
func topKField(model string, k int) map[string]any {
	if strings.Contains(model, "amazon.nova") {
		return map[string]any{"inferenceConfig": map[string]any{"topK": k}}
	}
	return map[string]any{"top_k": k}
}

func textOf(blocks []types.ContentBlock) string {
	var b strings.Builder
	for _, cb := range blocks {
		if t, ok := cb.(*types.ContentBlockMemberText); ok {
			b.WriteString(t.Value)
		}
	}
	return b.String()
}

func usageOf(u *types.TokenUsage) provider.Usage {
	if u == nil {
		return provider.Usage{}
	}
	return provider.Usage{
		InputTokens:      int(aws.ToInt32(u.InputTokens)),
		OutputTokens:     int(aws.ToInt32(u.OutputTokens)),
		CacheReadTokens:  int(aws.ToInt32(u.CacheReadInputTokens)),
		CacheWriteTokens: int(aws.ToInt32(u.CacheWriteInputTokens)),
	}
}

// normalizeStop maps Bedrock's stop reasons onto the words of
// provider.Response.StopReason; others pass through.
func normalizeStop(r types.StopReason) string {
	switch r {
	case types.StopReasonMaxTokens:
		return provider.StopMaxTokens
	case types.StopReasonGuardrailIntervened, types.StopReasonContentFiltered:
		return "content_filtered"
	default:
		return string(r)
	}
}

// AWSConfig is the AWS configuration the runtime client is built from
// (region, credentials, HTTP client, one SDK attempt per call), for the
// other Bedrock clients of evalgate (batch jobs) to share.
func AWSConfig(ctx context.Context, opts Options) (aws.Config, error) { return loadConfig(ctx, opts) }
