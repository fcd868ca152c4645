package bedrock

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentruntime"
	agenttypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentruntime/types"

	"github.com/evalgate/evalgate/internal/provider"
)

// Optimizer calls Amazon Bedrock Prompt Optimization, the OptimizePrompt
// operation of bedrock-agent-runtime. It streams analyzePromptEvent (what
// the service found in the prompt) and optimizedPromptEvent (the rewrite).
// https://docs.aws.amazon.com/bedrock/latest/APIReference/API_agent-runtime_OptimizePrompt.html
//
// It is a run.Provider so that its calls share the run's retries, limits,
// cache, cassettes and budget: Complete sends the request's user message for
// the request's model and returns an OptimizeResult as JSON in the text.
type Optimizer struct {
	ag *bedrockagentruntime.Client
	c  *Client
}

// OptimizeResult is the text of an Optimizer response.
type OptimizeResult struct {
	Analysis []string `json:"analysis,omitempty"`
	Prompt   string   `json:"optimized_prompt"`
}

// NewOptimizer builds a client from the same AWS config as New.
func NewOptimizer(ctx context.Context, opts Options) (*Optimizer, error) {
	cfg, err := loadConfig(ctx, opts)
	if err != nil {
		return nil, err
	}
	ag := bedrockagentruntime.NewFromConfig(cfg, func(o *bedrockagentruntime.Options) {
		if opts.Endpoint != "" {
			o.BaseEndpoint = aws.String(opts.Endpoint)
		}
	})
	return &Optimizer{ag: ag, c: &Client{region: cfg.Region}}, nil
}

// Complete optimizes the text of req's last user message for req.Model.
func (o *Optimizer) Complete(ctx context.Context, req provider.Request) (provider.Response, error) {
	var text string
	if n := len(req.Messages); n > 0 {
		text = req.Messages[n-1].Content
	}
	start := time.Now()
	out, err := o.ag.OptimizePrompt(ctx, &bedrockagentruntime.OptimizePromptInput{
		Input:         &agenttypes.InputPromptMemberTextPrompt{Value: agenttypes.TextPrompt{Text: aws.String(text)}},
		TargetModelId: aws.String(req.Model),
	})
	if err != nil {
		return provider.Response{}, o.classify(ctx, req.Model, err)
	}
	stream := out.GetStream()
	defer stream.Close()
	var res OptimizeResult
	var optimized strings.Builder
	for ev := range stream.Events() {
		switch v := ev.(type) {
		case *agenttypes.OptimizedPromptStreamMemberAnalyzePromptEvent:
			if v.Value.Message != nil {
				res.Analysis = append(res.Analysis, *v.Value.Message)
			}
		case *agenttypes.OptimizedPromptStreamMemberOptimizedPromptEvent:
			if tp, ok := v.Value.OptimizedPrompt.(*agenttypes.OptimizedPromptMemberTextPrompt); ok && tp.Value.Text != nil {
				optimized.WriteString(*tp.Value.Text)
			}
		}
	}
	if err := stream.Err(); err != nil {
		return provider.Response{}, o.classify(ctx, req.Model, err)
	}
	res.Prompt = optimized.String()
	b, err := json.Marshal(res)
	if err != nil {
		return provider.Response{}, provider.Errorf(provider.KindOther, Name, "optimize prompt for %s: %v", req.Model, err)
	}
	return provider.Response{Text: string(b), Latency: time.Since(start), StopReason: "end_turn"}, nil
}

// classify maps errors like every Bedrock call, with the permission and the
// model list of prompt optimization in the messages that need them.
func (o *Optimizer) classify(ctx context.Context, model string, err error) error {
	e := o.c.classify(ctx, model, err)
	pe, ok := e.(*provider.Error)
	if !ok {
		return e
	}
	switch {
	case pe.Kind == provider.KindAuth:
		pe.Err = fmt.Errorf("optimize prompt for %s in region %s: access denied; the caller needs the IAM permission bedrock:OptimizePrompt (and credentials: %s): %w", model, o.c.region, credentialsHelp, err)
	case pe.Kind == provider.KindInvalidRequest:
		pe.Err = fmt.Errorf("optimize prompt for %s in region %s: rejected; prompt optimization supports only some models and regions (see README, \"Optimizing the prompt\"), and an inference profile id may need to be its base model id: %w", model, o.c.region, err)
	default:
		pe.Err = fmt.Errorf("optimize prompt: %w", pe.Err)
	}
	return pe
}
