package suite

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/evalgate/evalgate/internal/metric"
	"github.com/evalgate/evalgate/internal/metric/judge"
)

// metricCatalog is what Load needs to know of the metric package; tests give
// it a fixed catalog so that they do not depend on which metrics exist.
type metricCatalog struct {
	known func(typ string) bool
	types func() []string
	// optionKeys lists the options a type accepts besides name and type; nil
	// accepts any option.
	optionKeys func(typ string) []string
}

// builtinMetrics is the registry of the metric package (deterministic
// metrics) and of metric/judge (LLM judges), as one catalog.
var builtinMetrics = metricCatalog{
	known: func(typ string) bool { return metric.Known(typ) || judge.Known(typ) },
	types: func() []string {
		out := append(metric.Types(), judge.Types()...)
		slices.Sort(out)
		return out
	},
	optionKeys: func(typ string) []string {
		if judge.Known(typ) {
			return judge.OptionKeys(typ)
		}
		return metric.OptionKeys(typ)
	},
}

// Load reads evalgate.yaml at path strictly, checks it and the files it names
// (dataset, prompts), and returns the suite. Mistakes in the config come back
// together as ConfigErrors, each with file:line:col.
func Load(path string) (*Suite, error) {
	return LoadContext(context.Background(), path, LoadOptions{})
}

// LoadOptions are what a caller may ask of Load besides the path.
type LoadOptions struct {
	// Root, when set, is the directory every file the suite names must
	// resolve into, symlinks followed (see Root); RootName says what it is
	// in messages, and Hint how to allow a file outside it.
	Root     string
	RootName string
	Hint     string
}

// LoadContext is Load that stops when ctx ends (reading and hashing a large
// dataset takes a while) and applies o.
func LoadContext(ctx context.Context, path string, o LoadOptions) (*Suite, error) {
	return loadWith(ctx, path, builtinMetrics, o)
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func load(path string, cat metricCatalog) (*Suite, error) {
	return loadWith(context.Background(), path, cat, LoadOptions{})
}

func loadWith(ctx context.Context, path string, cat metricCatalog, o LoadOptions) (*Suite, error) {
	if err := notRegular(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read config: %w", err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		e := &ConfigError{File: path, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
		if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
			e.Line, _ = strconv.Atoi(m[1])
			e.Msg = m[2]
		}
		return nil, ConfigErrors{e}
	}
	if len(doc.Content) == 0 {
		return nil, ConfigErrors{{File: path, Msg: "the file is empty; start it with 'version: 1'"}}
	}
	d := newDecoder(path, &doc)
	var cfg Config
	d.decode(doc.Content[0], reflect.ValueOf(&cfg).Elem(), "")
	if d.overspent {
		// What was decoded is a fragment: checking it would only add noise.
		return nil, d.errs
	}
	s := &Suite{Config: cfg, Path: path, Dir: filepath.Dir(path), Templates: map[string]*Template{}}
	c := &checker{decoder: d, s: s, cfg: &s.Config, cat: cat}
	if o.Root != "" {
		root, err := resolveExisting(o.Root)
		if err != nil {
			return nil, fmt.Errorf("load %s: %s: %w", path, cmp.Or(o.RootName, "root"), err)
		}
		c.root = &root
		c.rootOpts = o
	}
	c.check()
	if len(d.errs) > 0 {
		d.errs.sort()
		return nil, d.errs
	}
	// The dataset's hash waits for the first read of it to the end (Hash).
	if err := s.computeConfigHash(); err != nil {
		return nil, err
	}
	// A signal while loading stops here, before anything runs.
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s, nil
}

// checker checks what decoding cannot: required keys, references between
// sections, allowed values, and the files the config names.
type checker struct {
	*decoder
	s   *Suite
	cfg *Config
	cat metricCatalog
	// root is LoadOptions.Root with its symlinks resolved; nil when files
	// may be anywhere.
	root     *string
	rootOpts LoadOptions
	// refused holds the config paths ("dataset.path") of files outside the
	// root, already reported and not to be read.
	refused map[string]bool
	// columns are the dataset's first sample's columns, read once when a
	// prompt converts its placeholders (see firstColumns).
	columns    []string
	columnsErr error
}

