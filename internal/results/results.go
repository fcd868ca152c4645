// Package results is evalgate's versioned results format: JSON Lines with a
// header line, one line per record (sample x target x repeat), and a summary
// line. It is written and read as a stream so that a suite of any size runs in
// constant memory; a file without its summary line was cut short and says so.
package results

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/evalgate/evalgate/internal/metric"
	"github.com/evalgate/evalgate/internal/provider"
)

// Format and Version identify the file; a reader refuses other versions.
const (
	Format  = "evalgate.results"
	Version = 1
)

// Line kinds: the "kind" field of every line.
const (
	KindHeader  = "header"
	KindRecord  = "record"
	KindSummary = "summary"
)

// Header is the first line: what was run, so that two files can be checked
// for comparability before they are paired.
type Header struct {
	Kind    string `json:"kind"`
	Format  string `json:"format"`
	Version int    `json:"version"`
	// Suite is the suite's name; SuiteHash hashes the dataset and metric
	// definitions (what makes two runs comparable), ConfigHash the whole config.
	Suite      string    `json:"suite"`
	SuiteHash  string    `json:"suite_hash"`
	ConfigHash string    `json:"config_hash,omitempty"`
	Dataset    string    `json:"dataset"`
	Started    time.Time `json:"started"`
	Repeats    int       `json:"repeats"`
	// Cluster is the dataset column that groups samples, if the suite named one.
	Cluster string        `json:"cluster,omitempty"`
	Targets []TargetInfo  `json:"targets"`
	Metrics []metric.Info `json:"metrics"`
	// Tool is the evalgate version that wrote the file.
	Tool string `json:"tool,omitempty"`
	// Shard is set when the run evaluated one shard of the dataset
	// (evalgate run --shard), so that evalgate merge can check that it
	// joins every shard once.
	Shard *Shard `json:"shard,omitempty"`
}

// Shard says which part of a dataset a run evaluated: the samples whose id
// hashes to Index among Count shards (Index counts from 1).
type Shard struct {
	Index int `json:"index"`
	Count int `json:"count"`
}

// TargetInfo describes one target of the run.
type TargetInfo struct {
	ID       string `json:"id"`
	Provider string `json:"provider"`
	Model    string `json:"model"`
	Prompt   string `json:"prompt,omitempty"`
	// PromptHash changes when the prompt's text changes.
	PromptHash string          `json:"prompt_hash,omitempty"`
	Params     provider.Params `json:"params"`
	// Priced is false when the model's price is unknown (cost is then null).
	Priced bool `json:"priced"`
	// Batch is set when the target's calls ran as a Bedrock batch job,
	// priced at the batch price.
	Batch bool `json:"batch,omitempty"`
}

// Record is one (sample, target, repeat) outcome.
type Record struct {
	Kind     string `json:"kind"`
	SampleID string `json:"sample_id"`
	Target   string `json:"target"`
	Repeat   int    `json:"repeat"`
	// Cluster is the sample's cluster value, when the suite names a cluster field.
	Cluster string `json:"cluster,omitempty"`
	// InputHash identifies the sample's content (InputHash of its input and
	// reference columns): the gate refuses to pair two records whose hashes
	// differ, which would compare answers to different questions.
	InputHash string `json:"input_hash,omitempty"`
	// Input is the rendered user prompt; Reference the ground truth.
	Input     string         `json:"input,omitempty"`
	Reference string         `json:"reference,omitempty"`
	Output    string         `json:"output"`
	Usage     provider.Usage `json:"usage"`
	LatencyMS float64        `json:"latency_ms"`
	TTFTMS    float64        `json:"ttft_ms,omitempty"`
	// ServiceLatencyMS is the latency the service reported (Bedrock's
	// metrics.latencyMs), next to our own wall latency.
	ServiceLatencyMS float64 `json:"service_latency_ms,omitempty"`
	// CostUSD is null when the price of the model is unknown.
	CostUSD    *float64 `json:"cost_usd"`
	StopReason string   `json:"stop_reason,omitempty"`
	Cached     bool     `json:"cached,omitempty"`
	Attempts   int      `json:"attempts,omitempty"`
	// Error is set when the call failed; Scores are then empty.
	Error *RecordError `json:"error,omitempty"`
	// Scores by metric name; a metric that could not score this record is in
	// ScoreErrors instead, never a silent zero.
	Scores      map[string]float64 `json:"scores,omitempty"`
	ScoreErrors map[string]string  `json:"score_errors,omitempty"`
	// Raw scores before normalization and short explanations, by metric name.
	Raw     map[string]float64 `json:"raw,omitempty"`
	Details map[string]string  `json:"details,omitempty"`
	// JudgeUsage and JudgeCostUSD are what scoring this record cost (LLM
	// judges), kept apart from the target's own usage and cost.
	JudgeUsage   *provider.Usage `json:"judge_usage,omitempty"`
	JudgeCostUSD *float64        `json:"judge_cost_usd,omitempty"`
	// CacheSavingUSD is what prompt caching saved on this call
	// (pricing.Price.CacheSaving); absent without cache tokens or a price.
	CacheSavingUSD *float64 `json:"cache_saving_usd,omitempty"`
}

