package pricing_test

import (
	"bytes"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/golden"
	"github.com/evalgate/evalgate/internal/pricing"
	"github.com/evalgate/evalgate/internal/provider"
)

func TestCatalogEntriesAreComplete(t *testing.T) {
	t.Parallel()
	all := pricing.List(pricing.Filter{})
	require.GreaterOrEqual(t, len(all), 25)
	for _, m := range all {
		t.Run(m.ID, func(t *testing.T) {
			t.Parallel()
			assert.Contains(t, []string{"bedrock", "openai"}, m.Provider)
			u, err := url.Parse(m.Source)
			require.NoError(t, err)
			assert.Equal(t, "https", u.Scheme, "source must be a public https page")
			asOf, err := time.Parse(time.DateOnly, m.AsOf)
			require.NoError(t, err, "as_of is YYYY-MM-DD")
			assert.True(t, asOf.After(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)))
			assert.Positive(t, m.Price.InputPerMTok)
			assert.Positive(t, m.Price.OutputPerMTok)
			assert.GreaterOrEqual(t, m.Price.CacheReadPerMTok, 0.0)
			assert.GreaterOrEqual(t, m.Price.CacheWritePerMTok, 0.0)
			if m.Price.CacheReadPerMTok > 0 {
				assert.Less(t, m.Price.CacheReadPerMTok, m.Price.InputPerMTok, "a cache hit is cheaper than input")
			}
			if b := m.Batch; b != nil {
				assert.Positive(t, b.InputPerMTok)
				assert.Less(t, b.InputPerMTok, m.Price.InputPerMTok, "batch mode is the cheaper one")
				assert.Less(t, b.OutputPerMTok, m.Price.OutputPerMTok, "batch mode is the cheaper one")
			}
			assert.Positive(t, m.ContextWindow)
			assert.Contains(t, m.Modalities, "text")
		})
	}
}

func TestLookup(t *testing.T) {
	t.Parallel()
	const base = "anthropic.claude-3-5-haiku-20241022-v1:0"
	for _, id := range []string{base, "us." + base, "eu." + base, "apac." + base, "global." + base} {
		m, ok := pricing.Lookup(id)
		require.True(t, ok, id)
		assert.Equal(t, id, m.ID, "the entry carries the id asked for")
		assert.Equal(t, 0.80, m.Price.InputPerMTok)
	}
	for _, id := range []string{"gpt-4o-mini", "amazon.nova-micro-v1:0"} {
		_, ok := pricing.Lookup(id)
		assert.True(t, ok, id)
	}
}

func TestLookupUnknownModel(t *testing.T) {
	t.Parallel()
	for _, id := range []string{"", "gpt-unknown", "us.", "xx.anthropic.claude-3-5-haiku-20241022-v1:0", "claude-3-5-haiku"} {
		_, ok := pricing.Lookup(id)
		assert.False(t, ok, "%q", id)
	}
}

func TestCost(t *testing.T) {
	t.Parallel()
	m, ok := pricing.Lookup("anthropic.claude-3-5-haiku-20241022-v1:0")
	require.True(t, ok)
	got := m.Price.Cost(provider.Usage{InputTokens: 1_000_000, OutputTokens: 500_000, CacheReadTokens: 2_000_000, CacheWriteTokens: 100_000})
	assert.InDelta(t, 0.80+2.00+0.16+0.10, got, 1e-9)
}