func (c *checker) check() {
	// Paths first: a file outside the root is not even opened.
	c.checkPaths()
	c.checkTop()
	c.checkDataset()
	c.checkPrompts()
	c.checkTargets()
	c.checkMetrics()
	c.checkCriteria()
	c.checkGate()
	c.checkRun()
	c.checkOptimize()
}

// require reports a missing key; hint says what to write. It returns whether
// the key has a usable value.
func (c *checker) require(path, hint string) bool {
	if c.written(path) {
		return !c.bad[path]
	}
	key := path[strings.LastIndexAny(path, ".")+1:]
	c.errorf(c.at(path), "missing required key '%s' in %s%s", key, where(parentPath(path)), hint)
	return false
}

func (c *checker) checkTop() {
	if c.require("version", "; add 'version: 1'") && c.cfg.Version != CurrentVersion {
		c.errorf(c.at("version"), "version %d is not supported: this evalgate reads version %d", c.cfg.Version, CurrentVersion)
	}
	c.require("name", "; name the suite, e.g. 'name: support-answers'")
	if c.require("dataset", "") {
		c.require("dataset.path", "; give the .jsonl or .csv file")
	}
	if c.require("targets", "") && len(c.cfg.Targets) == 0 {
		c.errorf(c.at("targets"), "targets: list at least one target")
	}
	if c.require("metrics", "") && len(c.cfg.Metrics) == 0 {
		c.errorf(c.at("metrics"), "metrics: list at least one metric")
	}
}

var roles = []string{RoleID, RoleInput, RoleReference, RoleContext, RoleCluster}

func (c *checker) checkDataset() {
	ds := &c.cfg.Dataset
	for role, col := range ds.Fields {
		p := "dataset.fields." + role
		if !slices.Contains(roles, role) {
			c.errorf(c.keyAt(p), "unknown field role '%s' in dataset.fields%s (roles: %s)", role, didYouMean(role, roles), strings.Join(roles, ", "))
		} else if col == "" {
			c.errorf(c.at(p), "%s: name the dataset column, or remove the key to use the default", p)
		}
	}
	c.s.DatasetFilter = c.checkFilter("dataset.filter", ds.Filter)
	if ds.Limit < 0 {
		c.errorf(c.at("dataset.limit"), "dataset.limit must be 0 (all samples) or more, got %d", ds.Limit)
	}
	if c.has("dataset.reference_delimiter") && ds.ReferenceDelimiter == "" {
		c.errorf(c.at("dataset.reference_delimiter"), "dataset.reference_delimiter cannot be empty; remove it to use %q", DefaultDelimiter)
	}
	format := ds.Format
	switch format {
	case "", "jsonl", "csv":
	default:
		c.errorf(c.at("dataset.format"), "dataset.format must be 'jsonl' or 'csv', got '%s'%s", format, didYouMean(format, []string{"jsonl", "csv"}))
		return
	}
	if ds.Path == "" {
		return
	}
	if format == "" {
		switch strings.ToLower(filepath.Ext(ds.Path)) {
		case ".jsonl", ".ndjson":
			format = "jsonl"
		case ".csv":
			format = "csv"
		default:
			c.errorf(c.at("dataset.path"), "cannot tell the format of %s from its extension; name it .jsonl or .csv, or set dataset.format", ds.Path)
			return
		}
	}
	c.s.DatasetFormat = format
	c.s.DatasetPath = c.s.resolve(ds.Path)
	if c.refused["dataset.path"] {
		return
	}
	switch fi, err := os.Stat(c.s.DatasetPath); {
	case errors.Is(err, os.ErrNotExist):
		c.errorf(c.at("dataset.path"), "dataset file %s does not exist (relative paths start at the directory of %s)", c.s.DatasetPath, filepath.Base(c.file))
	case err != nil:
		c.errorf(c.at("dataset.path"), "dataset: %v", err)
	case fi.IsDir():
		c.errorf(c.at("dataset.path"), "dataset.path %s is a directory; name the .jsonl or .csv file", c.s.DatasetPath)
	case !fi.Mode().IsRegular():
		c.errorf(c.at("dataset.path"), "dataset.path: %v", notRegular(c.s.DatasetPath))
	}
}

