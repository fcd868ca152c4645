package pricing_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/golden"
	"github.com/evalgate/evalgate/internal/pricing"
)

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "prices.json")
	require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	return p
}

func TestLoadFileExtends(t *testing.T) {
	t.Parallel()
	p := writeFile(t, `[
  {"id": "my-finetune", "provider": "openai", "price": {"input_per_mtok": 1.2, "output_per_mtok": 4.8}, "context_window": 32000, "modalities": ["text"], "source": "our contract", "as_of": "2026-11-01"},
  {"id": "gpt-4o-mini", "provider": "openai", "price": {"input_per_mtok": 0.1, "output_per_mtok": 0.5}}
]`)
	c, err := pricing.LoadFile(p, pricing.Embedded())
	require.NoError(t, err)
	m, ok := c.Lookup("my-finetune")
	require.True(t, ok, "a new entry is added")
	assert.Equal(t, 4.8, m.Price.OutputPerMTok)
	m, ok = c.Lookup("gpt-4o-mini")
	require.True(t, ok)
	assert.Equal(t, 0.1, m.Price.InputPerMTok, "an entry with a catalog id replaces it (a negotiated price)")
	_, ok = c.Lookup("us.amazon.nova-lite-v1:0")
	assert.True(t, ok, "the rest of the catalog stays, inference profiles included")
	emb, _ := pricing.Embedded().Lookup("gpt-4o-mini")
	assert.NotEqual(t, 0.1, emb.Price.InputPerMTok, "the embedded catalog is not changed")
}

func TestLoadFileReplaces(t *testing.T) {
	t.Parallel()
	p := writeFile(t, `{"replace": true, "models": [{"id": "only", "provider": "bedrock", "price": {"input_per_mtok": 1, "output_per_mtok": 2}}]}`)
	c, err := pricing.LoadFile(p, pricing.Embedded())
	require.NoError(t, err)
	assert.Len(t, c.List(pricing.Filter{}), 1)
	_, ok := c.Lookup("gpt-4o")
	assert.False(t, ok, "a replaced catalog prices nothing else: those costs are unknown, never 0")
}

func TestLoadFileErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, body, want string }{
		{"not JSON", `models: []`, "invalid character"},
		{"unknown key", `{"replce": true, "models": []}`, `unknown field "replce"`},
		{"no id", `[{"price": {"input_per_mtok": 1, "output_per_mtok": 1}}]`, "models[0]: no id"},
		{"no price", `[{"id": "x"}]`, "models[0]: model x: price.input_per_mtok and price.output_per_mtok are both 0 or missing"},
		{"negative", `[{"id": "x", "price": {"input_per_mtok": -1, "output_per_mtok": 1}}]`, "model x: a price is negative"},
		{"twice", `[{"id": "x", "price": {"input_per_mtok": 1}}, {"id": "x", "price": {"input_per_mtok": 2}}]`, "model x listed twice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := writeFile(t, tc.body)
			_, err := pricing.LoadFile(p, pricing.Embedded())
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), p, "the error names the file")
		})
	}
	_, err := pricing.LoadFile(filepath.Join(t.TempDir(), "missing.json"), pricing.Embedded())
	assert.ErrorContains(t, err, "pricing file")
}

func TestWriteComparison(t *testing.T) {
	t.Parallel()
	var models []pricing.Model
	for _, id := range []string{"gpt-3.5-turbo", "anthropic.claude-3-haiku-20240307-v1:0", "us.amazon.nova-lite-v1:0"} {
		m, ok := pricing.Lookup(id)
		require.True(t, ok, id)
		models = append(models, m)
	}
	var buf bytes.Buffer
	require.NoError(t, pricing.WriteComparison(&buf, models, &pricing.Projection{InputTokens: 1200, OutputTokens: 300}))
	golden.Assert(t, buf.String())
}

func TestProjectionPerThousand(t *testing.T) {
	t.Parallel()
	// 1,000 calls of 1,200 input and 300 output tokens on gpt-3.5-turbo
	// ($0.50 / $1.50 per million): 1.2M x 0.5 + 0.3M x 1.5 = $1.05.
	m, ok := pricing.Lookup("gpt-3.5-turbo")
	require.True(t, ok)
	assert.InDelta(t, 1.05, pricing.Projection{InputTokens: 1200, OutputTokens: 300}.PerThousand(m.Price), 1e-12)
}
