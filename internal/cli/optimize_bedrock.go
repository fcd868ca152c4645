package cli

import (
	"context"

	"github.com/evalgate/evalgate/internal/optimize"
	"github.com/evalgate/evalgate/internal/provider/bedrock"
	"github.com/evalgate/evalgate/internal/provider/recorded"
	"github.com/evalgate/evalgate/internal/results"
	"github.com/evalgate/evalgate/internal/run"
	"github.com/evalgate/evalgate/internal/suite"
)

// bedrockOptimizer builds the Bedrock Prompt Optimization generator. Its call
// goes through caller like any model call: retried when throttled, cached,
// counted against the budget and paced by its own limiter. With a cassette
// it replays offline, or records with --record. The returned func closes
// the cassette.
func bedrockOptimizer(ctx context.Context, s *suite.Suite, b *suite.OptimizeBedrock, tc *suite.TargetConfig, caller *run.Caller, lims *limiters, record bool) (optimize.Generator, func(), error) {
	model := orText(b.Model, tc.Model)
	t := run.Target{
		Info:      results.TargetInfo{ID: "optimize-bedrock", Provider: suite.ProviderBedrock, Model: model},
		Cacheable: true,
		Timeout:   s.Timeout(nil),
	}
	closer := func() {}
	if b.Cassette != "" && !record {
		c, err := recorded.OpenCassette(s.ResolvePath(b.Cassette))
		if err != nil {
			return nil, nil, usagef("optimize.generators.bedrock: %v", err)
		}
		// A replay is a local read: nothing to cache or pace.
		t.Provider, t.Cacheable, closer = c, false, func() { c.Close() }
		return optimize.Bedrock{Completer: caller.Completer(t, 1), TargetModel: model}, closer, nil
	}
	opt, err := bedrock.NewOptimizer(ctx, bedrock.Options{Region: b.Region, Endpoint: b.Endpoint})
	if err != nil {
		return nil, nil, providerErr(err)
	}
	t.Provider = opt
	// OptimizePrompt has its own quota, apart from the model's.
	key := &suite.TargetConfig{Provider: suite.ProviderBedrock, Model: "optimize-prompt/" + model, Region: b.Region, Endpoint: b.Endpoint}
	t.Limiter = lims.forTarget(key, false)
	if b.Cassette != "" {
		r, err := recorded.NewRecorder(s.ResolvePath(b.Cassette), opt)
		if err != nil {
			return nil, nil, usagef("optimize.generators.bedrock: %v", err)
		}
		// A recording must see the call, not the cache's copy of it.
		t.Provider, t.Cacheable, closer = r, false, func() { r.Close() }
	}
	return optimize.Bedrock{Completer: caller.Completer(t, 1), TargetModel: model}, closer, nil
}