func (c *checker) checkPrompts() {
	names := slices.Sorted(maps.Keys(c.cfg.Prompts))
	for _, name := range names {
		p := c.cfg.Prompts[name]
		path := "prompts." + name
		if p.System != "" && p.SystemFile != "" {
			c.errorf(c.at(path+".system_file"), "%s: give system or system_file, not both", path)
			continue
		}
		if p.User != "" && p.UserFile != "" {
			c.errorf(c.at(path+".user_file"), "%s: give user or user_file, not both", path)
			continue
		}
		if p.User == "" && p.UserFile == "" {
			c.errorf(c.at(path), "%s: missing the user part; add 'user:' (text) or 'user_file:' (a file)", path)
			continue
		}
		system, sysFile, ok1 := c.promptPart(path+".system", path+".system_file", p.System, p.SystemFile)
		user, userFile, ok2 := c.promptPart(path+".user", path+".user_file", p.User, p.UserFile)
		if !ok1 || !ok2 {
			continue
		}
		if p.Placeholders != "" {
			var ok bool
			if system, user, ok = c.convertPlaceholders(path, system, user, p.Placeholders); !ok {
				continue
			}
		}
		t, err := NewTemplate(name, system, user)
		var se *TemplateSyntaxError
		switch {
		case errors.As(err, &se):
			file, at := sysFile, path+".system"
			if se.Part == "user" {
				file, at = userFile, path+".user"
			}
			if file != "" {
				c.errs = append(c.errs, &ConfigError{File: file, Line: se.Line, Column: se.Column, Msg: fmt.Sprintf("prompt %s: %s", name, se.Msg)})
			} else {
				c.errorf(c.at(at), "%s line %d column %d: %s", at, se.Line, se.Column, se.Msg)
			}
		case err != nil:
			c.errorf(c.at(path), "%s: %v", path, err)
		default:
			c.s.Templates[name] = t
		}
	}
}

// promptPart returns a part's text, from the inline value or the file.
func (c *checker) promptPart(inlinePath, filePath, inline, file string) (text, resolved string, ok bool) {
	if file == "" {
		return inline, "", true
	}
	resolved = c.s.resolve(file)
	if c.refused[filePath] {
		return "", "", false
	}
	if err := notRegular(resolved); err != nil && !errors.Is(err, fs.ErrNotExist) {
		c.errorf(c.at(filePath), "%s: %v", filePath, err)
		return "", "", false
	}
	b, err := os.ReadFile(resolved)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			c.errorf(c.at(filePath), "prompt file %s does not exist (relative paths start at the directory of %s)", resolved, filepath.Base(c.file))
		} else {
			c.errorf(c.at(filePath), "prompt file: %v", err)
		}
		return "", "", false
	}
	return string(b), resolved, true
}

// providerOnly lists target keys that only some providers accept.
var providerOnly = map[string][]string{
	"fields":            {ProviderRecorded},
	"latency_unit":      {ProviderRecorded},
	"command":           {ProviderCommand},
	"env":               {ProviderCommand},
	"region":            {ProviderBedrock},
	"endpoint":          {ProviderBedrock},
	"base_url":          {ProviderOpenAI},
	"api_key_env":       {ProviderOpenAI},
	"timeout":           {ProviderBedrock, ProviderCommand, ProviderOpenAI},
	"rate_limit":        {ProviderBedrock, ProviderCommand, ProviderOpenAI},
	"stream":            {ProviderBedrock, ProviderOpenAI},
	"cache_prompt":      {ProviderBedrock},
	"batch":             {ProviderBedrock},
	"batch_role_arn":    {ProviderBedrock},
	"batch_s3_uri":      {ProviderBedrock},
	"batch_min_records": {ProviderBedrock},
}

