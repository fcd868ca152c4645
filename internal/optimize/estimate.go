package optimize

import (
	"github.com/evalgate/evalgate/internal/pricing"
	"github.com/evalgate/evalgate/internal/provider"
)

// DefaultReplyTokens is the reply length assumed by the estimate when the
// target sets no max_tokens.
const DefaultReplyTokens = 512

// Estimate is the dry-run plan: calls and an upper-bound cost before any call.
type Estimate struct {
	Candidates int `json:"candidates"`
	// GenerationCalls are the calls generators make (metaprompt, Bedrock).
	GenerationCalls int `json:"generation_calls"`
	DevSamples      int `json:"dev_samples"`
	HeldOutSamples  int `json:"held_out_samples"`
	Repeats         int `json:"repeats"`
	// DevCalls = (candidates + control) x dev samples x repeats; HeldOutCalls
	// = (winner + baseline) x held-out samples x repeats, less the baseline's
	// when it replays logged outputs.
	DevCalls     int `json:"dev_calls"`
	HeldOutCalls int `json:"held_out_calls"`
	// CostUSD bounds the target-model calls from the catalog price (each
	// reply at max_tokens); Known is false when the model has no price.
	CostUSD float64 `json:"cost_usd"`
	Known   bool    `json:"cost_known"`
}

// Cost estimates the calls: promptBytes are the control's rendered prompt
// sizes on the dev and held-out samples, in bytes.
func (e *Estimate) Cost(devBytes, heldBytes int, params provider.Params, price *pricing.Price, baselineCalls bool) {
	reply := DefaultReplyTokens
	if params.MaxTokens != nil {
		reply = *params.MaxTokens
	}
	variants := e.Candidates + 1
	e.DevCalls = variants * e.DevSamples * e.Repeats
	perHeld := 1
	if baselineCalls {
		perHeld = 2
	}
	e.HeldOutCalls = perHeld * e.HeldOutSamples * e.Repeats
	if price == nil {
		return
	}
	e.Known = true
	in := variants*e.Repeats*devBytes/bytesPerToken + perHeld*e.Repeats*heldBytes/bytesPerToken
	out := (e.DevCalls + e.HeldOutCalls) * reply
	e.CostUSD = price.Cost(provider.Usage{InputTokens: in, OutputTokens: out})
}
