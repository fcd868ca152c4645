package judge

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/evalgate/evalgate/internal/metric"
	"github.com/evalgate/evalgate/internal/pricing"
	"github.com/evalgate/evalgate/internal/provider"
)

// JudgeConfig is the model that judges: the judge mapping of a metric in
// evalgate.yaml. The CLI turns it into a provider called through the run's
// Caller, with its own pool of Concurrency calls in flight.
type JudgeConfig struct {
	Provider string          `json:"provider"`
	Model    string          `json:"model"`
	Params   provider.Params `json:"params"`
	// Concurrency bounds this judge's calls in flight (0: the run's).
	Concurrency int `json:"concurrency,omitempty"`
	// Timeout bounds one call ("30s"); empty means the run's.
	Timeout string `json:"timeout,omitempty"`
	// Pricing overrides the catalog's price of the judge's model.
	Pricing *pricing.Price `json:"pricing,omitempty"`
	// Region and Endpoint are Bedrock's; BaseURL and APIKeyEnv are an
	// OpenAI-compatible server's; Command is the command provider's program.
	Region    string   `json:"region,omitempty"`
	Endpoint  string   `json:"endpoint,omitempty"`
	BaseURL   string   `json:"base_url,omitempty"`
	APIKeyEnv string   `json:"api_key_env,omitempty"`
	Command   []string `json:"command,omitempty"`
	// Cassette replays the judge's replies from a file, as for targets.
	Cassette string `json:"cassette,omitempty"`
}

// EmbeddingConfig is the embedding model of answer_relevancy.
type EmbeddingConfig struct {
	Provider  string         `json:"provider"`
	Model     string         `json:"model"`
	Region    string         `json:"region,omitempty"`
	Endpoint  string         `json:"endpoint,omitempty"`
	BaseURL   string         `json:"base_url,omitempty"`
	APIKeyEnv string         `json:"api_key_env,omitempty"`
	Pricing   *pricing.Price `json:"pricing,omitempty"`
}

// TimeoutDuration is the parsed Timeout, zero when none is set.
func (c JudgeConfig) TimeoutDuration() time.Duration {
	d, _ := time.ParseDuration(c.Timeout) // checked by Config
	return d
}

// Judge defaults: a judge should answer the same way every time it is asked
// the same thing, and needs room for its reasoning before the score.
const (
	defaultMaxTokens = 1024
	defaultSeed      = 7
)

// seedProviders are the providers whose APIs take a sampling seed; Bedrock's
// Converse has none, and an unused seed would only split the cache.
var seedProviders = map[string]bool{"openai": true}

// Config reads the judge mapping of a judge metric spec, with the judge
// defaults filled in: temperature 0, max_tokens 1024, and a seed where the
// provider takes one.
func Config(spec metric.Spec) (JudgeConfig, error) {
	var c JudgeConfig
	raw, ok := spec.Options[optJudge]
	if !ok {
		return c, specErr(spec, "needs a judge: {provider: bedrock, model: ...}")
	}
	if err := decodeStrict(raw, &c); err != nil {
		return c, specErr(spec, "judge: %v", err)
	}
	if c.Provider == "" {
		return c, specErr(spec, "judge: provider is missing (bedrock, openai or command)")
	}
	if c.Model == "" && c.Provider != "command" {
		return c, specErr(spec, "judge: model is missing")
	}
	if c.Concurrency < 0 {
		return c, specErr(spec, "judge: concurrency must be at least 0")
	}
	if c.Timeout != "" {
		if d, err := time.ParseDuration(c.Timeout); err != nil || d <= 0 {
			return c, specErr(spec, "judge: timeout %q is not a positive duration such as 30s", c.Timeout)
		}
	}
	if c.Params.Temperature == nil {
		zero := 0.0
		c.Params.Temperature = &zero
	}
	if c.Params.MaxTokens == nil {
		n := defaultMaxTokens
		c.Params.MaxTokens = &n
	}
	if c.Params.Seed == nil && seedProviders[c.Provider] {
		s := int64(defaultSeed)
		c.Params.Seed = &s
	}
	return c, nil
}

