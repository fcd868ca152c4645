package optimize

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/evalgate/evalgate/internal/gate"
	"github.com/evalgate/evalgate/internal/suite"
)

// Settings are the command line's overrides of the optimize section.
type Settings struct {
	// Split is the dev fraction (0: the section's, else DefaultSplit).
	Split float64
	// Seed, when set, replaces the section's seed.
	Seed *int64
}

// Prepared is everything decided before any call: the source prompt, the
// checks every candidate must pass, and the plan without its candidates.
type Prepared struct {
	Config *suite.OptimizeConfig
	Target *suite.TargetConfig
	Source *Source
	Checks Checks
	Plan   Plan
	// Priced is false when the target's model is not in the catalog: the
	// context window is then not checked.
	Priced bool
}

// DefaultSeed seeds the split when neither the suite nor the command line does.
const DefaultSeed = 1

// Prepare reads what the suite's optimize section names: the dataset once
// (ids and clusters for the split, columns and value sizes for the checks)
// and the source prompt, which must itself pass the checks as the control.
// Every error is the suite's or the data's to fix.
func Prepare(s *suite.Suite, set Settings) (*Prepared, error) {
	oc := s.Config.Optimize
	if oc == nil {
		return nil, fmt.Errorf("%s has no optimize section; add one (see README, \"Optimizing the prompt\")", s.Path)
	}
	tc, ok := s.Target(oc.Target)
	if !ok {
		return nil, fmt.Errorf("%s: optimize.target %q is not a target", s.Path, oc.Target)
	}
	data, err := scan(s)
	if err != nil {
		return nil, err
	}
	src, err := sourcePrompt(s, oc, tc, data.columns)
	if err != nil {
		return nil, err
	}
	p := &Prepared{Config: oc, Target: tc, Source: src, Checks: Checks{Required: src.Fields, Columns: data.columns, Longest: data.longest}}
	if m, ok := s.Prices().Lookup(tc.Model); ok {
		p.Checks.ContextWindow, p.Priced = m.ContextWindow, true
	}
	control := Control(src, tc.Params)
	if _, err := p.Checks.Check(control); err != nil {
		return nil, fmt.Errorf("source prompt %s cannot be evaluated as it is: %w", src.Origin, err)
	}
	obj, err := objective(s, oc)
	if err != nil {
		return nil, err
	}
	p.Plan = Plan{Source: src, Control: control, Units: data.units, Split: suite.DefaultSplit, Seed: DefaultSeed,
		Objective: obj, Gate: gate.FromSuite(&s.Config), Baseline: heldOutBaseline(s, oc)}
	if oc.Split > 0 {
		p.Plan.Split = oc.Split
	}
	if set.Split > 0 {
		p.Plan.Split = set.Split
	}
	if oc.Seed != nil {
		p.Plan.Seed = *oc.Seed
	}
	if set.Seed != nil {
		p.Plan.Seed = *set.Seed
	}
	return p, nil
}

// dataset is what optimize needs to know of the samples.
type dataset struct {
	units []Unit
	// columns are those every sample has; longest the longest value of each.
	columns []string
	longest map[string]int
}

func scan(s *suite.Suite) (*dataset, error) {
	ds, err := suite.OpenDataset(s)
	if err != nil {
		return nil, err
	}
	defer ds.Close()
	d := &dataset{longest: map[string]int{}}
	var common map[string]bool
	for {
		smp, err := ds.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		d.units = append(d.units, Unit{ID: smp.ID, Cluster: smp.Cluster})
		if common == nil {
			common = map[string]bool{}
			for k := range smp.Fields {
				common[k] = true
			}
		}
		for k := range common {
			if _, ok := smp.Fields[k]; !ok {
				delete(common, k)
			}
		}
		for k, v := range smp.Fields {
			d.longest[k] = max(d.longest[k], len(v))
		}
	}
	d.columns = slices.Sorted(maps.Keys(common))
	return d, nil
}

// sourcePrompt reads the source prompt: optimize.source, else the target's prompt.
func sourcePrompt(s *suite.Suite, oc *suite.OptimizeConfig, tc *suite.TargetConfig, columns []string) (*Source, error) {
	name := tc.Prompt
	if src := oc.Source; src != nil && src.CSV != "" {
		cols := CSVColumns{UseCase: src.Fields["use_case"], Family: src.Fields["family"], Prompt: src.Fields["prompt"], System: src.Fields["system"]}
		system, user, origin, err := ReadPromptsCSV(s.ResolvePath(src.CSV), cols, src.UseCase, src.Family)
		if err != nil {
			return nil, fmt.Errorf("optimize.source: %w", err)
		}
		for _, k := range slices.Sorted(maps.Keys(src.Placeholders)) {
			if col := src.Placeholders[k]; !slices.Contains(columns, col) {
				return nil, fmt.Errorf("%s: optimize.source.placeholders.%s: %q is not a column every sample has (columns: %s)", s.Path, k, col, strings.Join(columns, ", "))
			}
		}
		return NewSource(origin, system, user, Resolver{Explicit: src.Placeholders, Columns: columns})
	} else if src != nil && src.Prompt != "" {
		name = src.Prompt
	}
	tpl := s.Templates[name]
	system, user := tpl.Text()
	return NativeSource("prompt "+name+" of "+s.Path, system, user, tpl.Fields())
}

// objective is optimize.objective with its defaults: the primary metric is
// the first criterion's suite metric, else the first metric, among those
// that score the target.
func objective(s *suite.Suite, oc *suite.OptimizeConfig) (Objective, error) {
	obj := Objective{Tolerance: DefaultTolerance}
	if ob := oc.Objective; ob != nil {
		obj.Metric, obj.Weights = ob.Metric, ob.Weights
		if ob.Tolerance != nil {
			obj.Tolerance = *ob.Tolerance
		}
	}
	if obj.Metric != "" {
		return obj, nil
	}
	var names []string
	for _, m := range s.Metrics {
		if len(m.Targets) == 0 || slices.Contains(m.Targets, oc.Target) {
			names = append(names, m.Name)
		}
	}
	for _, c := range s.Config.Criteria {
		if slices.Contains(names, c.Metric) {
			obj.Metric = c.Metric
			return obj, nil
		}
	}
	if len(names) == 0 {
		return obj, fmt.Errorf("%s: no metric scores target %q; set optimize.objective.metric", s.Path, oc.Target)
	}
	obj.Metric = names[0]
	return obj, nil
}

// heldOutBaseline is the suite target the winner is gated against, "" for
// the control.
func heldOutBaseline(s *suite.Suite, oc *suite.OptimizeConfig) string {
	switch b := oc.Baseline; {
	case b == suite.ControlID:
		return ""
	case b != "":
		return b
	}
	if b := s.Config.Gate.Baseline; b != "" && b != oc.Target {
		if _, ok := s.Target(b); ok {
			return b
		}
	}
	return ""
}

// LocalGenerators are the generators that call no model (rules, files).
func (p *Prepared) LocalGenerators(s *suite.Suite) []Generator {
	var gens []Generator
	if p.Config.Generators.Rules {
		gens = append(gens, Rules{Checks: p.Checks})
	}
	if files := p.Config.Generators.Files; len(files) > 0 {
		var paths []string
		for _, f := range files {
			paths = append(paths, s.ResolvePath(f))
		}
		gens = append(gens, Files{Paths: paths})
	}
	return gens
}