// envName is a portable environment variable name (POSIX: letters, digits
// and underscores, not starting with a digit).
var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

var recordedRoles = []string{RecordedOutput, RecordedLatency, RecordedInputTokens, RecordedOutputTokens,
	RecordedPrompt, RecordedTemperature, RecordedTopP, RecordedTopK}

func (c *checker) checkTargets() {
	promptNames := slices.Sorted(maps.Keys(c.cfg.Prompts))
	seen := map[string]int{}
	for i := range c.cfg.Targets {
		t := &c.cfg.Targets[i]
		path := indexPath("targets", i)
		if c.require(path+".id", "") {
			if !isID(t.ID) {
				c.errorf(c.at(path+".id"), "target id '%s' may use only letters, digits, '_', '-' and '.'", t.ID)
			}
			if first, dup := seen[t.ID]; dup {
				c.errorf(c.at(path+".id"), "duplicate target id '%s' (also targets[%d]); ids must be unique", t.ID, first)
			} else {
				seen[t.ID] = i
			}
		}
		c.require(path+".model", "")
		if c.require(path+".provider", "; one of "+strings.Join(Providers, ", ")) {
			if !slices.Contains(Providers, t.Provider) {
				c.errorf(c.at(path+".provider"), "unknown provider '%s' in %s%s (providers: %s)", t.Provider, path, didYouMean(t.Provider, Providers), strings.Join(Providers, ", "))
			} else {
				c.checkProviderKeys(t, path)
			}
		}
		if t.Prompt != "" {
			if _, ok := c.cfg.Prompts[t.Prompt]; !ok {
				c.errorf(c.at(path+".prompt"), "%s: prompt '%s' is not defined under prompts%s", path, t.Prompt, didYouMean(t.Prompt, promptNames))
			}
		}
		c.checkParams(t, path)
		c.checkParamsFrom(t, path)
		c.checkTargetDataset(t, path)
		if f := c.checkFilter(path+".filter", t.Filter); f != nil {
			if c.s.targetFilters == nil {
				c.s.targetFilters = map[string]*Filter{}
			}
			c.s.targetFilters[t.ID] = f
		}
		if t.RateLimit != nil && (t.RateLimit.RPM < 0 || t.RateLimit.TPM < 0) {
			c.errorf(c.at(path+".rate_limit"), "%s.rate_limit: rpm and tpm cannot be negative", path)
		}
		c.checkCachePrompt(t, path)
		c.checkBatch(t, path)
		if t.Pricing != nil {
			p := t.Pricing
			if p.InputPerMTok < 0 || p.OutputPerMTok < 0 || p.CacheReadPerMTok < 0 || p.CacheWritePerMTok < 0 {
				c.errorf(c.at(path+".pricing"), "%s.pricing: prices cannot be negative", path)
			}
		}
	}
}

func (c *checker) checkProviderKeys(t *TargetConfig, path string) {
	for _, key := range slices.Sorted(maps.Keys(providerOnly)) {
		allowed := providerOnly[key]
		if c.has(path+"."+key) && !slices.Contains(allowed, t.Provider) {
			c.errorf(c.keyAt(path+"."+key), "key '%s' does not apply to a %s target (it is for %s); remove it or change the provider", key, t.Provider, strings.Join(allowed, ", "))
		}
	}
	switch t.Provider {
	case ProviderCommand:
		if len(t.Command) == 0 || t.Command[0] == "" {
			c.errorf(c.at(path+".command"), "%s: a command target needs 'command', the program and its arguments as a list, e.g. [python, app.py]", path)
		}
		for i, name := range t.Env {
			if !envName.MatchString(name) {
				c.errorf(c.at(indexPath(path+".env", i)), "%s.env: %q is not an environment variable name (letters, digits and _, not starting with a digit)", path, name)
			}
		}
	case ProviderRecorded:
		c.checkEnum(path+".latency_unit", t.LatencyUnit, "s", "ms")
		for role, col := range t.Fields {
			p := path + ".fields." + role
			if !slices.Contains(recordedRoles, role) {
				c.errorf(c.keyAt(p), "unknown recorded field '%s' in %s.fields%s (roles: %s)", role, path, didYouMean(role, recordedRoles), strings.Join(recordedRoles, ", "))
			} else if col == "" {
				c.errorf(c.at(p), "%s: name the dataset column, or remove the key to use %s", p, DefaultRecordedFields[role])
			}
		}
	}
}

