package optimize

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/evalgate/evalgate/internal/pricing"
	"github.com/evalgate/evalgate/internal/provider"
	"github.com/evalgate/evalgate/internal/suite"
)

// DryRun is the plan of an optimization before any call: the split, the
// candidates the local generators propose (model-based generators count as
// one candidate each) and the calls with their cost.
type DryRun struct {
	Prepared *Prepared
	Dev      int
	HeldOut  int
	Cands    []Candidate
	Dropped  []Dropped
	Estimate Estimate
	// GenerationUSD bounds the metaprompt's rewrite call; GenerationUnknown
	// is set when a generator's call has no catalog price.
	GenerationUSD     float64
	GenerationUnknown bool
	Budget            float64
}

// PlanDryRun computes the dry run; priceOf gives a model's price (nil:
// unknown), for the target and the metaprompt's rewriter.
func PlanDryRun(s *suite.Suite, p *Prepared, priceOf func(model string) *pricing.Price) (*DryRun, error) {
	dev, held, err := Split(p.Plan.Units, p.Plan.Split, p.Plan.Seed)
	if err != nil {
		return nil, err
	}
	d := &DryRun{Prepared: p, Dev: len(dev), HeldOut: len(held), Budget: s.Config.Run.BudgetUSD}
	if p.Config.BudgetUSD > 0 {
		d.Budget = p.Config.BudgetUSD
	}
	d.Cands, d.Dropped = Generate(context.Background(), p.LocalGenerators(s), p.Source, p.Target.Params, p.Checks)
	d.Estimate = Estimate{Candidates: len(d.Cands), DevSamples: len(dev), HeldOutSamples: len(held), Repeats: s.Repeats()}
	for _, on := range []bool{p.Config.Generators.Metaprompt != nil, p.Config.Generators.Bedrock != nil} {
		if on {
			d.Estimate.Candidates++
			d.Estimate.GenerationCalls++
		}
	}
	devBytes, heldBytes, err := renderedBytes(s, p.Plan.Control, dev, held)
	if err != nil {
		return nil, err
	}
	baselineCalls := true
	if bt, ok := s.Target(p.Plan.Baseline); ok && bt.Provider == suite.ProviderRecorded {
		baselineCalls = false
	}
	d.Estimate.Cost(devBytes, heldBytes, p.Target.Params, priceOf(p.Target.Model), baselineCalls)
	if m := p.Config.Generators.Metaprompt; m != nil {
		req := MetapromptRequest(m.Model, p.Target.Model, p.Source, m.MaxTokens)
		in := len(req.System)
		for _, msg := range req.Messages {
			in += len(msg.Content)
		}
		if mp := priceOf(m.Model); mp != nil {
			d.GenerationUSD = mp.Cost(provider.Usage{InputTokens: in / bytesPerToken, OutputTokens: *req.Params.MaxTokens})
		} else {
			d.GenerationUnknown = true
		}
	}
	if p.Config.Generators.Bedrock != nil {
		// OptimizePrompt is not in the catalog.
		d.GenerationUnknown = true
	}
	return d, nil
}

// renderedBytes sums the control prompt's rendered size over the dev and
// held-out samples.
func renderedBytes(s *suite.Suite, control Candidate, dev, held map[string]bool) (int, int, error) {
	tpl, err := suite.NewTemplate(control.ID, control.System, control.User)
	if err != nil {
		return 0, 0, err
	}
	ds, err := suite.OpenDataset(s)
	if err != nil {
		return 0, 0, err
	}
	defer ds.Close()
	devB, heldB := 0, 0
	for {
		smp, err := ds.Next()
		if err == io.EOF {
			return devB, heldB, nil
		}
		if err != nil {
			return 0, 0, err
		}
		sys, user, err := tpl.Render(smp.Fields)
		if err != nil {
			return 0, 0, fmt.Errorf("dataset %s line %d: %w", s.DatasetPath, smp.Line, err)
		}
		if dev[smp.ID] {
			devB += len(sys) + len(user)
		} else if held[smp.ID] {
			heldB += len(sys) + len(user)
		}
	}
}

// Text is the plan as printed by --dry-run.
func (d *DryRun) Text() string {
	p, e := d.Prepared, d.Estimate
	var b strings.Builder
	fmt.Fprintf(&b, "optimize plan for target %s (%s), source prompt from %s\n", p.Target.ID, p.Target.Model, p.Source.Origin)
	fmt.Fprintf(&b, "  split: %d dev / %d held-out samples (fraction %g, seed %d)\n", d.Dev, d.HeldOut, p.Plan.Split, p.Plan.Seed)
	for _, c := range d.Cands {
		fmt.Fprintf(&b, "  candidate %s (%s)\n", c.ID, c.Generator)
	}
	if m := p.Config.Generators.Metaprompt; m != nil {
		fmt.Fprintf(&b, "  candidate metaprompt (one rewrite call to %s)\n", m.Model)
	}
	if p.Config.Generators.Bedrock != nil {
		fmt.Fprintf(&b, "  candidate bedrock (one OptimizePrompt call)\n")
	}
	for _, dr := range d.Dropped {
		fmt.Fprintf(&b, "  dropped %s: %s\n", or(dr.ID, dr.Generator), dr.Reason)
	}
	fmt.Fprintf(&b, "  dev: (%d candidates + control) x %d samples x %d repeats = %d calls\n", e.Candidates, e.DevSamples, e.Repeats, e.DevCalls)
	fmt.Fprintf(&b, "  held-out: winner vs %s x %d samples = %d calls\n", or(p.Plan.Baseline, "control"), e.HeldOutSamples, e.HeldOutCalls)
	if e.Known {
		fmt.Fprintf(&b, "  estimated cost of target calls: at most $%.4f (catalog price, every reply at max_tokens; judges not included)\n", e.CostUSD)
	} else {
		fmt.Fprintf(&b, "  estimated cost of target calls: unknown (%s has no catalog price; set targets[].pricing)\n", p.Target.Model)
	}
	if d.GenerationUSD > 0 {
		fmt.Fprintf(&b, "  estimated cost of the metaprompt rewrite: at most $%.4f\n", d.GenerationUSD)
	}
	if d.GenerationUnknown {
		b.WriteString("  a generator's call has no catalog price (Bedrock prompt optimization, or an unpriced rewriter): not included\n")
	}
	if d.Budget > 0 {
		fmt.Fprintf(&b, "  budget: $%.2f\n", d.Budget)
	}
	b.WriteString("dry run: nothing was called\n")
	return b.String()
}
