// Package suite loads and checks an evaluation suite: evalgate.yaml (targets,
// prompts, metrics, criteria, the gate's settings) and its dataset, with
// errors that name the file, line and field to change.
package suite

import (
	"cmp"
	"context"
	"path/filepath"
	"sync"
	"time"

	"github.com/evalgate/evalgate/internal/metric"
	"github.com/evalgate/evalgate/internal/pricing"
)

// The providers a target may name.
const (
	ProviderRecorded = "recorded"
	ProviderCommand  = "command"
	ProviderBedrock  = "bedrock"
	ProviderOpenAI   = "openai"
)

// Providers lists the provider names a target may use.
var Providers = []string{ProviderBedrock, ProviderCommand, ProviderOpenAI, ProviderRecorded}

// Roles of dataset columns: the keys of dataset.fields.
const (
	RoleID        = "id"
	RoleInput     = "input"
	RoleReference = "reference"
	RoleContext   = "context"
	RoleCluster   = "cluster"
)

// DefaultFields maps each dataset role to its column in the AWS migration
// format; cluster has no default.
var DefaultFields = map[string]string{
	RoleID:        FieldID,
	RoleInput:     FieldQuestion,
	RoleReference: FieldReference,
	RoleContext:   FieldContext,
	RoleCluster:   "",
}

// Roles of a recorded target's columns: the keys of targets[].fields.
const (
	RecordedOutput       = "output"
	RecordedLatency      = "latency"
	RecordedInputTokens  = "input_tokens"
	RecordedOutputTokens = "output_tokens"
)

// DefaultRecordedFields maps a recorded target's roles to the AWS migration
// format's logged source-model columns.
var DefaultRecordedFields = map[string]string{
	RecordedOutput:       FieldSourceAnswer,
	RecordedLatency:      FieldSourceLatency,
	RecordedInputTokens:  FieldSourceInTokens,
	RecordedOutputTokens: FieldSourceOutTokens,
	RecordedPrompt:       FieldSourcePrompt,
	RecordedTemperature:  FieldSourceTemperature,
	RecordedTopP:         FieldSourceTopP,
	RecordedTopK:         FieldSourceTopK,
}

// DefaultRepeats is how often each sample is sent to each target.
const DefaultRepeats = 1

// Suite is a loaded, checked evalgate.yaml with its files read: what the run
// engine needs, and nothing it has to check again.
type Suite struct {
	// Config is the file as written, without defaults filled in.
	Config Config
	// Path is the config file; Dir its directory, against which relative
	// paths resolve.
	Path string
	Dir  string
	// DatasetPath is the dataset file, resolved; DatasetFormat "jsonl" or "csv".
	DatasetPath   string
	DatasetFormat string
	// Templates are the compiled prompts by name.
	Templates map[string]*Template
	// Metrics are the declared metrics in order, BaseDir set to Dir.
	Metrics []metric.Spec
	// DatasetFilter is dataset.filter compiled; nil keeps every row.
	DatasetFilter *Filter
	// Catalog prices the models (set from --pricing); nil is the embedded
	// catalog. Read it through Prices.
	Catalog *pricing.Catalog

	// targetFilters are the targets' filters by id.
	targetFilters map[string]*Filter
	// views caches the targets' views (TargetView).
	views views

	configHash string
	// hashMu guards the dataset's digest and the suite hash, computed when
	// first asked for: from a read to the end the run makes anyway (the
	// pre-flight check), or by reading the file.
	hashMu        sync.Mutex
	datasetDigest []byte
	hash          string
}

// Hash identifies what makes two runs comparable: the dataset's content, the
// metric definitions and the reference settings (columns, delimiter, limit).
// Results with different hashes must not be paired. The dataset is hashed
// by the first read of it to the end (a run's pre-flight check), or read for
// it here when none has happened.
func (s *Suite) Hash(ctx context.Context) (string, error) {
	s.hashMu.Lock()
	defer s.hashMu.Unlock()
	if s.hash != "" {
		return s.hash, nil
	}
	if s.datasetDigest == nil {
		d, err := s.readDatasetDigest(ctx)
		if err != nil {
			return "", err
		}
		s.datasetDigest = d
	}
	h, err := s.comparableHash(s.datasetDigest)
	if err != nil {
		return "", err
	}
	s.hash = h
	return h, nil
}

// setDatasetSum records the digest of a read of the dataset to its end.
func (s *Suite) setDatasetSum(digest []byte) {
	s.hashMu.Lock()
	defer s.hashMu.Unlock()
	if s.datasetDigest == nil {
		s.datasetDigest = digest
	}
}

// ConfigHash identifies the whole config and the prompt texts: it changes on
// any edit.
func (s *Suite) ConfigHash() string { return s.configHash }

// Prices is the catalog the suite's models are priced from.
func (s *Suite) Prices() *pricing.Catalog {
	if s.Catalog == nil {
		return pricing.Embedded()
	}
	return s.Catalog
}