// checkCachePrompt refuses cache_prompt where nothing is shared between
// calls: cache points would then only add cache-write charges. Whether the
// model supports caching depends on the pricing catalog, which --pricing may
// still change: the run checks that when it builds the target.
func (c *checker) checkCachePrompt(t *TargetConfig, path string) {
	if !t.CachePrompt || t.Provider != ProviderBedrock {
		return
	}
	if t.Prompt == "" {
		c.errorf(c.at(path+".cache_prompt"), "%s.cache_prompt: the target has no prompt, so each call is only the sample's own input and nothing is shared to cache; give it a prompt with a fixed system part, or remove cache_prompt", path)
		return
	}
	tpl := c.s.Templates[t.Prompt]
	if tpl == nil {
		return // the prompt's own error is reported
	}
	if sys, user := tpl.SharedPrefix(); sys == 0 && user == 0 {
		c.errorf(c.at(path+".cache_prompt"), "%s.cache_prompt: prompt '%s' starts with a placeholder in both its system and user parts, so no prefix is shared between samples; put the fixed text (instructions, a long shared context) first, or remove cache_prompt", path, t.Prompt)
	}
}

// checkBatch asks a batch target for what its job needs, and refuses what
// a job cannot do. The formats of the role ARN and the S3 URI are checked
// where the job is built (evalgate run and validate), by the batch package.
func (c *checker) checkBatch(t *TargetConfig, path string) {
	if t.Provider != ProviderBedrock {
		return
	}
	if !t.Batch {
		for _, key := range []string{"batch_role_arn", "batch_s3_uri", "batch_min_records"} {
			if c.has(path + "." + key) {
				c.errorf(c.keyAt(path+"."+key), "%s.%s is only used with batch: true; set batch: true to run the target as a Bedrock batch job, or remove it", path, key)
			}
		}
		return
	}
	if t.BatchRoleARN == "" {
		c.errorf(c.at(path+".batch"), "%s.batch_role_arn: a batch target needs the ARN of the IAM service role Bedrock assumes to read and write the job's files (arn:aws:iam::ACCOUNT:role/NAME; see the README's Batch inference section)", path)
	}
	if t.BatchS3URI == "" {
		c.errorf(c.at(path+".batch"), "%s.batch_s3_uri: a batch target needs the S3 bucket and prefix for the job's input and output (s3://BUCKET/PREFIX, a bucket in the target's region)", path)
	}
	if t.BatchMinRecords < 0 {
		c.errorf(c.at(path+".batch_min_records"), "%s.batch_min_records cannot be negative", path)
	}
	if t.Stream {
		c.errorf(c.at(path+".stream"), "%s.stream: a batch job returns whole answers, so time to first token cannot be measured; remove stream or batch", path)
	}
	if t.CachePrompt {
		c.errorf(c.at(path+".cache_prompt"), "%s.cache_prompt: a batch job is priced per token at the batch price and reads no prompt cache; remove cache_prompt or batch", path)
	}
	if t.Cassette != "" {
		c.errorf(c.at(path+".cassette"), "%s.cassette: a cassette replays or records calls one at a time, which a batch job does not make; remove cassette or batch", path)
	}
}

func (c *checker) checkParams(t *TargetConfig, path string) {
	p, pp := t.Params, path+".params"
	if p.Temperature != nil && *p.Temperature < 0 {
		c.errorf(c.at(pp+".temperature"), "%s.temperature cannot be negative", pp)
	}
	if p.TopP != nil && (*p.TopP < 0 || *p.TopP > 1) {
		c.errorf(c.at(pp+".top_p"), "%s.top_p must be between 0 and 1", pp)
	}
	if p.TopK != nil && *p.TopK < 1 {
		c.errorf(c.at(pp+".top_k"), "%s.top_k must be at least 1", pp)
	}
	if p.MaxTokens != nil && *p.MaxTokens < 1 {
		c.errorf(c.at(pp+".max_tokens"), "%s.max_tokens must be at least 1", pp)
	}
}