// EmbeddingConfigOf reads the embedding mapping of an answer_relevancy spec.
func EmbeddingConfigOf(spec metric.Spec) (EmbeddingConfig, error) {
	var c EmbeddingConfig
	raw, ok := spec.Options[optEmbedding]
	if !ok {
		return c, specErr(spec, "needs an embedding model: {provider: bedrock, model: amazon.titan-embed-text-v2:0}")
	}
	if err := decodeStrict(raw, &c); err != nil {
		return c, specErr(spec, "embedding: %v", err)
	}
	if c.Provider == "" || c.Model == "" {
		return c, specErr(spec, "embedding: provider and model are both needed")
	}
	return c, nil
}

// decodeStrict decodes a YAML-decoded value into v through JSON, refusing
// unknown keys so that a misspelt setting is an error, not ignored.
func decodeStrict(raw any, v any) error {
	b, err := json.Marshal(raw)
	if err != nil {
		return fmt.Errorf("not a plain mapping: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s", strings.TrimPrefix(err.Error(), "json: "))
	}
	return nil
}

func specErr(spec metric.Spec, format string, args ...any) error {
	return fmt.Errorf("metric %q: %s", spec.Name, fmt.Sprintf(format, args...))
}

// Scale is the range of a judge's raw score.
type Scale struct{ Min, Max float64 }

func (s Scale) String() string { return fmt.Sprintf("%g to %g", s.Min, s.Max) }

// normalize maps a raw score onto 0..1.
func (s Scale) normalize(raw float64) float64 { return (raw - s.Min) / (s.Max - s.Min) }

// scaleOption reads the scale option ([1, 5]); def when absent.
func scaleOption(spec metric.Spec, def Scale) (Scale, error) {
	raw, ok := spec.Options[optScale]
	if !ok {
		return def, nil
	}
	list, ok := raw.([]any)
	if !ok || len(list) != 2 {
		return def, specErr(spec, "scale must be two numbers [min, max], e.g. [1, 5]")
	}
	var v [2]float64
	for i, x := range list {
		f, ok := number(x)
		if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
			return def, specErr(spec, "scale must be two numbers [min, max], e.g. [1, 5]")
		}
		v[i] = f
	}
	if v[0] >= v[1] {
		return def, specErr(spec, "scale [%g, %g]: min must be below max", v[0], v[1])
	}
	return Scale{v[0], v[1]}, nil
}

// number reads a YAML number of any Go type.
func number(x any) (float64, bool) {
	switch n := x.(type) {
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case uint64:
		return float64(n), true
	case float64:
		return n, true
	case float32:
		return float64(n), true
	}
	return 0, false
}

// stringOption reads a string option; "" when absent.
func stringOption(spec metric.Spec, key string) (string, error) {
	raw, ok := spec.Options[key]
	if !ok {
		return "", nil
	}
	s, ok := raw.(string)
	if !ok {
		return "", specErr(spec, "%s must be a string", key)
	}
	return s, nil
}

// intOption reads a positive integer option; def when absent.
func intOption(spec metric.Spec, key string, def, limit int) (int, error) {
	raw, ok := spec.Options[key]
	if !ok {
		return def, nil
	}
	f, ok := number(raw)
	if !ok || f != math.Trunc(f) || f < 1 || f > float64(limit) {
		return def, specErr(spec, "%s must be a whole number from 1 to %d", key, limit)
	}
	return int(f), nil
}

// rubricOption reads rubric or rubric_file (relative to the suite's directory).
func rubricOption(spec metric.Spec) (string, error) {
	text, err := stringOption(spec, optRubric)
	if err != nil {
		return "", err
	}
	file, err := stringOption(spec, optRubricFile)
	if err != nil {
		return "", err
	}
	switch {
	case text != "" && file != "":
		return "", specErr(spec, "give rubric or rubric_file, not both")
	case file != "":
		p := file
		if !filepath.IsAbs(p) {
			p = filepath.Join(spec.BaseDir, p)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return "", specErr(spec, "rubric_file: %v", err)
		}
		text = string(b)
	}
	text = strings.TrimSpace(text)
	if text == "" {
		return "", specErr(spec, "needs a rubric: say what the judge should score, or give rubric_file")
	}
	return text, nil
}
