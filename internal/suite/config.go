package suite

import (
	"time"

	"github.com/evalgate/evalgate/internal/provider"
)

// CurrentVersion is the only evalgate.yaml version this build reads.
const CurrentVersion = 1

// Config is evalgate.yaml as written by the user, after strict decoding and
// before files are read. Field names here are the YAML keys.
type Config struct {
	Version     int               `yaml:"version"`
	Name        string            `yaml:"name"`
	Description string            `yaml:"description,omitempty"`
	Dataset     DatasetConfig     `yaml:"dataset"`
	Prompts     map[string]Prompt `yaml:"prompts,omitempty"`
	Targets     []TargetConfig    `yaml:"targets"`
	Metrics     []MetricConfig    `yaml:"metrics"`
	Criteria    []Criterion       `yaml:"criteria,omitempty"`
	Gate        GateConfig        `yaml:"gate,omitempty"`
	Run         RunConfig         `yaml:"run,omitempty"`
	// Optimize configures `evalgate optimize` (migration step 2).
	Optimize *OptimizeConfig `yaml:"optimize,omitempty"`
}

// DatasetConfig says where the samples are and which columns mean what.
type DatasetConfig struct {
	// Path is relative to the directory of evalgate.yaml.
	Path string `yaml:"path"`
	// Format is "jsonl" or "csv"; empty means "from the file extension".
	Format string `yaml:"format,omitempty"`
	// Fields maps evalgate's roles (id, input, reference, context, cluster) to
	// column names; unset roles use the AWS migration format's names.
	Fields map[string]string `yaml:"fields,omitempty"`
	// ReferenceDelimiter separates several acceptable reference answers.
	ReferenceDelimiter string `yaml:"reference_delimiter,omitempty"`
	// Limit evaluates only the first N samples (0 = all).
	Limit int `yaml:"limit,omitempty"`
	// Filter keeps only the rows for which every condition holds, wherever
	// the dataset is read (run, validate, optimize).
	Filter []Condition `yaml:"filter,omitempty"`
}

// Prompt is a template with a system and a user part. In YAML a prompt is
// either a mapping with these keys or a plain string naming a file that holds
// the user part.
type Prompt struct {
	System     string `yaml:"system,omitempty"`
	SystemFile string `yaml:"system_file,omitempty"`
	User       string `yaml:"user,omitempty"`
	UserFile   string `yaml:"user_file,omitempty"`
	// Placeholders "convert" rewrites another tool's placeholders ({NAME},
	// ${NAME}, {{ NAME }}) to evalgate's {{column}} when the suite loads.
	Placeholders string `yaml:"placeholders,omitempty"`
}

// TargetConfig is one thing evaluated: provider + model + prompt + params.
type TargetConfig struct {
	ID       string          `yaml:"id"`
	Provider string          `yaml:"provider"`
	Model    string          `yaml:"model"`
	Prompt   string          `yaml:"prompt,omitempty"`
	Params   provider.Params `yaml:"params,omitempty"`
	// Stream asks for streaming calls to measure time to first token.
	Stream bool `yaml:"stream,omitempty"`
	// CachePrompt marks the prompt's shared prefix (the system part, the
	// start of the user part before its first placeholder) for the model's
	// prompt cache: bedrock only, on models whose price has a cache-read rate.
	CachePrompt bool `yaml:"cache_prompt,omitempty"`
	// Pricing overrides the catalog's prices for this target.
	Pricing *Pricing `yaml:"pricing,omitempty"`
	// RateLimit caps this target's calls.
	RateLimit *RateLimit `yaml:"rate_limit,omitempty"`
	// Filter evaluates this target only on the rows for which every
	// condition holds (one file holding several systems' rows).
	Filter []Condition `yaml:"filter,omitempty"`
	// Dataset is this target's own file of rows (a recorded system's
	// outputs kept apart), paired with the suite's samples by a key column.
	Dataset *TargetDataset `yaml:"dataset,omitempty"`
	// Columns maps a column name the suite uses (a metric's field, a
	// prompt's placeholder, a recorded role's default) to this target's
	// column: one merged file with alignment_src and alignment_tgt credits
	// each to its own target.
	Columns map[string]string `yaml:"columns,omitempty"`
	// ParamsFrom names a recorded target whose invocation config
	// (temperature, top_p, top_k: its params, or its columns per sample)
	// this target inherits where its own params leave them unset.
	ParamsFrom string `yaml:"params_from,omitempty"`

	// recorded: dataset columns that hold the logged outputs (defaults are the
	// AWS migration format's *_source_llm columns), or a cassette file.
	Fields map[string]string `yaml:"fields,omitempty"`
	// LatencyUnit is the unit of the logged latency column: "s" (default,
	// as in the AWS migration format) or "ms".
	LatencyUnit string `yaml:"latency_unit,omitempty"`
	// Cassette is a file of responses keyed by a hash of the request: a target
	// with a cassette replays from it (a miss is an error), and
	// `evalgate run --record` fills it from the target's real provider.
	Cassette string `yaml:"cassette,omitempty"`

	// AllowEmpty makes an empty answer valid (scored as the empty text)
	// instead of a record error; unset: run.allow_empty.
	AllowEmpty *bool `yaml:"allow_empty,omitempty"`

	// command: the program and its arguments, run once per call.
	Command []string `yaml:"command,omitempty"`
	// Env names the variables of evalgate's environment passed to the
	// program on top of the minimal one (command.BaseEnv).
	Env     []string `yaml:"env,omitempty"`
	Timeout Duration `yaml:"timeout,omitempty"`

	// Batch runs the target's calls as one Bedrock batch inference job (a
	// model invocation job, at the batch price) instead of calling the
	// model once per sample: bedrock only.
	Batch bool `yaml:"batch,omitempty"`
	// BatchRoleARN is the IAM service role Bedrock assumes to read the
	// job's input and write its output.
	BatchRoleARN string `yaml:"batch_role_arn,omitempty"`
	// BatchS3URI is the bucket and prefix (s3://bucket/prefix) the job's
	// input and output are written under, in the target's region.
	BatchS3URI string `yaml:"batch_s3_uri,omitempty"`
	// BatchMinRecords is the account's quota of records per job when it
	// is not Bedrock's default of 100.
	BatchMinRecords int `yaml:"batch_min_records,omitempty"`

	// bedrock / openai
	Region    string `yaml:"region,omitempty"`
	Endpoint  string `yaml:"endpoint,omitempty"`
	BaseURL   string `yaml:"base_url,omitempty"`
	APIKeyEnv string `yaml:"api_key_env,omitempty"`
}