func (c *checker) checkMetrics() {
	seen := map[string]int{}
	var types []string
	for i := range c.cfg.Metrics {
		m := &c.cfg.Metrics[i]
		path := indexPath("metrics", i)
		if m.Name == "" && m.Type == "" {
			c.errorf(c.at(path), "%s: a metric needs a name (and a type when the name is not a built-in metric)", path)
			continue
		}
		name := cmp.Or(m.Name, m.Type)
		typ := cmp.Or(m.Type, m.Name)
		if !isID(name) {
			c.errorf(c.at(path+".name"), "metric name '%s' may use only letters, digits, '_', '-' and '.'", name)
		}
		if first, dup := seen[name]; dup {
			c.errorf(c.at(path+".name"), "duplicate metric name '%s' (also metrics[%d]); give one of them a different name", name, first)
		} else {
			seen[name] = i
		}
		if !c.cat.known(typ) {
			if types == nil {
				types = c.cat.types()
			}
			at, what := path+".type", "metric type"
			if m.Type == "" {
				at, what = path+".name", "metric"
			}
			c.errorf(c.at(at), "unknown %s '%s' in %s%s (built-in types: %s)", what, typ, path, didYouMean(typ, types), strings.Join(types, ", "))
			continue
		}
		targets, opts := c.metricTargets(m.Options, path)
		m.Options = opts
		if c.cat.optionKeys != nil {
			keys := c.cat.optionKeys(typ)
			for _, k := range slices.Sorted(maps.Keys(m.Options)) {
				if !slices.Contains(keys, k) {
					valid := "it takes no options"
					if len(keys) > 0 {
						valid = "options: " + strings.Join(keys, ", ")
					}
					c.errorf(c.keyAt(path+"."+k), "unknown option '%s' for metric type %s in %s%s (%s)", k, typ, path, didYouMean(k, keys), valid)
				}
			}
		}
		if _, err := json.Marshal(m.Options); err != nil {
			c.errorf(c.at(path), "%s: options must be plain values, lists and mappings with string keys: %v", path, err)
		}
		c.s.Metrics = append(c.s.Metrics, metric.Spec{Name: name, Type: typ, Options: m.Options, BaseDir: c.s.Dir, Targets: targets})
	}
}

// metricTargets takes the key every metric accepts, targets (the targets the
// metric scores; all when absent), out of a metric's options. An imported
// score describes the answer it was given for, usually the source model's,
// and must not be credited to another target.
func (c *checker) metricTargets(opts map[string]any, path string) ([]string, map[string]any) {
	raw, ok := opts["targets"]
	if !ok {
		return nil, opts
	}
	rest := maps.Clone(opts)
	delete(rest, "targets")
	list, ok := raw.([]any)
	if !ok || len(list) == 0 {
		c.errorf(c.keyAt(path+".targets"), "%s.targets: expected a list of target ids, like [source]", path)
		return nil, rest
	}
	var ids []string
	for _, t := range c.cfg.Targets {
		ids = append(ids, t.ID)
	}
	var out []string
	for _, v := range list {
		id, ok := v.(string)
		if !ok || !slices.Contains(ids, id) {
			c.errorf(c.keyAt(path+".targets"), "%s.targets: '%v' is not a target of this suite%s", path, v, didYouMean(fmt.Sprint(v), ids))
			continue
		}
		out = append(out, id)
	}
	return out, rest
}

