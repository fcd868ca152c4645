package suite

import (
	"maps"
	"os"
	"slices"
	"strings"
)

// OptimizeConfig is the optimize section: how `evalgate optimize` finds a
// better prompt for one target (migration step 2).
type OptimizeConfig struct {
	// Target is the id of the target whose prompt is optimized: its provider,
	// model and params run every candidate.
	Target string `yaml:"target"`
	// Source is where the source prompt comes from; default: the target's prompt.
	Source *OptimizeSource `yaml:"source,omitempty"`
	// Generators make the candidate prompts.
	Generators OptimizeGenerators `yaml:"generators"`
	// Split is the fraction of samples in the dev part (default 0.5); the
	// rest is held out for the gate.
	Split float64 `yaml:"split,omitempty"`
	// Seed fixes the split (default 1).
	Seed *int64 `yaml:"seed,omitempty"`
	// Objective chooses the best candidate on the dev part.
	Objective *OptimizeObjective `yaml:"objective,omitempty"`
	// Baseline is what the winner is gated against on the held-out part: a
	// target id of this suite, or "control" (the source prompt on the
	// target's model). Default: gate.baseline when it is a target, else control.
	Baseline string `yaml:"baseline,omitempty"`
	// Output is where the winning prompt is written (default
	// prompts/<target>.optimized.txt).
	Output string `yaml:"output,omitempty"`
	// BudgetUSD caps everything optimize spends (generation, dev, held-out).
	BudgetUSD float64 `yaml:"budget_usd,omitempty"`
}

// OptimizeSource is the source prompt: a prompt of the suite, or a row of a
// prompts CSV (a row per use case and model family, as in AWS's migration
// samples).
type OptimizeSource struct {
	Prompt string `yaml:"prompt,omitempty"`
	CSV    string `yaml:"csv,omitempty"`
	// Fields maps the CSV's roles (use_case, family, prompt, system) to columns.
	Fields map[string]string `yaml:"fields,omitempty"`
	// UseCase and Family pick the row.
	UseCase string `yaml:"use_case,omitempty"`
	Family  string `yaml:"family,omitempty"`
	// Placeholders maps a source placeholder ({TRANSCRIPT}, $doc) to the
	// dataset column that fills it, when their names differ.
	Placeholders map[string]string `yaml:"placeholders,omitempty"`
}

// OptimizeGenerators lists the generators to use; each is optional.
type OptimizeGenerators struct {
	// Rules turns on the deterministic conversions (no model call).
	Rules bool `yaml:"rules,omitempty"`
	// Files are prompt variants written by hand: files or directories.
	Files []string `yaml:"files,omitempty"`
	// Metaprompt asks a model to rewrite the source prompt for the target.
	Metaprompt *OptimizeModel `yaml:"metaprompt,omitempty"`
	// Bedrock calls Amazon Bedrock Prompt Optimization (OptimizePrompt).
	Bedrock *OptimizeBedrock `yaml:"bedrock,omitempty"`
}

// OptimizeModel is the model a generator calls, like a target without id or prompt.
type OptimizeModel struct {
	Provider  string   `yaml:"provider"`
	Model     string   `yaml:"model"`
	Command   []string `yaml:"command,omitempty"`
	Cassette  string   `yaml:"cassette,omitempty"`
	Region    string   `yaml:"region,omitempty"`
	Endpoint  string   `yaml:"endpoint,omitempty"`
	BaseURL   string   `yaml:"base_url,omitempty"`
	APIKeyEnv string   `yaml:"api_key_env,omitempty"`
	Timeout   Duration `yaml:"timeout,omitempty"`
	// MaxTokens bounds the rewrite (default 4096).
	MaxTokens int `yaml:"max_tokens,omitempty"`
}