// TargetDataset is a target's own file of rows.
type TargetDataset struct {
	// Path is relative to the directory of evalgate.yaml.
	Path string `yaml:"path"`
	// Format is "jsonl" or "csv"; empty means "from the file extension".
	Format string `yaml:"format,omitempty"`
	// Key is the column of this file holding the sample id (default: the
	// suite's id column).
	Key string `yaml:"key,omitempty"`
}

// Pricing is USD per million tokens.
type Pricing struct {
	InputPerMTok      float64 `yaml:"input_per_mtok"`
	OutputPerMTok     float64 `yaml:"output_per_mtok"`
	CacheReadPerMTok  float64 `yaml:"cache_read_per_mtok,omitempty"`
	CacheWritePerMTok float64 `yaml:"cache_write_per_mtok,omitempty"`
}

// RateLimit is requests and tokens per minute.
type RateLimit struct {
	RPM int `yaml:"rpm,omitempty"`
	TPM int `yaml:"tpm,omitempty"`
}

// MetricConfig is one metric. In YAML it is either a plain name ("f1") or a
// mapping with name, type and the type's options inline
// ({name: mentions_refund, type: icontains, value: refund}).
type MetricConfig struct {
	Name    string
	Type    string
	Options map[string]any
}

// Margin is an allowed change: absolute (0.05) or relative ("5%").
type Margin struct {
	Value    float64
	Relative bool
}

// Criterion is one success criterion on one metric.
type Criterion struct {
	Metric       string   `yaml:"metric"`
	Min          *float64 `yaml:"min,omitempty"`
	MaxDrop      *Margin  `yaml:"max_drop,omitempty"`
	MaxIncrease  *Margin  `yaml:"max_increase,omitempty"`
	MaxErrorRate *float64 `yaml:"max_error_rate,omitempty"`
	// Mode is "regression" or "non_inferiority"; empty means the gate's mode.
	Mode Mode `yaml:"mode,omitempty"`
	// Severity is "fail" (default) or "warn".
	Severity Severity `yaml:"severity,omitempty"`
}

// GateConfig says what the target is compared with.
type GateConfig struct {
	// Baseline is the id of another target of this suite, "source" for the
	// dataset's logged source-model fields via a recorded target, or a path to
	// a results file (ending in .jsonl).
	Baseline string `yaml:"baseline,omitempty"`
	// Target is the target gated; empty means the only non-baseline target.
	Target string `yaml:"target,omitempty"`
	// Mode is "regression" (default) or "non_inferiority".
	Mode       Mode    `yaml:"mode,omitempty"`
	Confidence float64 `yaml:"confidence,omitempty"`
	// MonthlyCalls projects cost to a month of traffic in the report.
	MonthlyCalls int `yaml:"monthly_calls,omitempty"`
	// Cluster names a dataset column whose equal values share a cluster
	// (several questions about one document) for cluster-robust errors.
	Cluster string `yaml:"cluster,omitempty"`
	// Agreement pairs an LLM-judge metric with the human (SME) metric it
	// should agree with; the report shows their agreement. Metrics named
	// x_judge / x_human or like the AWS migration columns pair by themselves.
	Agreement []Agreement `yaml:"agreement,omitempty"`
}