func (c *checker) checkCriteria() {
	names := c.metricNames()
	for i, cr := range c.cfg.Criteria {
		path := indexPath("criteria", i)
		if c.require(path+".metric", "") && !slices.Contains(names, cr.Metric) {
			c.errorf(c.at(path+".metric"), "%s: metric '%s' is neither declared under metrics nor computed by the gate%s", path, cr.Metric, didYouMean(cr.Metric, names))
		}
		var bounds []string
		for _, k := range []string{"min", "max_drop", "max_increase", "max_error_rate"} {
			if c.written(path + "." + k) {
				bounds = append(bounds, k)
			}
		}
		switch len(bounds) {
		case 0:
			c.errorf(c.at(path), "%s: give one of min, max_drop, max_increase or max_error_rate", path)
		case 1:
		default:
			c.errorf(c.keyAt(path+"."+bounds[1]), "%s: give only one of min, max_drop, max_increase, max_error_rate (found %s); write one criterion per bound", path, strings.Join(bounds, " and "))
		}
		if cr.MaxErrorRate != nil && (*cr.MaxErrorRate < 0 || *cr.MaxErrorRate > 1) {
			c.errorf(c.at(path+".max_error_rate"), "%s.max_error_rate is a fraction between 0 and 1, got %g", path, *cr.MaxErrorRate)
		}
		c.checkEnum(path+".mode", string(cr.Mode), Modes...)
		c.checkEnum(path+".severity", string(cr.Severity), Severities...)
	}
}

// metricNames are the names criteria may use: declared and aggregate metrics.
func (c *checker) metricNames() []string {
	var names []string
	for _, m := range c.cfg.Metrics {
		names = append(names, cmp.Or(m.Name, m.Type))
	}
	for _, a := range AggregateMetrics {
		if !slices.Contains(names, a) {
			names = append(names, a)
		}
	}
	return names
}

func (c *checker) checkEnum(path, v string, allowed ...string) {
	if v != "" && !slices.Contains(allowed, v) {
		c.errorf(c.at(path), "%s must be %s, got '%s'%s", path, strings.Join(allowed, " or "), v, didYouMean(v, allowed))
	}
}

func (c *checker) checkGate() {
	g := &c.cfg.Gate
	names := c.metricNames()
	for i, a := range g.Agreement {
		path := indexPath("gate.agreement", i)
		for _, k := range []struct{ key, name string }{{"judge", a.Judge}, {"human", a.Human}} {
			if c.require(path+"."+k.key, "") && !slices.Contains(names, k.name) {
				c.errorf(c.at(path+"."+k.key), "%s.%s: metric '%s' is not declared under metrics%s", path, k.key, k.name, didYouMean(k.name, names))
			}
		}
	}
	var ids []string
	for _, t := range c.cfg.Targets {
		ids = append(ids, t.ID)
	}
	if g.Baseline != "" && !slices.Contains(ids, g.Baseline) && !strings.HasSuffix(g.Baseline, ".jsonl") {
		c.errorf(c.at("gate.baseline"), "gate.baseline '%s' is neither a target id nor a results file (.jsonl)%s", g.Baseline, didYouMean(g.Baseline, ids))
	}
	if g.Target != "" {
		if !slices.Contains(ids, g.Target) {
			c.errorf(c.at("gate.target"), "gate.target '%s' is not a target id%s", g.Target, didYouMean(g.Target, ids))
		} else if g.Target == g.Baseline {
			c.errorf(c.at("gate.target"), "gate.target and gate.baseline are both '%s'; compare two different targets", g.Target)
		}
	}
	c.checkEnum("gate.mode", string(g.Mode), Modes...)
	if c.has("gate.confidence") && (g.Confidence <= 0 || g.Confidence >= 1) {
		c.errorf(c.at("gate.confidence"), "gate.confidence is a probability between 0 and 1 (e.g. 0.95), got %g", g.Confidence)
	}
	if g.MonthlyCalls < 0 {
		c.errorf(c.at("gate.monthly_calls"), "gate.monthly_calls cannot be negative")
	}
	if col := c.cfg.Dataset.Fields[RoleCluster]; g.Cluster != "" && col != "" && col != g.Cluster {
		c.errorf(c.at("gate.cluster"), "gate.cluster '%s' differs from dataset.fields.cluster '%s'; set only one", g.Cluster, col)
	}
}

