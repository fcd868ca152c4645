package cli

import (
	"context"
	"maps"

	"github.com/evalgate/evalgate/internal/metric"
	"github.com/evalgate/evalgate/internal/metric/judge"
	"github.com/evalgate/evalgate/internal/provider/bedrock"
	"github.com/evalgate/evalgate/internal/provider/openai"
	"github.com/evalgate/evalgate/internal/results"
	"github.com/evalgate/evalgate/internal/run"
	"github.com/evalgate/evalgate/internal/suite"
)

// buildJudge builds a judge metric: the judge's provider (as newProvider
// builds a target's), called through caller so that its calls share the
// run's cache, retries, rate limits and budget with its own pool of calls in
// flight, and for answer_relevancy the embedding model. The returned func
// closes what was opened (a judge cassette).
func buildJudge(ctx context.Context, e *Env, s *suite.Suite, spec metric.Spec, caller *run.Caller, lims *limiters) (metric.Metric, func(), error) {
	cfg, err := judge.Config(spec)
	if err != nil {
		return nil, nil, usageErr(err)
	}
	spec = withContextField(s, spec)
	c, closer, err := judgeCompleter(ctx, e, s, spec.Name, cfg, caller, lims)
	if err != nil {
		return nil, nil, err
	}
	var emb judge.Embedder
	if spec.Kind() == judge.TypeAnswerRelevancy {
		ecfg, err := judge.EmbeddingConfigOf(spec)
		if err != nil {
			closer()
			return nil, nil, usageErr(err)
		}
		if emb, err = newEmbedder(ctx, e, s, spec.Name, ecfg, caller, lims); err != nil {
			closer()
			return nil, nil, err
		}
	}
	m, err := judge.New(spec, c, emb)
	if err != nil {
		closer()
		return nil, nil, usageErr(err)
	}
	return m, closer, nil
}

// buildPairwise builds the pairwise preference a spec declares, to be asked
// after the run over the paired records of the baseline and the target.
func buildPairwise(ctx context.Context, e *Env, s *suite.Suite, spec metric.Spec, caller *run.Caller, lims *limiters) (*judge.PairwiseJudge, func(), error) {
	cfg, err := judge.Config(spec)
	if err != nil {
		return nil, nil, usageErr(err)
	}
	c, closer, err := judgeCompleter(ctx, e, s, spec.Name, cfg, caller, lims)
	if err != nil {
		return nil, nil, err
	}
	p, err := judge.NewPairwise(spec, c)
	if err != nil {
		closer()
		return nil, nil, usageErr(err)
	}
	return p, closer, nil
}

// withContextField points a judge that reads the context at the suite's
// context column when the metric names none.
func withContextField(s *suite.Suite, spec metric.Spec) metric.Spec {
	if !judge.NeedsContext(spec.Kind()) {
		return spec
	}
	if _, set := spec.Options["context_field"]; set {
		return spec
	}
	col := s.Field(suite.RoleContext)
	if col == "" || col == judge.DefaultContextField {
		return spec
	}
	opts := maps.Clone(spec.Options)
	opts["context_field"] = col
	spec.Options = opts
	return spec
}

// judgeTargetConfig is the judge seen as a target, so that it is built,
// priced and limited as targets are. Its ID keeps it apart from the suite's
// targets in messages.
func judgeTargetConfig(name string, cfg judge.JudgeConfig) *suite.TargetConfig {
	tc := &suite.TargetConfig{
		ID:        "judge:" + name,
		Provider:  cfg.Provider,
		Model:     cfg.Model,
		Params:    cfg.Params,
		Region:    cfg.Region,
		Endpoint:  cfg.Endpoint,
		BaseURL:   cfg.BaseURL,
		APIKeyEnv: cfg.APIKeyEnv,
		Command:   cfg.Command,
		Cassette:  cfg.Cassette,
		Timeout:   suite.Duration(cfg.TimeoutDuration()),
	}
	if p := cfg.Pricing; p != nil {
		tc.Pricing = &suite.Pricing{InputPerMTok: p.InputPerMTok, OutputPerMTok: p.OutputPerMTok,
			CacheReadPerMTok: p.CacheReadPerMTok, CacheWritePerMTok: p.CacheWritePerMTok}
	}
	return tc
}

// judgeCompleter builds the judge's provider and wraps it in a Completer of
// the run's caller.
func judgeCompleter(ctx context.Context, e *Env, s *suite.Suite, name string, cfg judge.JudgeConfig, caller *run.Caller, lims *limiters) (*run.Completer, func(), error) {
	if cfg.Provider == suite.ProviderRecorded {
		return nil, nil, usagef("metric %q: a judge cannot be a recorded provider; use bedrock, openai or command (or a cassette to replay a judge)", name)
	}
	tc := judgeTargetConfig(name, cfg)
	p, closer, err := newProvider(ctx, e, s, tc, false)
	if err != nil {
		return nil, nil, err
	}
	closeFn := func() {}
	if closer != nil {
		closeFn = func() { closer() }
	}
	t := run.Target{
		Info:     results.TargetInfo{ID: tc.ID, Provider: tc.Provider, Model: tc.Model, Params: tc.Params},
		Provider: p,
		Price:    priceOf(s, tc),
		// A replayed cassette is a local read: caching it would only copy files.
		Cacheable: tc.Cassette == "",
		Timeout:   s.Timeout(tc),
		// A judge on the same model as a target shares its quota.
		Limiter: lims.forTarget(tc, tc.Cassette != ""),
	}
	t.Info.Priced = t.Price != nil
	return caller.Completer(t, cfg.Concurrency), closeFn, nil
}

// newEmbedder builds answer_relevancy's embedding model, called through the
// run's caller: the same cache, budget, limits and retries as every call.
func newEmbedder(ctx context.Context, e *Env, s *suite.Suite, name string, cfg judge.EmbeddingConfig, caller *run.Caller, lims *limiters) (judge.Embedder, error) {
	var raw run.Embedder
	switch cfg.Provider {
	case suite.ProviderBedrock:
		c, err := bedrock.New(ctx, bedrock.Options{Region: cfg.Region, Endpoint: cfg.Endpoint})
		if err != nil {
			return nil, usagef("metric %q: embedding: %v", name, err)
		}
		raw = c.Embedder(cfg.Model)
	case suite.ProviderOpenAI:
		c, err := openai.New(openai.Options{BaseURL: cfg.BaseURL, APIKeyEnv: cfg.APIKeyEnv, Getenv: e.Getenv})
		if err != nil {
			return nil, usagef("metric %q: embedding: %v", name, err)
		}
		raw = c.Embedder(cfg.Model)
	default:
		return nil, usagef("metric %q: embedding provider %q is not one of bedrock, openai", name, cfg.Provider)
	}
	tc := &suite.TargetConfig{ID: "embedding:" + name, Provider: cfg.Provider, Model: cfg.Model,
		Region: cfg.Region, Endpoint: cfg.Endpoint, BaseURL: cfg.BaseURL}
	price := cfg.Pricing
	if price == nil {
		if m, ok := s.Prices().Lookup(cfg.Model); ok {
			price = &m.Price
		}
	}
	t := run.Target{
		Info:      results.TargetInfo{ID: tc.ID, Provider: tc.Provider, Model: tc.Model, Priced: price != nil},
		Price:     price,
		Cacheable: true,
		Limiter:   lims.forTarget(tc, false),
	}
	return caller.Embedder(t, raw, 0), nil
}
