package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/pricing"
	"github.com/evalgate/evalgate/internal/results"
)

// TestModelsCompareProjectsTheRunsTokens: the model-selection view prices
// 1,000 calls of the bundled example's measured source tokens on each model.
func TestModelsCompareProjectsTheRunsTokens(t *testing.T) {
	t.Parallel()
	dir := copyExample(t)
	out := filepath.Join(dir, "out.jsonl")
	code, _, stderr := invoke(t, context.Background(), "run", "--config", filepath.Join(dir, "evalgate.yaml"), "--out", out, "--progress", "off")
	require.Equal(t, ExitPass, code, stderr)

	// The expected figure, from the records themselves.
	_, recs, _, err := results.ReadAll(out)
	require.NoError(t, err)
	var in, outTok, n float64
	for _, r := range recs {
		if r.Target == "source" {
			in += float64(r.Usage.InputTokens)
			outTok += float64(r.Usage.OutputTokens)
			n++
		}
	}
	require.Positive(t, n)
	haiku, _ := pricing.Lookup("anthropic.claude-3-haiku-20240307-v1:0")
	want := (in/n*haiku.Price.InputPerMTok + outTok/n*haiku.Price.OutputPerMTok) / 1e3

	code, stdout, stderr := invoke(t, context.Background(), "models", "--compare", "gpt-3.5-turbo, anthropic.claude-3-haiku-20240307-v1:0", "--results", out, "--target", "source")
	require.Equal(t, ExitPass, code, stderr)
	assert.Contains(t, stdout, "$ PER 1K CALLS")
	var haikuRow string
	for _, l := range strings.Split(stdout, "\n") {
		if strings.HasPrefix(l, "anthropic.claude-3-haiku") {
			haikuRow = l
		}
	}
	assert.True(t, strings.HasSuffix(haikuRow, fmt.Sprintf("%.4f", want)), "row %q, want %.4f", haikuRow, want)
	assert.Contains(t, stdout, fmt.Sprintf("Projected from target source of %s", out))
	assert.Contains(t, stdout, fmt.Sprintf("(mean of %d calls)", int(n)))

	code, _, stderr = invoke(t, context.Background(), "models", "--compare", "gpt-3.5-turbo,no-such-model")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, stderr, "no-such-model not in the catalog")

	code, _, stderr = invoke(t, context.Background(), "models", "--compare", "gpt-3.5-turbo", "--results", out, "--target", "nope")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, stderr, `--target "nope": no such target`)

	code, _, stderr = invoke(t, context.Background(), "models", "--results", out)
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, stderr, "--results and --target go with --compare")
}

// TestRunPricingFileReplacesTheCatalog: with a replaced catalog that lacks
// the source's model, its cost is unknown; with an extended one, the file's
// price is used.
func TestRunPricingFileReplacesTheCatalog(t *testing.T) {
	t.Parallel()
	dir := copyExample(t)
	prices := filepath.Join(dir, "prices.json")
	require.NoError(t, os.WriteFile(prices, []byte(`[{"id": "gpt-4o-mini", "provider": "openai", "price": {"input_per_mtok": 1000, "output_per_mtok": 0.000001}}]`), 0o644))
	out := filepath.Join(dir, "out.jsonl")
	code, _, stderr := invoke(t, context.Background(), "run", "--config", filepath.Join(dir, "evalgate.yaml"), "--out", out, "--progress", "off", "--pricing", prices)
	require.Equal(t, ExitPass, code, stderr)
	_, recs, _, err := results.ReadAll(out)
	require.NoError(t, err)
	for _, r := range recs {
		if r.Target == "source" {
			require.NotNil(t, r.CostUSD)
			assert.InDelta(t, float64(r.Usage.InputTokens)*1000/1e6, *r.CostUSD, 1e-6, "the file's price, not the catalog's")
		}
	}

	require.NoError(t, os.WriteFile(prices, []byte(`{"replace": true, "models": [{"id": "x", "price": {"input_per_mtok": 1, "output_per_mtok": 1}}]}`), 0o644))
	code, stdout, stderr := invoke(t, context.Background(), "run", "--config", filepath.Join(dir, "evalgate.yaml"), "--out", out, "--progress", "off", "--pricing", prices)
	require.Equal(t, ExitPass, code, stderr)
	assert.Contains(t, stdout, `cost unknown: model "gpt-4o-mini" is not in the pricing catalog`)

	code, _, stderr = invoke(t, context.Background(), "run", "--config", filepath.Join(dir, "evalgate.yaml"), "--pricing", filepath.Join(dir, "missing.json"))
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, stderr, "pricing file")
}