func (c *checker) checkRun() {
	r := &c.cfg.Run
	if c.has("run.concurrency") && r.Concurrency < 1 {
		c.errorf(c.at("run.concurrency"), "run.concurrency must be at least 1, got %d", r.Concurrency)
	}
	if c.has("run.repeats") && r.Repeats < 1 {
		c.errorf(c.at("run.repeats"), "run.repeats must be at least 1, got %d", r.Repeats)
	}
	if r.Retries != nil && *r.Retries < 0 {
		c.errorf(c.at("run.retries"), "run.retries cannot be negative, got %d", *r.Retries)
	}
	if r.BudgetUSD < 0 {
		c.errorf(c.at("run.budget_usd"), "run.budget_usd cannot be negative")
	}
	for i, f := range r.SequentialLooks {
		if !(f > 0 && f <= 1) || i > 0 && f <= r.SequentialLooks[i-1] {
			c.errorf(c.at("run.sequential_looks"), "run.sequential_looks must be increasing shares of the samples in (0, 1], such as [0.2, 0.35, 0.5, 0.75, 1]; got %v", r.SequentialLooks)
			break
		}
	}
	if r.SequentialSeed != nil && *r.SequentialSeed < 0 {
		c.errorf(c.at("run.sequential_seed"), "run.sequential_seed must be a whole number >= 0, got %d", *r.SequentialSeed)
	}
	if !r.Sequential && (len(r.SequentialLooks) > 0 || r.SequentialSeed != nil) {
		key := "run.sequential_looks"
		if len(r.SequentialLooks) == 0 {
			key = "run.sequential_seed"
		}
		c.errorf(c.at(key), "%s applies to sequential runs only: set run.sequential: true, or remove it", key)
	}
}

// isID reports whether s is usable as a target id or metric name: it appears
// in file names, reports and criteria.
func isID(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r == '-' || r == '.' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// readDatasetDigest hashes the dataset file as a stream (stopping on ctx).
func (s *Suite) readDatasetDigest(ctx context.Context) ([]byte, error) {
	f, err := os.Open(s.DatasetPath)
	if err != nil {
		return nil, fmt.Errorf("dataset %s: %w", s.DatasetPath, err)
	}
	defer f.Close()
	dh := sha256.New()
	if _, err := io.Copy(dh, ctxReader{ctx, f}); err != nil {
		return nil, fmt.Errorf("dataset %s: %w", s.DatasetPath, err)
	}
	return dh.Sum(nil), nil
}

// comparableHash is the suite hash from the dataset's digest and what else
// makes two runs comparable.
func (s *Suite) comparableHash(datasetDigest []byte) (string, error) {
	fields := map[string]string{}
	for _, r := range roles {
		fields[r] = s.Field(r)
	}
	comparable := struct {
		Dataset   string            `json:"dataset_sha256"`
		Format    string            `json:"format"`
		Fields    map[string]string `json:"fields"`
		Delimiter string            `json:"delimiter"`
		Limit     int               `json:"limit"`
		Metrics   []metric.Spec     `json:"metrics"`
		Filter    []Condition       `json:"filter,omitempty"`
	}{hex.EncodeToString(datasetDigest), s.DatasetFormat, fields, s.Delimiter(), s.Config.Dataset.Limit, nil, s.Config.Dataset.Filter}
	for _, m := range s.Metrics {
		m.BaseDir = "" // where the suite lives does not change the scores
		comparable.Metrics = append(comparable.Metrics, m)
	}
	return hashJSON(comparable)
}

// computeConfigHash fills ConfigHash: the whole config and the prompt texts.
func (s *Suite) computeConfigHash() error {
	names := slices.Sorted(maps.Keys(s.Templates))
	type promptText struct{ Name, System, User string }
	whole := struct {
		Config  Config
		Prompts []promptText
	}{Config: s.Config}
	for _, n := range names {
		sys, user := s.Templates[n].Text()
		whole.Prompts = append(whole.Prompts, promptText{n, sys, user})
	}
	var err error
	s.configHash, err = hashJSON(whole)
	return err
}

func hashJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("hash suite: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}