// Field returns the dataset column that plays role (RoleID, RoleInput, ...),
// as mapped by dataset.fields or the default. The cluster role also honours
// gate.cluster.
func (s *Suite) Field(role string) string {
	if role == RoleCluster && s.Config.Gate.Cluster != "" {
		return s.Config.Gate.Cluster
	}
	if c, ok := s.Config.Dataset.Fields[role]; ok && c != "" {
		return c
	}
	return DefaultFields[role]
}

// RecordedField returns the column of a recorded target that plays role
// (RecordedOutput, RecordedLatency, ...).
func (s *Suite) RecordedField(t *TargetConfig, role string) string {
	if c, ok := t.Fields[role]; ok && c != "" {
		return c
	}
	return DefaultRecordedFields[role]
}

// Target returns the target with the given id.
func (s *Suite) Target(id string) (*TargetConfig, bool) {
	for i := range s.Config.Targets {
		if s.Config.Targets[i].ID == id {
			return &s.Config.Targets[i], true
		}
	}
	return nil, false
}

// GatedTarget is the target the gate compares with the baseline: gate.target,
// or else the only one of ids (the targets at hand) that is not the
// baseline target. ok is false when gate.target is unset and there is not
// exactly one such target: the user must then name it.
func (s *Suite) GatedTarget(ids []string, baseline string) (id string, ok bool) {
	if s.Config.Gate.Target != "" {
		return s.Config.Gate.Target, true
	}
	var candidates []string
	for _, id := range ids {
		if id != baseline {
			candidates = append(candidates, id)
		}
	}
	if len(candidates) != 1 {
		return "", false
	}
	return candidates[0], true
}

// Concurrency is run.concurrency or DefaultConcurrency.
func (s *Suite) Concurrency() int {
	return cmp.Or(s.Config.Run.Concurrency, DefaultConcurrency)
}

// Repeats is run.repeats or DefaultRepeats.
func (s *Suite) Repeats() int { return cmp.Or(s.Config.Run.Repeats, DefaultRepeats) }

// Timeout is the per-call timeout of target t (nil for the suite's): the
// target's timeout, else run.timeout, else DefaultTimeout.
func (s *Suite) Timeout(t *TargetConfig) time.Duration {
	if t != nil && t.Timeout > 0 {
		return time.Duration(t.Timeout)
	}
	return cmp.Or(time.Duration(s.Config.Run.Timeout), DefaultTimeout)
}

// Deadline is run.deadline; zero means none.
func (s *Suite) Deadline() time.Duration { return time.Duration(s.Config.Run.Deadline) }

// SequentialSeed is run.sequential_seed or DefaultSequentialSeed.
func (s *Suite) SequentialSeed() uint64 {
	if p := s.Config.Run.SequentialSeed; p != nil && *p >= 0 {
		return uint64(*p)
	}
	return DefaultSequentialSeed
}

// Retries is run.retries or DefaultRetries (0 is a valid setting).
func (s *Suite) Retries() int {
	if s.Config.Run.Retries != nil {
		return *s.Config.Run.Retries
	}
	return DefaultRetries
}

// RetryThrottledFor is run.retry_throttled_for or DefaultRetryThrottledFor.
func (s *Suite) RetryThrottledFor() time.Duration {
	return cmp.Or(time.Duration(s.Config.Run.RetryThrottledFor), DefaultRetryThrottledFor)
}

// MaxRetryWait is run.max_retry_wait or DefaultMaxRetryWait.
func (s *Suite) MaxRetryWait() time.Duration {
	return cmp.Or(time.Duration(s.Config.Run.MaxRetryWait), DefaultMaxRetryWait)
}

// AllowEmpty reports whether an empty answer of target t is valid: the
// target's allow_empty, else run.allow_empty.
func (s *Suite) AllowEmpty(t *TargetConfig) bool {
	if t != nil && t.AllowEmpty != nil {
		return *t.AllowEmpty
	}
	return s.Config.Run.AllowEmpty
}

// CacheEnabled is run.cache, true unless set to false.
func (s *Suite) CacheEnabled() bool { return s.Config.Run.Cache == nil || *s.Config.Run.Cache }

// CacheDir is run.cache_dir or DefaultCacheDir, resolved against Dir.
func (s *Suite) CacheDir() string {
	return s.resolve(cmp.Or(s.Config.Run.CacheDir, DefaultCacheDir))
}

// ResultsPath is run.results or DefaultResults, resolved against Dir.
func (s *Suite) ResultsPath() string {
	return s.resolve(cmp.Or(s.Config.Run.Results, DefaultResults))
}

// Delimiter is dataset.reference_delimiter or DefaultDelimiter.
func (s *Suite) Delimiter() string {
	return cmp.Or(s.Config.Dataset.ReferenceDelimiter, DefaultDelimiter)
}

// resolve returns p resolved against the config's directory (absolute paths
// are returned as they are).
func (s *Suite) resolve(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(s.Dir, p)
}

// ResolvePath returns p resolved against the config's directory.
func (s *Suite) ResolvePath(p string) string { return s.resolve(p) }
