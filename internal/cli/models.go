package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/evalgate/evalgate/internal/pricing"
	"github.com/evalgate/evalgate/internal/results"
	"github.com/evalgate/evalgate/internal/suite"
)

// pricingUsage is the help of --pricing, shared by the commands that price calls.
const pricingUsage = "JSON `file` of model prices: a list of entries in the catalog's shape extends the built-in catalog (same id: replaced); {\"replace\": true, \"models\": [...]} replaces it"

// loadCatalog returns the catalog --pricing names, or the embedded one.
func loadCatalog(path string) (*pricing.Catalog, error) {
	if path == "" {
		return pricing.Embedded(), nil
	}
	c, err := pricing.LoadFile(path, pricing.Embedded())
	if err != nil {
		return nil, usageErr(err)
	}
	return c, nil
}

// usePricing sets the suite's catalog from --pricing.
func usePricing(s *suite.Suite, path string) error {
	if path == "" {
		return nil
	}
	c, err := loadCatalog(path)
	if err != nil {
		return err
	}
	s.Catalog = c
	return nil
}

func modelsCommand() command {
	return command{
		name:    "models",
		summary: "list the pricing catalog: price per million tokens, context window, modalities; --compare for model selection",
		usage:   "[QUERY]",
		flags: func(fs *flag.FlagSet) func(context.Context, *Env, []string) error {
			var f pricing.Filter
			var pricingFile, compare, resultsFile, target string
			fs.StringVar(&f.Provider, "provider", "", "only models of this `provider` (bedrock or openai)")
			fs.StringVar(&f.Modality, "modality", "", "only models that accept this input `modality` (text, image, ...)")
			fs.IntVar(&f.MinContext, "min-context", 0, "only models with a context window of at least `N` tokens")
			fs.StringVar(&pricingFile, "pricing", "", pricingUsage)
			fs.StringVar(&compare, "compare", "", "comma-separated model `ids` to set side by side: context window, modalities, prices")
			fs.StringVar(&resultsFile, "results", "", "with --compare: a results `file` whose measured tokens per call project each model's cost per 1,000 calls")
			fs.StringVar(&target, "target", "", "with --results: the target `id` whose tokens are measured (default: the first target of the file)")
			return func(ctx context.Context, e *Env, args []string) error {
				cat, err := loadCatalog(pricingFile)
				if err != nil {
					return err
				}
				if compare != "" {
					if len(args) > 0 {
						return usagef("--compare takes the models to compare; drop the query %q", args[0])
					}
					return compareModels(e.Stdout, cat, compare, resultsFile, target)
				}
				if resultsFile != "" || target != "" {
					return usagef("--results and --target go with --compare a,b,...")
				}
				switch len(args) {
				case 0:
				case 1:
					f.Query = args[0]
				default:
					return usagef("at most one query (a part of the model id), got %d arguments", len(args))
				}
				models := cat.List(f)
				if len(models) == 0 {
					return usagef("no model in the catalog matches; run 'evalgate models' for the whole list")
				}
				if err := pricing.WriteTable(e.Stdout, models); err != nil {
					return err
				}
				fmt.Fprintln(e.Stdout, "\nPrices are USD per million tokens, with the source and date of each in the catalog; override them per target with pricing:, or all of them with --pricing FILE.")
				return nil
			}
		},
	}
}

// measured is the mean usage per call of one target of a results file.
type measured struct {
	target        string
	calls         int
	input, output float64
}

// compareModels writes the model-selection view: each model's context window,
// modalities and prices and, given a results file, what 1,000 calls of that
// run's measured tokens would cost on it.
func compareModels(w io.Writer, cat *pricing.Catalog, list, resultsFile, target string) error {
	var models []pricing.Model
	var unknown []string
	for _, id := range strings.Split(list, ",") {
		id = strings.TrimSpace(id)
		if id == "" {
			continue
		}
		m, ok := cat.Lookup(id)
		if !ok {
			unknown = append(unknown, id)
			continue
		}
		models = append(models, m)
	}
	if len(unknown) > 0 {
		return usagef("--compare: %s not in the catalog; run 'evalgate models QUERY' for the ids, or add them with --pricing FILE", strings.Join(unknown, ", "))
	}
	if len(models) == 0 {
		return usagef("--compare: name the models, e.g. --compare gpt-4o-mini,amazon.nova-lite-v1:0")
	}
	var m *measured
	if resultsFile != "" {
		var err error
		if m, err = measure(resultsFile, target); err != nil {
			return err
		}
	} else if target != "" {
		return usagef("--target goes with --results")
	}
	var proj *pricing.Projection
	if m != nil {
		proj = &pricing.Projection{InputTokens: m.input, OutputTokens: m.output}
	}
	if err := pricing.WriteComparison(w, models, proj); err != nil {
		return err
	}
	if m != nil {
		fmt.Fprintf(w, "\nProjected from target %s of %s: %.1f input and %.1f output tokens per call (mean of %d calls). Token counts are the measured model's: another family's tokenizer counts the same text differently, often by 10-30%%.\n",
			m.target, resultsFile, m.input, m.output, m.calls)
	}
	fmt.Fprintln(w, "\nPrices are USD per million tokens (on-demand, before caching), with the source of each in the catalog.")
	return nil
}

// measure reads the mean tokens per call of target (default: the first
// target of the file) over its records that have token counts.
func measure(path, target string) (*measured, error) {
	r, err := results.Open(path)
	if err != nil {
		return nil, usageErr(err)
	}
	defer r.Close()
	h := r.Header()
	var ids []string
	for _, t := range h.Targets {
		ids = append(ids, t.ID)
	}
	if target == "" && len(ids) > 0 {
		target = ids[0]
	}
	found := false
	for _, id := range ids {
		found = found || id == target
	}
	if !found {
		return nil, usagef("--target %q: no such target in %s (targets: %s)", target, path, strings.Join(ids, ", "))
	}
	m := &measured{target: target}
	var in, out float64
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) || errors.Is(err, results.ErrTruncated) {
			break
		}
		if err != nil {
			return nil, usageErr(err)
		}
		if rec.Target != target || rec.Error != nil || rec.Usage.InputTokens+rec.Usage.OutputTokens == 0 {
			continue
		}
		m.calls++
		in += float64(rec.Usage.InputTokens)
		out += float64(rec.Usage.OutputTokens)
	}
	if m.calls == 0 {
		return nil, usagef("%s: target %s has no record with token counts to project from; give a recorded target its token columns (fields: input_tokens, output_tokens)", path, target)
	}
	m.input, m.output = in/float64(m.calls), out/float64(m.calls)
	return m, nil
}
