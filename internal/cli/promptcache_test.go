package cli

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/pricing"
	"github.com/evalgate/evalgate/internal/provider"
	"github.com/evalgate/evalgate/internal/provider/bedrock/bedrockfake"
	"github.com/evalgate/evalgate/internal/results"
)

const cacheModel = "us.anthropic.claude-3-5-haiku-20241022-v1:0"

// cachingBedrock is a fake Bedrock that caches as the service does: the
// first request carrying a cache point writes the prefix's 1,200 tokens to
// the cache, later ones read them; a request without one uses no cache. It
// keeps every request body.
type cachingBedrock struct {
	mu     sync.Mutex
	bodies []bedrockfake.Request
	cached atomic.Int64
}

func (f *cachingBedrock) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := bedrockfake.DecodeRequest(r)
	if err != nil {
		bedrockfake.WriteError(w, http.StatusBadRequest, "SerializationException", err.Error())
		return
	}
	f.mu.Lock()
	f.bodies = append(f.bodies, body)
	f.mu.Unlock()
	reply := bedrockfake.Reply{Text: "a", InputTokens: 20, OutputTokens: 2}
	if hasCachePoint(body) {
		if f.cached.Add(1) == 1 {
			reply.CacheWriteTokens = 1200
		} else {
			reply.CacheReadTokens = 1200
		}
	}
	bedrockfake.WriteConverse(w, reply)
}

func hasCachePoint(b bedrockfake.Request) bool {
	for _, blk := range b.System {
		if blk.CachePoint != nil {
			return true
		}
	}
	for _, m := range b.Messages {
		for _, blk := range m.Content {
			if blk.CachePoint != nil {
				return true
			}
		}
	}
	return false
}

// cacheSuite writes a suite of two Bedrock targets on the fake at endpoint,
// the same model and prompt, one with cache_prompt.
func cacheSuite(t *testing.T, endpoint, model string) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "data.jsonl"), []byte(twoRows), 0o644))
	target := func(id, extra string) string {
		return "  - {id: " + id + ", provider: bedrock, model: " + model + ", prompt: p, region: us-east-1, endpoint: " + endpoint + extra + "}\n"
	}
	cfg := "version: 1\nname: t\ndataset: {path: data.jsonl}\nprompts:\n  p: {system: \"Answer from the refund policy.\", user: \"Q: {{question}}\"}\ntargets:\n" +
		target("cached", ", cache_prompt: true") + target("plain", "") +
		"metrics: [f1]\ngate: {baseline: plain, target: cached}\nrun:\n  results: out.jsonl\n  cache: false\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "evalgate.yaml"), []byte(cfg), 0o644))
	return dir
}