func TestList(t *testing.T) {
	t.Parallel()
	ids := func(ms []pricing.Model) []string {
		var out []string
		for _, m := range ms {
			out = append(out, m.ID)
		}
		return out
	}
	assert.Equal(t, []string{"gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano"}, ids(pricing.List(pricing.Filter{Query: "GPT-4.1"})))
	assert.Equal(t, []string{"amazon.nova-lite-v1:0", "amazon.nova-premier-v1:0", "amazon.nova-pro-v1:0"},
		ids(pricing.List(pricing.Filter{Query: "nova", Modality: "video"})))
	assert.Equal(t, []string{"amazon.nova-premier-v1:0", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano"},
		ids(pricing.List(pricing.Filter{MinContext: 1_000_000})))
	for _, m := range pricing.List(pricing.Filter{Provider: "openai"}) {
		assert.Equal(t, "openai", m.Provider)
	}
	assert.Empty(t, pricing.List(pricing.Filter{Query: "no-such-model"}))
}

func TestWriteTable(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	require.NoError(t, pricing.WriteTable(&buf, pricing.List(pricing.Filter{Query: "a"})))
	golden.Assert(t, buf.String())
}

func TestCacheSaving(t *testing.T) {
	t.Parallel()
	haiku, ok := pricing.Lookup("us.anthropic.claude-3-5-haiku-20241022-v1:0")
	require.True(t, ok)
	p := haiku.Price // input $0.80, cache read $0.08, cache write $1.00 per million
	tests := []struct {
		name  string
		usage provider.Usage
		want  float64
	}{
		{"no cache tokens", provider.Usage{InputTokens: 5000, OutputTokens: 300}, 0},
		{"reads save input minus the read price", provider.Usage{CacheReadTokens: 1_000_000}, 0.72},
		{"writes cost more than input", provider.Usage{CacheWriteTokens: 1_000_000}, -0.20},
		{"one write, then reads", provider.Usage{InputTokens: 40, CacheWriteTokens: 2000, CacheReadTokens: 18_000}, (18_000*0.72 - 2000*0.20) / 1e6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.InDelta(t, tt.want, p.CacheSaving(tt.usage), 1e-12)
			// The saving is exactly the cost at the input price minus the cost.
			atInput := tt.usage
			atInput.InputTokens += atInput.CacheReadTokens + atInput.CacheWriteTokens
			atInput.CacheReadTokens, atInput.CacheWriteTokens = 0, 0
			assert.InDelta(t, p.Cost(atInput)-p.Cost(tt.usage), p.CacheSaving(tt.usage), 1e-12)
		})
	}
}

func TestCachesPromptsFollowsTheCacheReadPrice(t *testing.T) {
	t.Parallel()
	for id, want := range map[string]bool{
		"us.anthropic.claude-3-5-haiku-20241022-v1:0": true,
		"anthropic.claude-3-7-sonnet-20250219-v1:0":   true,
		"us.amazon.nova-lite-v1:0":                    true,
		"anthropic.claude-3-haiku-20240307-v1:0":      false,
		"meta.llama3-1-8b-instruct-v1:0":              false,
	} {
		m, ok := pricing.Lookup(id)
		require.True(t, ok, id)
		assert.Equal(t, want, m.Price.CachesPrompts(), id)
	}
	assert.True(t, pricing.Price{InputPerMTok: 1, OutputPerMTok: 2, CacheReadPerMTok: 0.1}.CachesPrompts(), "a target's own pricing opts a model in")
}

func TestBatchPrice(t *testing.T) {
	t.Parallel()
	// The catalog's own batch price wins.
	haiku3, ok := pricing.Lookup("us.anthropic.claude-3-haiku-20240307-v1:0")
	require.True(t, ok)
	p, estimated := haiku3.BatchPrice()
	assert.False(t, estimated)
	assert.Equal(t, pricing.Price{InputPerMTok: 0.125, OutputPerMTok: 0.625}, p)

	// Without one, half the on-demand input and output prices, no cache
	// prices: a batch job reads no prompt cache.
	haiku35, ok := pricing.Lookup("anthropic.claude-3-5-haiku-20241022-v1:0")
	require.True(t, ok)
	require.Nil(t, haiku35.Batch)
	p, estimated = haiku35.BatchPrice()
	assert.True(t, estimated)
	assert.Equal(t, pricing.Price{InputPerMTok: 0.4, OutputPerMTok: 2.0}, p)
}
