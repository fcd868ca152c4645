// Package bedrockfake is a stand-in for the Amazon Bedrock runtime that speaks
// its wire formats: the Converse JSON API, ConverseStream's AWS event-stream
// binary frames, and its JSON error responses. Tests and benchmarks point the
// real SDK client at it; it never leaves 127.0.0.1.
//
// Wire formats:
// https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html
// https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html
// https://docs.aws.amazon.com/AmazonS3/latest/API/RESTSelectObjectAppendix.html (event-stream framing)
package bedrockfake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
)

// Reply is what the fake model answers.
type Reply struct {
	Text             string
	InputTokens      int
	OutputTokens     int
	CacheReadTokens  int
	CacheWriteTokens int
	// StopReason is Bedrock's word ("end_turn", "max_tokens", ...); empty
	// means "end_turn".
	StopReason string
	// LatencyMs is the service latency reported in metrics.latencyMs.
	LatencyMs int64
}

// Request is the body of a Converse or ConverseStream request, reduced to the
// fields evalgate sends.
type Request struct {
	System   []Block `json:"system"`
	Messages []struct {
		Role    string  `json:"role"`
		Content []Block `json:"content"`
	} `json:"messages"`
	InferenceConfig *struct {
		MaxTokens     *int     `json:"maxTokens"`
		Temperature   *float64 `json:"temperature"`
		TopP          *float64 `json:"topP"`
		StopSequences []string `json:"stopSequences"`
	} `json:"inferenceConfig"`
	AdditionalModelRequestFields map[string]any `json:"additionalModelRequestFields"`
}

// Block is a system or message content block: text, or a cache point that
// ends the prompt prefix the service caches.
type Block struct {
	Text       string      `json:"text,omitempty"`
	CachePoint *CachePoint `json:"cachePoint,omitempty"`
}

// CachePoint is a cachePoint block: {"type": "default"}.
type CachePoint struct {
	Type string `json:"type"`
}

// ParsePath splits a request path "{prefix}/model/{modelId}/converse[-stream]"
// into the model id and whether the call streams; ok is false for any other
// path.
func ParsePath(prefix, escapedPath string) (modelID string, stream, ok bool) {
	rest, found := strings.CutPrefix(escapedPath, strings.TrimSuffix(prefix, "/")+"/model/")
	if !found {
		return "", false, false
	}
	id, op, found := strings.Cut(rest, "/")
	if !found || (op != "converse" && op != "converse-stream") {
		return "", false, false
	}
	id, err := url.PathUnescape(id)
	if err != nil || id == "" {
		return "", false, false
	}
	return id, op == "converse-stream", true
}

// DecodeRequest reads a Converse request body.
func DecodeRequest(r *http.Request) (Request, error) {
	var req Request
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		return Request{}, fmt.Errorf("decode converse request: %w", err)
	}
	return req, nil
}

func stopOf(r Reply) string {
	if r.StopReason == "" {
		return "end_turn"
	}
	return r.StopReason
}

func usageJSON(r Reply) map[string]any {
	return map[string]any{
		"inputTokens":           r.InputTokens,
		"outputTokens":          r.OutputTokens,
		"totalTokens":           r.InputTokens + r.OutputTokens,
		"cacheReadInputTokens":  r.CacheReadTokens,
		"cacheWriteInputTokens": r.CacheWriteTokens,
	}
}

// ConverseBody is the JSON body of a successful Converse response.
func ConverseBody(r Reply) []byte {
	b, _ := json.Marshal(map[string]any{
		"output": map[string]any{"message": map[string]any{
			"role":    "assistant",
			"content": []any{map[string]any{"text": r.Text}},
		}},
		"stopReason": stopOf(r),
		"usage":      usageJSON(r),
		"metrics":    map[string]any{"latencyMs": r.LatencyMs},
	})
	return b
}

// WriteConverse writes a successful Converse response.
func WriteConverse(w http.ResponseWriter, r Reply) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Requestid", "fake-request-id")
	_, _ = w.Write(ConverseBody(r))
}

// WriteError writes an error response as the service does: the error code in
// the X-Amzn-ErrorType header and {"message": ...} in the body.
func WriteError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", code+":http://internal.amazon.com/coral/com.amazon.bedrock/")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, `{"message":%q}`, message)
}

// Event is one event-stream message of a ConverseStream response.
type Event struct {
	// Type is the event (messageStart, contentBlockDelta, contentBlockStop,
	// messageStop, metadata) or, with Exception set, the exception member
	// (throttlingException, internalServerException, ...).
	Type      string
	Exception bool
	Payload   any
}

// StreamEvents are the events of a successful ConverseStream reply, its text
// cut into chunks deltas.
func StreamEvents(r Reply, chunks int) []Event {
	evs := []Event{{Type: "messageStart", Payload: map[string]any{"role": "assistant"}}}
	for _, part := range split(r.Text, chunks) {
		evs = append(evs, Event{Type: "contentBlockDelta", Payload: map[string]any{
			"contentBlockIndex": 0, "delta": map[string]any{"text": part},
		}})
	}
	return append(evs,
		Event{Type: "contentBlockStop", Payload: map[string]any{"contentBlockIndex": 0}},
		Event{Type: "messageStop", Payload: map[string]any{"stopReason": stopOf(r)}},
		Event{Type: "metadata", Payload: map[string]any{
			"usage": usageJSON(r), "metrics": map[string]any{"latencyMs": r.LatencyMs},
		}},
	)
}

func split(s string, n int) []string {
	if n <= 1 || len(s) <= n {
		return []string{s}
	}
	var parts []string
	size := (len(s) + n - 1) / n
	for len(s) > size {
		parts = append(parts, s[:size])
		s = s[size:]
	}
	return append(parts, s)
}

// StartStream writes the headers of a ConverseStream response.
func StartStream(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
	w.Header().Set("X-Amzn-Requestid", "fake-request-id")
	w.WriteHeader(http.StatusOK)
}

// WriteEvent writes one binary event-stream frame, with the headers the
// service sets, and flushes it.
func WriteEvent(w io.Writer, ev Event) error {
	payload, err := json.Marshal(ev.Payload)
	if err != nil {
		return fmt.Errorf("encode %s payload: %w", ev.Type, err)
	}
	var msg eventstream.Message
	if ev.Exception {
		msg.Headers.Set(":message-type", eventstream.StringValue("exception"))
		msg.Headers.Set(":exception-type", eventstream.StringValue(ev.Type))
	} else {
		msg.Headers.Set(":message-type", eventstream.StringValue("event"))
		msg.Headers.Set(":event-type", eventstream.StringValue(ev.Type))
	}
	msg.Headers.Set(":content-type", eventstream.StringValue("application/json"))
	msg.Payload = payload
	if err := eventstream.NewEncoder().Encode(w, msg); err != nil {
		return fmt.Errorf("encode %s frame: %w", ev.Type, err)
	}
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	return nil
}

// WriteStream writes a whole successful ConverseStream response.
func WriteStream(w http.ResponseWriter, r Reply, chunks int) error {
	StartStream(w)
	for _, ev := range StreamEvents(r, chunks) {
		if err := WriteEvent(w, ev); err != nil {
			return err
		}
	}
	return nil
}
