package judge_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/metric"
	"github.com/evalgate/evalgate/internal/metric/judge"
	"github.com/evalgate/evalgate/internal/pricing"
	"github.com/evalgate/evalgate/internal/provider"
	"github.com/evalgate/evalgate/internal/results"
	"github.com/evalgate/evalgate/internal/run"
)

// The signature the judges are given.
var _ judge.Completer = (*run.Completer)(nil)

// countingJudge answers every call with the same verdict and counts calls.
type countingJudge struct{ calls atomic.Int64 }

func (c *countingJudge) Complete(context.Context, provider.Request) (provider.Response, error) {
	c.calls.Add(1)
	return provider.Response{Text: `{"reasoning": "fine", "score": 7}`, Usage: provider.Usage{InputTokens: 1000, OutputTokens: 100}}, nil
}

func TestCachedJudgeScoreIsReused(t *testing.T) {
	t.Parallel()
	cache, err := run.OpenCache(t.TempDir())
	require.NoError(t, err)
	p := &countingJudge{}
	caller := run.NewCaller(run.Options{Cache: cache})
	c := caller.Completer(run.Target{
		Info:      results.TargetInfo{ID: "judge:policy", Provider: "fake", Model: "judge-model"},
		Provider:  p,
		Price:     &pricing.Price{InputPerMTok: 3, OutputPerMTok: 15},
		Cacheable: true,
	}, 2)
	newMetric := func(rubric string) metric.Metric {
		m, err := judge.New(metric.Spec{Name: "policy", Type: "rubric", Options: map[string]any{
			"rubric": rubric, "judge": map[string]any{"provider": "bedrock", "model": "judge-model"},
		}}, c, nil)
		require.NoError(t, err)
		return m
	}
	in := metric.Input{Output: "Five business days.", Question: "How long does a refund take?", Reference: "5 business days."}

	steps := []struct {
		name   string
		rubric string
		output string
		calls  int64
	}{
		{"first score calls the judge", "Is it right?", in.Output, 1},
		{"same answer and rubric: from the cache", "Is it right?", in.Output, 1},
		{"another answer: a new call", "Is it right?", "Three days.", 2},
		{"another rubric: a new call", "Is it right and polite?", in.Output, 3},
		{"both seen before: from the cache", "Is it right and polite?", in.Output, 3},
	}
	for _, s := range steps {
		in := in
		in.Output = s.output
		sc, err := newMetric(s.rubric).Score(t.Context(), in)
		require.NoError(t, err, s.name)
		assert.Equal(t, s.calls, p.calls.Load(), s.name)
		assert.InDelta(t, 6.0/9, sc.Value, 1e-9, s.name)
		require.NotNil(t, sc.CostUSD, s.name)
		// A cached score reports what it cost when it was made, as cached
		// target calls do.
		assert.InDelta(t, 0.0045, *sc.CostUSD, 1e-12, s.name)
	}
	assert.InDelta(t, 3*0.0045, caller.Spent(), 1e-12, "only calls made count against the budget")
}
