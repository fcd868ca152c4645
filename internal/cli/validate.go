package cli

import (
	"context"
	"flag"
	"fmt"

	"github.com/evalgate/evalgate/internal/suite"
)

func validateCommand() command {
	return command{
		name:    "validate",
		summary: "check a suite config and its dataset without calling any model",
		flags: func(fs *flag.FlagSet) func(context.Context, *Env, []string) error {
			config := fs.String("config", "evalgate.yaml", "suite config `file`")
			allowOutside := fs.Bool("allow-outside", false, allowOutsideUsage)
			return func(ctx context.Context, e *Env, args []string) error {
				if len(args) > 0 {
					return usagef("unexpected argument %q (the suite is given with --config)", args[0])
				}
				s, err := loadSuite(ctx, e, *config, "", *allowOutside)
				if err != nil {
					return loadErr(err)
				}
				rep, err := suite.Validate(ctx, s)
				if err != nil {
					return usageErr(err)
				}
				for i := range s.Config.Targets {
					tc := &s.Config.Targets[i]
					if tc.Batch {
						if err := checkBatchTarget(s, tc); err != nil {
							rep.Findings = append(rep.Findings, suite.Finding{Severity: suite.SevError, Code: "batch", Message: err.Error()})
						}
					}
					if !tc.CachePrompt {
						continue
					}
					if err := cachePromptModel(tc, priceOf(s, tc)); err != nil {
						rep.Findings = append(rep.Findings, suite.Finding{Severity: suite.SevError, Code: "cache_prompt", Message: err.Error()})
					}
				}
				fmt.Fprint(e.Stdout, rep.String())
				switch n := len(rep.Errors()); n {
				case 0:
				case 1:
					return usagef("%s: 1 problem to fix before running", s.Path)
				default:
					return usagef("%s: %d problems to fix before running", s.Path, n)
				}
				fmt.Fprintf(e.Stdout, "%s: ok\n", s.Path)
				return nil
			}
		},
	}
}

func schemaCommand() command {
	return command{
		name:    "schema",
		summary: "print the JSON Schema of evalgate.yaml (for editor completion)",
		flags: func(fs *flag.FlagSet) func(context.Context, *Env, []string) error {
			return func(ctx context.Context, e *Env, args []string) error {
				if len(args) > 0 {
					return usagef("unexpected argument %q", args[0])
				}
				_, err := e.Stdout.Write(suite.Schema())
				return err
			}
		},
	}
}
