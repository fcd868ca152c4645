package cli

import (
	"context"

	"github.com/evalgate/evalgate/internal/optimize"
	"github.com/evalgate/evalgate/internal/provider/bedrock"
	"github.com/evalgate/evalgate/internal/results"
	"github.com/evalgate/evalgate/internal/run"
	"github.com/evalgate/evalgate/internal/suite"
)

// bedrockOptimizer builds the Bedrock Prompt Optimization generator. Its call
// goes through caller like any model call: retried when throttled, cached,
// counted against the budget and paced by its own limiter.
func bedrockOptimizer(ctx context.Context, s *suite.Suite, b *suite.OptimizeBedrock, tc *suite.TargetConfig, caller *run.Caller, lims *limiters) (optimize.Generator, error) {
	model := orText(b.Model, tc.Model)
	opt, err := bedrock.NewOptimizer(ctx, bedrock.Options{Region: b.Region, Endpoint: b.Endpoint})
	if err != nil {
		return nil, providerErr(err)
	}
	// OptimizePrompt has its own quota, apart from the model's.
	key := &suite.TargetConfig{Provider: suite.ProviderBedrock, Model: "optimize-prompt/" + model, Region: b.Region, Endpoint: b.Endpoint}
	t := run.Target{
		Info:      results.TargetInfo{ID: "optimize-bedrock", Provider: suite.ProviderBedrock, Model: model},
		Provider:  opt,
		Cacheable: true,
		Timeout:   s.Timeout(nil),
		Limiter:   lims.forTarget(key, false),
	}
	return optimize.Bedrock{Completer: caller.Completer(t, 1), TargetModel: model}, nil
}
