package cli

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/results"
)

// TestAnswerRelevancyEmbeddingsAreCached runs answer_relevancy end to end: a
// judge program writes questions, an OpenAI-compatible embeddings server
// embeds them, and a second run takes both from the response cache.
func TestAnswerRelevancyEmbeddingsAreCached(t *testing.T) {
	t.Parallel()
	var embedCalls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/prefix/v1/embeddings" {
			http.NotFound(w, r)
			return
		}
		embedCalls.Add(1)
		var req struct {
			Input []string `json:"input"`
		}
		require.NoError(t, json.NewDecoder(r.Body).Decode(&req))
		var data []map[string]any
		for i := range req.Input {
			data = append(data, map[string]any{"object": "embedding", "index": i, "embedding": []float64{1, 0, 0}})
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": data, "model": "emb",
			"usage": map[string]int{"prompt_tokens": 7, "total_tokens": 7}})
	}))
	defer srv.Close()

	dir := t.TempDir()
	answer := script(t, dir, `echo '{"text":"Reset it in Settings."}'`)
	judgePath := filepath.Join(dir, "judge.sh")
	require.NoError(t, os.WriteFile(judgePath, []byte(`#!/bin/sh
cat >/dev/null
echo '{"text":"{\"questions\": [\"How do I reset it?\", \"Where is the reset?\"], \"noncommittal\": false}"}'
`), 0o755))
	cfg := "version: 1\nname: t\ndataset: {path: data.jsonl}\nprompts:\n  p: {user: \"Q: {{question}}\"}\ntargets:\n" + commandTarget(answer) +
		"metrics:\n  - {name: relevancy, type: answer_relevancy, judge: {provider: command, command: [" + judgePath + "], model: j}, " +
		"embedding: {provider: openai, model: emb, base_url: '" + srv.URL + "/prefix/v1'}}\n" +
		"run:\n  results: out.jsonl\n  cache_dir: cache\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "data.jsonl"), []byte(twoRows), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "evalgate.yaml"), []byte(cfg), 0o644))

	for run := 0; run < 2; run++ {
		code, _, stderr := invoke(t, context.Background(), "run", "--config", filepath.Join(dir, "evalgate.yaml"), "--progress", "off")
		require.Equal(t, ExitPass, code, stderr)
		_, recs, _, err := results.ReadAll(filepath.Join(dir, "out.jsonl"))
		require.NoError(t, err)
		for _, r := range recs {
			require.Empty(t, r.ScoreErrors)
			assert.InDelta(t, 1.0, r.Scores["relevancy"], 1e-9, "identical vectors: cosine 1")
		}
	}
	assert.EqualValues(t, 2, embedCalls.Load(), "one embedding call per sample; the second run is served from the cache")
}
