package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"path/filepath"

	"github.com/evalgate/evalgate/internal/results"
	"github.com/evalgate/evalgate/internal/shard"
)

func mergeCommand() command {
	return command{
		name:    "merge",
		summary: "join the results of every shard of a run (run --shard i/N) into one results file",
		usage:   "OUT SHARD_RESULTS...",
		flags: func(fs *flag.FlagSet) func(context.Context, *Env, []string) error {
			return func(ctx context.Context, e *Env, args []string) error {
				if len(args) < 2 {
					return usagef("give the merged results file, then every shard's results: evalgate merge OUT shard1.jsonl shard2.jsonl ...")
				}
				return mergeShards(ctx, e, args[0], args[1:])
			}
		},
	}
}

// mergeShards is `evalgate merge`: the merged file is a normal results file,
// gated with evalgate compare or named as a run's --baseline.
func mergeShards(ctx context.Context, e *Env, out string, paths []string) error {
	for _, p := range paths {
		// A forgotten OUT would otherwise make the first shard the output.
		if filepath.Clean(p) == filepath.Clean(out) {
			return usagef("the merged results %s is also given as a shard; name a new file first: evalgate merge OUT shard1.jsonl ...", out)
		}
	}
	sum, err := shard.Merge(ctx, out, paths)
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return outcome(ExitIncomplete, "%v", err)
	case errors.Is(err, shard.ErrWrite):
		return storageErr(err)
	case err != nil:
		return usageErr(err)
	}
	fmt.Fprintf(e.Stdout, "merged %d shards (%d records) into %s: %s\n", len(paths), sum.Records, out, sum.Status)
	if sum.Status != results.StatusComplete {
		fmt.Fprintf(e.Stdout, "incomplete shards: %s\n", sum.Reason)
	}
	if sum.Records == 0 {
		return outcome(ExitIncomplete, "the shards hold no record: nothing was evaluated")
	}
	return nil
}

// wholeRuns refuses to gate one shard's results as if they were a whole
// run's: the verdict would judge part of the dataset. A file that cannot be
// read is left to the gate, which says why.
func wholeRuns(paths ...string) error {
	for _, p := range paths {
		r, err := results.Open(p)
		if err != nil {
			continue
		}
		h := r.Header()
		r.Close()
		if h.Shard != nil {
			return usagef("%s holds shard %s of a run, not the whole run: merge every shard first (evalgate merge OUT shard1.jsonl ...) and gate the merged file", p, shard.String(*h.Shard))
		}
	}
	return nil
}
