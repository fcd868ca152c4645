package cli

import (
	"context"
	"flag"
	"fmt"

	"github.com/evalgate/evalgate/internal/pricing"
)

func modelsCommand() command {
	return command{
		name:    "models",
		summary: "list the pricing catalog: price per million tokens, context window, modalities",
		usage:   "[QUERY]",
		flags: func(fs *flag.FlagSet) func(context.Context, *Env, []string) error {
			var f pricing.Filter
			fs.StringVar(&f.Provider, "provider", "", "only models of this `provider` (bedrock or openai)")
			fs.StringVar(&f.Modality, "modality", "", "only models that accept this input `modality` (text, image, ...)")
			fs.IntVar(&f.MinContext, "min-context", 0, "only models with a context window of at least `N` tokens")
			return func(ctx context.Context, e *Env, args []string) error {
				switch len(args) {
				case 0:
				case 1:
					f.Query = args[0]
				default:
					return usagef("at most one query (a part of the model id), got %d arguments", len(args))
				}
				models := pricing.List(f)
				if len(models) == 0 {
					return usagef("no model in the catalog matches; run 'evalgate models' for the whole list")
				}
				if err := pricing.WriteTable(e.Stdout, models); err != nil {
					return err
				}
				fmt.Fprintln(e.Stdout, "\nPrices are USD per million tokens, with the source and date of each in the catalog; override them per target with pricing:.")
				return nil
			}
		},
	}
}