// Agreement is a judge metric and the human metric scored on the same samples.
type Agreement struct {
	Judge string `yaml:"judge"`
	Human string `yaml:"human"`
	// Threshold splits pass from fail on both (default: mid-range).
	Threshold *float64 `yaml:"threshold,omitempty"`
}

// RunConfig bounds the run.
type RunConfig struct {
	Concurrency int      `yaml:"concurrency,omitempty"`
	Repeats     int      `yaml:"repeats,omitempty"`
	Timeout     Duration `yaml:"timeout,omitempty"`
	Deadline    Duration `yaml:"deadline,omitempty"`
	Retries     *int     `yaml:"retries,omitempty"`
	// RetryThrottledFor is how long one throttled call keeps being retried.
	RetryThrottledFor Duration `yaml:"retry_throttled_for,omitempty"`
	// MaxRetryWait caps one wait before a retry (a Retry-After of an hour).
	MaxRetryWait Duration `yaml:"max_retry_wait,omitempty"`
	// AllowEmpty makes empty answers valid for every target.
	AllowEmpty bool    `yaml:"allow_empty,omitempty"`
	BudgetUSD  float64 `yaml:"budget_usd,omitempty"`
	CacheDir   string  `yaml:"cache_dir,omitempty"`
	// Cache turns the response cache off when false.
	Cache   *bool  `yaml:"cache,omitempty"`
	Results string `yaml:"results,omitempty"`
	// Sequential calls the samples in a seeded random order and stops
	// calling once every fail-severity criterion is settled (README,
	// "Sequential runs").
	Sequential bool `yaml:"sequential,omitempty"`
	// SequentialLooks are the looks as shares of the samples, increasing,
	// in (0, 1] (default 0.2, 0.35, 0.5, 0.75, 1).
	SequentialLooks []float64 `yaml:"sequential_looks,omitempty"`
	// SequentialSeed fixes the order of the samples (default
	// DefaultSequentialSeed).
	SequentialSeed *int64 `yaml:"sequential_seed,omitempty"`
}

// Duration is a time.Duration written as "30s", "5m" in YAML.
type Duration time.Duration

// Defaults of the run, used when the suite leaves a value unset.
const (
	DefaultConcurrency = 8
	DefaultTimeout     = 60 * time.Second
	DefaultRetries     = 4
	// DefaultRetryThrottledFor outlasts the per-minute quota windows of
	// Bedrock and OpenAI many times over, so a call throttled under load
	// gets through, while a quota that never frees up ends the call.
	DefaultRetryThrottledFor = 10 * time.Minute
	// DefaultMaxRetryWait keeps one Retry-After (seen: 3600 s) from parking
	// every worker for an hour; a minute covers per-minute quotas.
	DefaultMaxRetryWait = 60 * time.Second
	DefaultCacheDir     = ".evalgate/cache"
	DefaultResults      = ".evalgate/results.jsonl"
	DefaultDelimiter    = "<OR>"
	DefaultConfidence   = 0.95
	// DefaultSequentialSeed is a fixed seed, so that a sequential run
	// calls the samples in the same order every time unless told otherwise.
	DefaultSequentialSeed = 1
)

// Default dataset columns: the AWS model-migration data format.
const (
	FieldID              = "sample_id"
	FieldQuestion        = "question"
	FieldContext         = "context"
	FieldReference       = "answer_ground_truth"
	FieldSourcePrompt    = "prompt_source_llm"
	FieldSourceAnswer    = "answer_source_llm"
	FieldSourceLatency   = "latency_source_llm"
	FieldSourceInTokens  = "input_token_source_llm"
	FieldSourceOutTokens = "output_token_source_llm"
	FieldSourceJudge     = "llm_judge_score_source_llm"
	FieldSourceHuman     = "human_score_source_llm"
	FieldSourceHumanWhy  = "human_score_reasoning_source_llm"
)

// AggregateMetrics are the names criteria may use besides the suite's own
// metrics: computed by the gate over all records of a target.
var AggregateMetrics = []string{
	"cost_per_1k", "cost_usd", "latency_mean", "latency_p50", "latency_p95", "latency_p99",
	"ttft_p50", "ttft_p95", "input_tokens", "output_tokens", "error_rate",
}