// OptimizeBedrock configures Bedrock Prompt Optimization.
type OptimizeBedrock struct {
	Region   string `yaml:"region,omitempty"`
	Endpoint string `yaml:"endpoint,omitempty"`
	// Model is the model id to optimize for; default: the target's model.
	Model string `yaml:"model,omitempty"`
	// Cassette replays the optimization offline; `evalgate optimize
	// --record` writes it.
	Cassette string `yaml:"cassette,omitempty"`
}

// OptimizeObjective says how candidates are ranked on the dev part.
type OptimizeObjective struct {
	// Metric is the primary metric (default: the first criterion on a suite
	// metric, else the first metric).
	Metric string `yaml:"metric,omitempty"`
	// Tolerance is how close two primary scores are to count as tied, when
	// cost and then latency decide (default 0.01).
	Tolerance *float64 `yaml:"tolerance,omitempty"`
	// Weights, when set, rank by the weighted sum of metric means instead
	// (aggregates such as cost_per_1k and latency_p95 allowed; give costs a
	// negative weight).
	Weights map[string]float64 `yaml:"weights,omitempty"`
}

// DefaultSplit is the dev fraction when optimize.split is unset.
const DefaultSplit = 0.5

// ControlID is the id of the control: the source prompt on the target's model.
const ControlID = "control"

// CSV roles of optimize.source.fields.
var optimizeCSVRoles = []string{"use_case", "family", "prompt", "system"}

func (c *checker) checkOptimize() {
	o := c.cfg.Optimize
	if o == nil {
		return
	}
	var ids []string
	for _, t := range c.cfg.Targets {
		ids = append(ids, t.ID)
	}
	if c.require("optimize.target", "; name the target whose prompt is optimized") {
		if t, ok := c.s.Target(o.Target); !ok {
			c.errorf(c.at("optimize.target"), "optimize.target '%s' is not a target id%s", o.Target, didYouMean(o.Target, ids))
		} else if t.Provider == ProviderRecorded {
			c.errorf(c.at("optimize.target"), "optimize.target '%s' is a recorded target: it replays logged answers and cannot try a new prompt; name a target that calls a model", o.Target)
		} else if t.Prompt == "" && (o.Source == nil || (o.Source.Prompt == "" && o.Source.CSV == "")) {
			c.errorf(c.at("optimize.target"), "optimize: target '%s' has no prompt; give one, or set optimize.source", o.Target)
		} else if len(t.Filter) > 0 {
			// The split and the candidates' runs read the samples of
			// dataset.filter: a target's own rows would be another split.
			c.errorf(c.at("optimize.target"), "optimize: target '%s' has a filter, which optimize does not apply; move its conditions to dataset.filter", o.Target)
		}
	}
	if c.has("optimize.split") && (o.Split <= 0 || o.Split >= 1) {
		c.errorf(c.at("optimize.split"), "optimize.split is the dev fraction, between 0 and 1 (e.g. 0.5), got %g", o.Split)
	}
	if o.BudgetUSD < 0 {
		c.errorf(c.at("optimize.budget_usd"), "optimize.budget_usd cannot be negative")
	}
	if o.Baseline != "" && o.Baseline != ControlID && !slices.Contains(ids, o.Baseline) {
		c.errorf(c.at("optimize.baseline"), "optimize.baseline '%s' is neither a target id nor '%s'%s", o.Baseline, ControlID, didYouMean(o.Baseline, append(ids, ControlID)))
	}
	if o.Baseline != "" && o.Baseline == o.Target {
		c.errorf(c.at("optimize.baseline"), "optimize.baseline and optimize.target are both '%s'; the winner is gated against another target or 'control'", o.Target)
	}
	if src := o.Source; src != nil {
		c.checkOptimizeSource(src)
	}
	g := o.Generators
	if !g.Rules && len(g.Files) == 0 && g.Metaprompt == nil && g.Bedrock == nil {
		c.errorf(c.at("optimize.generators"), "optimize.generators: turn on at least one of rules, files, metaprompt, bedrock")
	}
	for i, f := range g.Files {
		if _, err := os.Stat(c.s.resolve(f)); err != nil {
			c.errorf(c.at(indexPath("optimize.generators.files", i)), "optimize.generators.files: %s does not exist (relative paths start at the directory of the suite)", c.s.resolve(f))
		}
	}
	if m := g.Metaprompt; m != nil {
		p := "optimize.generators.metaprompt"
		c.require(p+".model", "")
		if c.require(p+".provider", "; one of "+strings.Join(Providers, ", ")) {
			switch {
			case !slices.Contains(Providers, m.Provider):
				c.errorf(c.at(p+".provider"), "unknown provider '%s' in %s%s (providers: %s)", m.Provider, p, didYouMean(m.Provider, Providers), strings.Join(Providers, ", "))
			case m.Provider == ProviderRecorded && m.Cassette == "":
				c.errorf(c.at(p+".provider"), "%s: a recorded provider needs a cassette to replay the rewrite from", p)
			case m.Provider == ProviderCommand && len(m.Command) == 0:
				c.errorf(c.at(p+".command"), "%s: a command provider needs 'command', the program and its arguments as a list", p)
			}
		}
		if m.MaxTokens < 0 {
			c.errorf(c.at(p+".max_tokens"), "%s.max_tokens must be at least 1", p)
		}
	}
	if ob := o.Objective; ob != nil {
		names := c.metricNames()
		if ob.Metric != "" && !slices.Contains(names, ob.Metric) {
			c.errorf(c.at("optimize.objective.metric"), "optimize.objective.metric '%s' is not a metric of this suite%s", ob.Metric, didYouMean(ob.Metric, names))
		}
		for _, k := range slices.Sorted(maps.Keys(ob.Weights)) {
			if !slices.Contains(names, k) {
				c.errorf(c.keyAt("optimize.objective.weights."+k), "optimize.objective.weights: '%s' is not a metric of this suite%s", k, didYouMean(k, names))
			}
		}
		if ob.Tolerance != nil && *ob.Tolerance < 0 {
			c.errorf(c.at("optimize.objective.tolerance"), "optimize.objective.tolerance cannot be negative")
		}
	}
}

