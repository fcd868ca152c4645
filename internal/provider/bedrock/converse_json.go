package bedrock

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"

	"github.com/evalgate/evalgate/internal/provider"
)

// The Converse API's request and response bodies as JSON, for batch
// inference: a model invocation job of type Converse reads each record's
// modelInput as a Converse request body and writes each modelOutput as a
// Converse response body. The SDK serializes these only inside its own
// operations, so the batch path writes and reads them here, beside
// converseInput, from the same provider.Request.
// https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html

type converseBody struct {
	System          []textBlock      `json:"system,omitempty"`
	Messages        []messageBody    `json:"messages"`
	InferenceConfig *inferenceConfig `json:"inferenceConfig,omitempty"`
	// AdditionalModelRequestFields carries top_k in the model family's
	// own shape (topKField).
	AdditionalModelRequestFields map[string]any `json:"additionalModelRequestFields,omitempty"`
}

type textBlock struct {
	Text string `json:"text"`
}

type messageBody struct {
	Role    string      `json:"role"`
	Content []textBlock `json:"content"`
}

type inferenceConfig struct {
	MaxTokens     *int     `json:"maxTokens,omitempty"`
	Temperature   *float64 `json:"temperature,omitempty"`
	TopP          *float64 `json:"topP,omitempty"`
	StopSequences []string `json:"stopSequences,omitempty"`
}

// ConverseJSON is req as the JSON body of a Converse request: what a batch
// record's modelInput holds. The model is not part of it (the job names it);
// cache points are not written (a batch job is priced per token already).
func ConverseJSON(req provider.Request) (json.RawMessage, error) {
	var b converseBody
	if req.System != "" {
		b.System = []textBlock{{Text: req.System}}
	}
	for _, m := range req.Messages {
		role := string(types.ConversationRoleUser)
		if m.Role == provider.RoleAssistant {
			role = string(types.ConversationRoleAssistant)
		}
		b.Messages = append(b.Messages, messageBody{Role: role, Content: []textBlock{{Text: m.Content}}})
	}
	p := req.Params
	if p.MaxTokens != nil || p.Temperature != nil || p.TopP != nil || len(p.Stop) > 0 {
		b.InferenceConfig = &inferenceConfig{MaxTokens: p.MaxTokens, Temperature: p.Temperature, TopP: p.TopP, StopSequences: p.Stop}
	}
	if p.TopK != nil {
		b.AdditionalModelRequestFields = topKField(req.Model, *p.TopK)
	}
	out, err := json.Marshal(b)
	if err != nil {
		return nil, fmt.Errorf("bedrock: converse body of model %s: %w", req.Model, err)
	}
	return out, nil
}

// converseOutput is the part of a Converse response body evalgate reads.
type converseOutput struct {
	Output struct {
		Message *struct {
			Content []struct {
				Text *string `json:"text"`
			} `json:"content"`
		} `json:"message"`
	} `json:"output"`
	StopReason string `json:"stopReason"`
	Usage      *struct {
		InputTokens           int `json:"inputTokens"`
		OutputTokens          int `json:"outputTokens"`
		CacheReadInputTokens  int `json:"cacheReadInputTokens"`
		CacheWriteInputTokens int `json:"cacheWriteInputTokens"`
	} `json:"usage"`
	Metrics *struct {
		LatencyMs int64 `json:"latencyMs"`
	} `json:"metrics"`
}

// ParseConverseJSON reads a Converse response body (a batch record's
// modelOutput) into a response. A batch record has no time of its own to
// the caller: its Latency is the service's latencyMs, as is ServiceLatency.
func ParseConverseJSON(body []byte) (provider.Response, error) {
	var out converseOutput
	if err := json.Unmarshal(body, &out); err != nil {
		return provider.Response{}, fmt.Errorf("converse response: %w", err)
	}
	if out.Output.Message == nil || out.StopReason == "" {
		return provider.Response{}, errors.New("converse response: no output.message or stopReason")
	}
	var text strings.Builder
	for _, c := range out.Output.Message.Content {
		if c.Text != nil {
			text.WriteString(*c.Text)
		}
	}
	resp := provider.Response{Text: text.String(), StopReason: normalizeStop(types.StopReason(out.StopReason))}
	if u := out.Usage; u != nil {
		resp.Usage = provider.Usage{InputTokens: u.InputTokens, OutputTokens: u.OutputTokens,
			CacheReadTokens: u.CacheReadInputTokens, CacheWriteTokens: u.CacheWriteInputTokens}
	}
	if m := out.Metrics; m != nil {
		resp.ServiceLatency = time.Duration(m.LatencyMs) * time.Millisecond
		resp.Latency = resp.ServiceLatency
	}
	return resp, nil
}