// RecordError is a failed call. Kind is a provider.ErrorKind's word
// (throttled, transient, auth, invalid_request, empty, content_filtered,
// other) or "template" for a prompt that could not be rendered.
type RecordError struct {
	Kind    string `json:"kind"`
	Message string `json:"message"`
}

// Infrastructure reports whether the failure was the service's, not the
// target's (provider.ErrorKind.Infrastructure): such a record was not
// evaluated and is left out of error rates.
func (e *RecordError) Infrastructure() bool {
	return e != nil && provider.ParseErrorKind(e.Kind).Infrastructure()
}

// Status says whether a run evaluated everything it set out to.
type Status string

// The statuses of a run.
const (
	StatusComplete   Status = "complete"
	StatusIncomplete Status = "incomplete"
)

// Summary is the last line.
type Summary struct {
	Kind     string    `json:"kind"`
	Finished time.Time `json:"finished"`
	Status   Status    `json:"status"`
	// Reason says why an incomplete run stopped (budget, deadline, cancelled,
	// auth failure).
	Reason  string          `json:"reason,omitempty"`
	Records int             `json:"records"`
	Targets []TargetSummary `json:"targets"`
	// Sequential is set for a sequential run: its order, its looks and
	// where it stopped.
	Sequential *Sequential `json:"sequential,omitempty"`
}

// TargetSummary aggregates one target's records.
type TargetSummary struct {
	ID      string `json:"id"`
	Records int    `json:"records"`
	Errors  int    `json:"errors"`
	// InfraErrors counts the Errors that were the service's
	// (RecordError.Infrastructure): calls that could not be evaluated.
	InfraErrors int `json:"infra_errors,omitempty"`
	// Skipped counts planned calls not made (budget, deadline, cancel).
	Skipped int                `json:"skipped,omitempty"`
	Means   map[string]float64 `json:"means"`
	// Scored counts the records each mean is over.
	Scored       map[string]int `json:"scored"`
	Usage        provider.Usage `json:"usage"`
	CostUSD      *float64       `json:"cost_usd"`
	LatencyP50MS float64        `json:"latency_p50_ms"`
	LatencyP95MS float64        `json:"latency_p95_ms"`
	Cached       int            `json:"cached,omitempty"`
	Retries      int            `json:"retries,omitempty"`
	// MaxTokensStops counts answers cut at max_tokens.
	MaxTokensStops int `json:"max_tokens_stops,omitempty"`
	// JudgeUsage and JudgeCostUSD total what judging this target's records
	// cost; JudgeCostUSD is nil when a judge's price is unknown.
	JudgeUsage   provider.Usage `json:"judge_usage,omitempty"`
	JudgeCostUSD *float64       `json:"judge_cost_usd,omitempty"`
}

// InputHash is a short hash of a sample's input and reference columns, as
// the dataset holds them; "" when both are empty. It does not depend on the
// prompt, so a pull request that changes the prompt pairs as before.
func InputHash(input, reference string) string {
	if input == "" && reference == "" {
		return ""
	}
	h := sha256.New()
	h.Write([]byte(input))
	h.Write([]byte{0})
	h.Write([]byte(reference))
	return hex.EncodeToString(h.Sum(nil)[:8])
}
