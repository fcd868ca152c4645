package cli

import (
	"context"
	"fmt"
	"slices"

	"github.com/evalgate/evalgate/internal/pricing"
	"github.com/evalgate/evalgate/internal/provider"
	cmdprovider "github.com/evalgate/evalgate/internal/provider/command"
	"github.com/evalgate/evalgate/internal/provider/recorded"
	"github.com/evalgate/evalgate/internal/results"
	"github.com/evalgate/evalgate/internal/run"
	"github.com/evalgate/evalgate/internal/suite"
)

// buildTargets makes each target ready to call: its provider (wrapped in a
// cassette player or recorder when it has a cassette), prompt, price and
// limits. The returned func closes what was opened.
func buildTargets(ctx context.Context, e *Env, s *suite.Suite, targets []*suite.TargetConfig, record bool, lims *limiters) ([]run.Target, func(), error) {
	var closers []func() error
	closeAll := func() {
		for _, c := range closers {
			c()
		}
	}
	var out []run.Target
	for _, tc := range targets {
		t := run.Target{
			Info:       results.TargetInfo{ID: tc.ID, Provider: tc.Provider, Model: tc.Model, Prompt: tc.Prompt, Params: tc.Params},
			Stream:     tc.Stream,
			Cacheable:  true,
			Timeout:    s.Timeout(tc),
			AllowEmpty: s.AllowEmpty(tc),
		}
		input := s.Field(suite.RoleInput)
		// A target without a prompt (a recorded one) sends the sample's input
		// field as it is.
		t.Render = func(fields map[string]string) (string, string, error) { return "", fields[input], nil }
		if tpl, ok := s.Templates[tc.Prompt]; ok {
			t.Render = tpl.Render
			t.Info.PromptHash = tpl.Hash()
		}
		view, err := s.TargetView(tc)
		if err != nil {
			closeAll()
			return nil, nil, usageErr(err)
		}
		if view != nil {
			t.Match, t.Fields = view.Sees, view.Fields
		}
		if tc.ParamsFrom != "" {
			tc := tc
			t.ParamsFor = func(fields map[string]string) (provider.Params, error) { return s.InheritedParams(tc, fields) }
		}
		t.Price = priceOf(s, tc)
		if tc.Batch {
			t.Price, _ = batchPrice(s, tc)
			t.Info.Batch = true
		}
		t.Info.Priced = t.Price != nil
		if tc.CachePrompt {
			if err := cachePrompt(&t, s, tc); err != nil {
				closeAll()
				return nil, nil, err
			}
		}
		for _, spec := range s.Metrics {
			if len(spec.Targets) > 0 && !slices.Contains(spec.Targets, tc.ID) {
				if t.SkipMetrics == nil {
					t.SkipMetrics = map[string]bool{}
				}
				t.SkipMetrics[spec.Name] = true
			}
		}

		p, closer, err := newProvider(ctx, e, s, tc, record)
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		if closer != nil {
			closers = append(closers, closer)
		}
		t.Provider = p
		// Replays are local reads: caching or pacing them would only slow
		// them down.
		replay := tc.Provider == suite.ProviderRecorded || (tc.Cassette != "" && !record)
		// A recording must see every call, not the cache's copy of it.
		t.Cacheable = !replay && !(record && tc.Cassette != "")
		t.Limiter = lims.forTarget(tc, replay)
		out = append(out, t)
	}
	return out, closeAll, nil
}

// cachePrompt passes the prompt's shared prefix on to the target's calls
// (Bedrock cache points). A model without a cache-read price is refused: it
// is how evalgate knows a model supports caching, and without that price the
// saving could not be shown.
func cachePrompt(t *run.Target, s *suite.Suite, tc *suite.TargetConfig) error {
	if err := cachePromptModel(tc, t.Price); err != nil {
		return usageErr(err)
	}
	if tpl, ok := s.Templates[tc.Prompt]; ok {
		t.CacheSystem, t.CacheUser = tpl.SharedPrefix()
	}
	return nil
}

// cachePromptModel refuses cache_prompt on a model whose price has no
// cache-read rate; run and validate share it.
func cachePromptModel(tc *suite.TargetConfig, price *pricing.Price) error {
	if price == nil || !price.CachesPrompts() {
		return fmt.Errorf("target %q: cache_prompt: model %s has no cache-read price in the pricing catalog, so it is taken not to support prompt caching (see `evalgate models`); remove cache_prompt, or set pricing with cache_read_per_mtok (and cache_write_per_mtok) on the target if the model does support it", tc.ID, tc.Model)
	}
	return nil
}

// priceOf is the target's own pricing, else the catalog's, else nil (unknown).
func priceOf(s *suite.Suite, tc *suite.TargetConfig) *pricing.Price {
	if p := tc.Pricing; p != nil {
		return &pricing.Price{InputPerMTok: p.InputPerMTok, OutputPerMTok: p.OutputPerMTok,
			CacheReadPerMTok: p.CacheReadPerMTok, CacheWritePerMTok: p.CacheWritePerMTok}
	}
	if m, ok := s.Prices().Lookup(tc.Model); ok {
		return &m.Price
	}
	return nil
}

// newProvider builds the adapter a target names.
func newProvider(ctx context.Context, e *Env, s *suite.Suite, tc *suite.TargetConfig, record bool) (run.Provider, func() error, error) {
	if tc.Cassette != "" && !record {
		c, err := recorded.OpenCassette(s.ResolvePath(tc.Cassette))
		if err != nil {
			return nil, nil, usagef("target %q: %v", tc.ID, err)
		}
		return c, c.Close, nil
	}
	var p run.Provider
	switch tc.Provider {
	case suite.ProviderRecorded:
		if tc.Cassette != "" {
			return nil, nil, usagef("target %q: --record needs a real provider; a recorded target only replays its cassette", tc.ID)
		}
		d, err := recorded.NewDataset(recorded.Columns{
			Output:       s.RecordedField(tc, suite.RecordedOutput),
			Latency:      s.RecordedField(tc, suite.RecordedLatency),
			InputTokens:  s.RecordedField(tc, suite.RecordedInputTokens),
			OutputTokens: s.RecordedField(tc, suite.RecordedOutputTokens),
			LatencyUnit:  tc.LatencyUnit,
		})
		if err != nil {
			return nil, nil, usagef("target %q: %v", tc.ID, err)
		}
		p = d
	case suite.ProviderCommand:
		// A minimal environment, never the job's GitHub token: the
		// program is code under evaluation.
		env, err := cmdprovider.Environ(e.Getenv, tc.Env)
		if err != nil {
			return nil, nil, usagef("target %q: %v", tc.ID, err)
		}
		c, err := cmdprovider.New(tc.Command, s.Dir, env)
		if err != nil {
			return nil, nil, usagef("target %q: %v", tc.ID, err)
		}
		p = c
	default:
		lp, err := newLiveProvider(ctx, e, tc)
		if err != nil {
			return nil, nil, err
		}
		p = lp
	}
	if tc.Cassette != "" && record {
		r, err := recorded.NewRecorder(s.ResolvePath(tc.Cassette), p)
		if err != nil {
			return nil, nil, usagef("target %q: %v", tc.ID, err)
		}
		r.Redact = newRedactor(e, s).Redact
		return r, r.Close, nil
	}
	return p, nil, nil
}
