// Package optimize is step 2 of the migration: from the source prompt to a
// prompt for the target model, chosen on one part of the data and gated on
// another. Generators propose candidates (Bedrock Prompt Optimization, a
// metaprompt, deterministic rules, files written by hand); every candidate is
// checked before it costs a call; the candidates and the source prompt (the
// control) run on the dev part; the best by a stated objective is then gated
// on the held-out part, which selection never saw.
package optimize

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/evalgate/evalgate/internal/gate"
	"github.com/evalgate/evalgate/internal/provider"
)

// Generator proposes candidate prompts from the source prompt.
type Generator interface {
	Name() string
	Generate(ctx context.Context, src *Source, params provider.Params) ([]Candidate, error)
}

// Dropped is a candidate (or a whole generator) that was not evaluated, and why.
type Dropped struct {
	ID        string `json:"id,omitempty"`
	Generator string `json:"generator"`
	Reason    string `json:"reason"`
	// Kind is the provider error kind when a model call failed ("throttled").
	Kind string `json:"kind,omitempty"`
}

// Generate runs every generator and checks every candidate. A generator that
// fails and a candidate that fails its checks are reported in dropped, never
// evaluated; the others go on.
func Generate(ctx context.Context, gens []Generator, src *Source, params provider.Params, checks Checks) (kept []Candidate, dropped []Dropped) {
	seen := map[string]bool{GenControl: true}
	for _, g := range gens {
		cands, err := g.Generate(ctx, src, params)
		if err != nil {
			d := Dropped{Generator: g.Name(), Reason: err.Error()}
			var pe *provider.Error
			if errors.As(err, &pe) {
				d.Kind = pe.Kind.String()
			}
			dropped = append(dropped, d)
			continue
		}
		for _, c := range cands {
			if seen[c.ID] {
				dropped = append(dropped, Dropped{ID: c.ID, Generator: c.Generator, Reason: "a second candidate named " + c.ID})
				continue
			}
			seen[c.ID] = true
			if _, err := checks.Check(c); err != nil {
				dropped = append(dropped, Dropped{ID: c.ID, Generator: c.Generator, Reason: err.Error()})
				continue
			}
			kept = append(kept, c)
		}
	}
	return kept, dropped
}

// Variant is one thing run in a phase: a candidate prompt on the target's
// model, or (Candidate nil) a target of the suite as configured, such as a
// recorded source model.
type Variant struct {
	ID        string
	Candidate *Candidate
}

// Phases of an optimization.
const (
	PhaseDev     = "dev"
	PhaseHeldOut = "heldout"
)

// Evaluator runs variants on the samples whose ids are in ids, through the
// run engine, and returns the results file.
type Evaluator interface {
	Evaluate(ctx context.Context, phase string, variants []Variant, ids map[string]bool) (resultsPath string, err error)
}

// Plan is everything an optimization needs, decided before any call.
type Plan struct {
	Source     *Source
	Control    Candidate
	Candidates []Candidate
	Units      []Unit
	Split      float64
	Seed       int64
	Objective  Objective
	Gate       gate.Config
	// Baseline is the suite target the winner is gated against; empty means
	// the control.
	Baseline string
}

// Outcome is what an optimization found.
type Outcome struct {
	DevIDs, HeldOutIDs   []string
	DevPath, HeldOutPath string
	Ranking              *Ranking
	Winner               Candidate
	// BaselineID is the held-out side the winner was compared with.
	BaselineID string
	Verdict    *gate.Verdict
}

// Run is the whole selection, step by step.
func Run(ctx context.Context, p Plan, ev Evaluator) (*Outcome, error) {
	if len(p.Candidates) == 0 {
		return nil, errors.New("optimize: no candidate passed its checks")
	}
	// 1. Split the samples, once, before anything is evaluated.
	dev, held, err := Split(p.Units, p.Split, p.Seed)
	if err != nil {
		return nil, err
	}
	out := &Outcome{DevIDs: sortedKeys(dev), HeldOutIDs: sortedKeys(held)}
	// 2. The control and every candidate, on the dev part only.
	variants := []Variant{{ID: p.Control.ID, Candidate: &p.Control}}
	for i := range p.Candidates {
		variants = append(variants, Variant{ID: p.Candidates[i].ID, Candidate: &p.Candidates[i]})
	}
	if out.DevPath, err = ev.Evaluate(ctx, PhaseDev, variants, dev); err != nil {
		return out, fmt.Errorf("optimize: dev part: %w", err)
	}
	// 3. Choose, reading the dev results only.
	if out.Ranking, err = Select(ctx, out.DevPath, p.Control, p.Candidates, p.Gate, p.Objective); err != nil {
		return out, err
	}
	i := slices.IndexFunc(p.Candidates, func(c Candidate) bool { return c.ID == out.Ranking.Winner })
	out.Winner = p.Candidates[i]
	// 4. The winner and the baseline on the held-out part, which no choice
	// above has seen, compared by the normal gate.
	base := Variant{ID: p.Control.ID, Candidate: &p.Control}
	if p.Baseline != "" {
		if p.Baseline == out.Winner.ID {
			return out, fmt.Errorf("optimize: the baseline target %q has the id of a candidate; rename the target", p.Baseline)
		}
		base = Variant{ID: p.Baseline}
	}
	out.BaselineID = base.ID
	if out.HeldOutPath, err = ev.Evaluate(ctx, PhaseHeldOut, []Variant{base, {ID: out.Winner.ID, Candidate: &out.Winner}}, held); err != nil {
		return out, fmt.Errorf("optimize: held-out part: %w", err)
	}
	out.Verdict, err = gate.Compare(ctx, gate.Side{Path: out.HeldOutPath, Target: base.ID}, gate.Side{Path: out.HeldOutPath, Target: out.Winner.ID}, p.Gate)
	if err != nil {
		return out, fmt.Errorf("optimize: gate the winner on the held-out part: %w", err)
	}
	return out, nil
}

func sortedKeys(m map[string]bool) []string { return slices.Sorted(maps.Keys(m)) }

// Control is the source prompt run as it is on the target's model.
func Control(src *Source, params provider.Params) Candidate {
	return Candidate{ID: GenControl, Generator: GenControl, System: strings.TrimSpace(src.System), User: src.User, Params: cloneParams(params),
		Notes: []string{"the source prompt on the target model, placeholders converted only"}}
}
