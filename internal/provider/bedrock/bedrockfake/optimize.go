package bedrockfake

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// The OptimizePrompt operation of bedrock-agent-runtime: a POST of JSON, and
// a reply of event-stream frames (analyzePromptEvent, then
// optimizedPromptEvent), or exception frames such as throttlingException.
// https://docs.aws.amazon.com/bedrock/latest/APIReference/API_agent-runtime_OptimizePrompt.html

// OptimizePath is the operation's path below the endpoint.
const OptimizePath = "/optimize-prompt"

// OptimizeRequest is the body of an OptimizePrompt request.
type OptimizeRequest struct {
	Input struct {
		TextPrompt struct {
			Text string `json:"text"`
		} `json:"textPrompt"`
	} `json:"input"`
	TargetModelID string `json:"targetModelId"`
}

// DecodeOptimizeRequest reads an OptimizePrompt request body.
func DecodeOptimizeRequest(r *http.Request) (OptimizeRequest, error) {
	var req OptimizeRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		return OptimizeRequest{}, fmt.Errorf("decode optimize-prompt request: %w", err)
	}
	return req, nil
}

// OptimizeEvents are the events of a successful OptimizePrompt reply: one
// analyzePromptEvent per analysis message, then the optimized prompt.
func OptimizeEvents(analysis []string, optimized string) []Event {
	var evs []Event
	for _, a := range analysis {
		evs = append(evs, Event{Type: "analyzePromptEvent", Payload: map[string]any{"message": a}})
	}
	return append(evs, Event{Type: "optimizedPromptEvent", Payload: map[string]any{
		"optimizedPrompt": map[string]any{"textPrompt": map[string]any{"text": optimized}},
	}})
}