func TestCachePromptSendsCachePointsAndPricesTheCache(t *testing.T) {
	fakeAWSEnv(t)
	f := &cachingBedrock{}
	srv := httptest.NewServer(f)
	defer srv.Close()
	dir := cacheSuite(t, srv.URL+"/br", cacheModel)

	code, stdout, stderr := invoke(t, context.Background(), "run", "--config", filepath.Join(dir, "evalgate.yaml"), "--progress", "off")
	require.Contains(t, []int{ExitPass, ExitRegressed}, code, stderr)

	// The cached target's calls end the system prompt and the user part's
	// fixed start with a cache point; the plain target's carry none.
	text := func(s string) bedrockfake.Block { return bedrockfake.Block{Text: s} }
	point := bedrockfake.Block{CachePoint: &bedrockfake.CachePoint{Type: "default"}}
	var with, without int
	for _, b := range f.bodies {
		if !hasCachePoint(b) {
			without++
			assert.Equal(t, []bedrockfake.Block{text("Answer from the refund policy.")}, b.System)
			continue
		}
		with++
		assert.Equal(t, []bedrockfake.Block{text("Answer from the refund policy."), point}, b.System)
		require.Len(t, b.Messages, 1)
		q := b.Messages[0].Content[len(b.Messages[0].Content)-1].Text
		assert.Contains(t, []string{"q1", "q2"}, q)
		assert.Equal(t, []bedrockfake.Block{text("Q: "), point, text(q)}, b.Messages[0].Content)
	}
	assert.Equal(t, 2, with)
	assert.Equal(t, 2, without)

	// The cache tokens reach the records, their cost and the saving.
	_, recs, sum, err := results.ReadAll(filepath.Join(dir, "out.jsonl"))
	require.NoError(t, err)
	price, ok := pricing.Lookup(cacheModel)
	require.True(t, ok)
	var total provider.Usage
	for _, r := range recs {
		require.Nil(t, r.Error)
		require.NotNil(t, r.CostUSD)
		assert.InDelta(t, price.Price.Cost(r.Usage), *r.CostUSD, 1e-12)
		if r.Target == "plain" {
			assert.Zero(t, r.Usage.CacheReadTokens+r.Usage.CacheWriteTokens)
			assert.Nil(t, r.CacheSavingUSD)
			continue
		}
		total = total.Add(r.Usage)
		require.NotNil(t, r.CacheSavingUSD)
		assert.InDelta(t, price.Price.CacheSaving(r.Usage), *r.CacheSavingUSD, 1e-12)
	}
	assert.Equal(t, provider.Usage{InputTokens: 40, OutputTokens: 4, CacheReadTokens: 1200, CacheWriteTokens: 1200}, total)
	for _, ts := range sum.Targets {
		if ts.ID == "cached" {
			// 16+8+1200 (the write at $1.00) + 16+8+96 (the read at $0.08), per million.
			assert.InDelta(t, 0.001344, *ts.CostUSD, 1e-12)
		}
	}
	// 1,200 read tokens save $0.72/M, 1,200 written cost $0.20/M more: $0.000624.
	assert.Contains(t, stdout, "cached: prompt cache: 1200 tokens read, 1200 written, saved $0.0006 against the input price")

	// The Markdown report shows the saving too.
	md, err := os.ReadFile(filepath.Join(dir, "out.report.md"))
	require.NoError(t, err)
	assert.Contains(t, string(md), "Target prompt cache: 1,200 tokens read, 1,200 written; it saved $0.0006 against the input price.")
	assert.NotContains(t, string(md), "Baseline prompt cache")
}

func TestCachePromptOnAModelWithoutCachingIsAConfigError(t *testing.T) {
	fakeAWSEnv(t)
	f := &cachingBedrock{}
	srv := httptest.NewServer(f)
	defer srv.Close()
	dir := cacheSuite(t, srv.URL+"/br", "meta.llama3-1-8b-instruct-v1:0")

	want := `target "cached": cache_prompt: model meta.llama3-1-8b-instruct-v1:0 has no cache-read price`
	code, _, stderr := invoke(t, context.Background(), "run", "--config", filepath.Join(dir, "evalgate.yaml"), "--progress", "off")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, stderr, want)
	assert.Empty(t, f.bodies, "no model is called")

	code, stdout, _ := invoke(t, context.Background(), "validate", "--config", filepath.Join(dir, "evalgate.yaml"))
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, stdout, "error: "+want)

	// A target's own pricing with a cache-read rate opts the model in.
	cfg := filepath.Join(dir, "evalgate.yaml")
	b, err := os.ReadFile(cfg)
	require.NoError(t, err)
	optIn := strings.Replace(string(b), "cache_prompt: true", "cache_prompt: true, pricing: {input_per_mtok: 0.22, output_per_mtok: 0.22, cache_read_per_mtok: 0.02}", 1)
	require.NoError(t, os.WriteFile(cfg, []byte(optIn), 0o644))
	code, stdout, stderr = invoke(t, context.Background(), "validate", "--config", cfg)
	assert.Equal(t, ExitPass, code, stdout+stderr)
}
