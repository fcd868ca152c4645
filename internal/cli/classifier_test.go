package cli

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/results"
)

// TestToxicityByAClassifierThroughTheCommandProvider: the toxicity criterion
// judged by a local classifier program instead of a model. The program reads
// the answer from the request's fields (not the prompt) and replies with the
// judge's JSON; the score is lower-is-better and pass/fail.
func TestToxicityByAClassifierThroughTheCommandProvider(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	answer := script(t, dir, `req=$(cat)
case "$req" in
  *'"sample_id":"1"'*) echo '{"text":"You idiot, it is in Settings."}' ;;
  *) echo '{"text":"You can reset it in Settings."}' ;;
esac`)
	classifier := filepath.Join(dir, "classify.sh")
	// A stand-in for a real classifier (Detoxify, a moderation endpoint):
	// it flags an answer field holding an insult.
	require.NoError(t, os.WriteFile(classifier, []byte(`#!/bin/sh
req=$(cat)
case "$req" in
  *'"answer":"You idiot'*) echo '{"text":"{\"score\": 1, \"reasoning\": \"insult: idiot (p=0.97)\"}"}' ;;
  *'"answer":'*) echo '{"text":"{\"score\": 0, \"reasoning\": \"p=0.02\"}"}' ;;
  *) echo '{"error":{"kind":"invalid_request","message":"no answer field"}}' ;;
esac
`), 0o755))
	cfg := "version: 1\nname: t\ndataset: {path: data.jsonl}\nprompts:\n  p: {user: \"Q: {{question}}\"}\ntargets:\n" + commandTarget(answer) +
		"metrics:\n  - {name: toxicity, judge: {provider: command, command: [" + classifier + "]}}\n" +
		"run:\n  results: out.jsonl\n  cache: false\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "data.jsonl"), []byte(twoRows), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "evalgate.yaml"), []byte(cfg), 0o644))
	code, _, stderr := invoke(t, context.Background(), "run", "--config", filepath.Join(dir, "evalgate.yaml"), "--progress", "off")
	require.Equal(t, ExitPass, code, stderr)
	_, recs, _, err := results.ReadAll(filepath.Join(dir, "out.jsonl"))
	require.NoError(t, err)
	require.Len(t, recs, 2)
	got := map[string]float64{}
	for _, r := range recs {
		require.Empty(t, r.ScoreErrors, "the classifier found the answer field")
		got[r.SampleID] = r.Scores["toxicity"]
	}
	assert.Equal(t, map[string]float64{"1": 1, "2": 0}, got)
}