func (c *checker) checkOptimizeSource(src *OptimizeSource) {
	switch {
	case src.Prompt != "" && src.CSV != "":
		c.errorf(c.at("optimize.source.csv"), "optimize.source: give prompt or csv, not both")
	case src.Prompt != "":
		if _, ok := c.cfg.Prompts[src.Prompt]; !ok {
			c.errorf(c.at("optimize.source.prompt"), "optimize.source.prompt '%s' is not defined under prompts%s", src.Prompt, didYouMean(src.Prompt, slices.Sorted(maps.Keys(c.cfg.Prompts))))
		}
	case src.CSV != "":
		if _, err := os.Stat(c.s.resolve(src.CSV)); err != nil {
			c.errorf(c.at("optimize.source.csv"), "optimize.source.csv: %s does not exist (relative paths start at the directory of the suite)", c.s.resolve(src.CSV))
		}
		for role, col := range src.Fields {
			p := "optimize.source.fields." + role
			if !slices.Contains(optimizeCSVRoles, role) {
				c.errorf(c.keyAt(p), "unknown field role '%s' in optimize.source.fields%s (roles: %s)", role, didYouMean(role, optimizeCSVRoles), strings.Join(optimizeCSVRoles, ", "))
			} else if col == "" {
				c.errorf(c.at(p), "%s: name the CSV column, or remove the key to use '%s'", p, role)
			}
		}
	default:
		c.errorf(c.at("optimize.source"), "optimize.source: give prompt (a prompt of this suite) or csv (a prompts CSV file)")
	}
	for k, v := range src.Placeholders {
		if v == "" {
			c.errorf(c.at("optimize.source.placeholders."+k), "optimize.source.placeholders.%s: name the dataset column that fills it", k)
		}
	}
}
