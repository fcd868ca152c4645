package cli

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/provider/bedrock/bedrockfake"
	"github.com/evalgate/evalgate/internal/results"
)

// fakeAWSEnv gives the AWS SDK's default chain static credentials and no
// shared config files, the way a CI runner with OIDC credentials looks.
func fakeAWSEnv(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret-example")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
}

// TestRecordFromBedrockUnderThrottlingThenReplay runs the example's Bedrock
// target against a fake Bedrock that throttles 30% of calls, records the
// cassette, and replays it offline: nothing is lost on the way.
func TestRecordFromBedrockUnderThrottlingThenReplay(t *testing.T) {
	fakeAWSEnv(t)
	srv := bedrockfake.NewServer(bedrockfake.Options{Prefix: "/bedrock-prefix", ThrottleRate: 0.3, Seed: 3,
		Reply: bedrockfake.Reply{Text: "Open Settings and follow the link.", InputTokens: 90, OutputTokens: 12, LatencyMs: 40}})
	defer srv.Close()

	dir := copyExample(t)
	cfgPath := filepath.Join(dir, "evalgate.yaml")
	cfg, err := os.ReadFile(cfgPath)
	require.NoError(t, err)
	live := strings.Replace(string(cfg), "region: us-east-1", "region: us-east-1\n    endpoint: "+srv.Endpoint(), 1)
	live = strings.Replace(live, "cassettes/nova-lite.jsonl", "cassettes/recorded.jsonl", 1)
	live = strings.Replace(live, "run:\n", "run:\n  retries: 10\n", 1)
	require.NoError(t, os.WriteFile(cfgPath, []byte(live), 0o644))

	out := filepath.Join(dir, "live.jsonl")
	code, _, stderr := invoke(t, context.Background(), "run", "--config", cfgPath, "--record", "--targets", "nova-lite", "--out", out, "--progress", "off")
	require.Equal(t, ExitPass, code, stderr)
	_, recs, sum, err := results.ReadAll(out)
	require.NoError(t, err)
	require.Len(t, recs, 30, "no sample lost to throttling")
	for _, r := range recs {
		require.Nil(t, r.Error, "sample %s", r.SampleID)
		assert.Equal(t, "Open Settings and follow the link.", r.Output)
		assert.Equal(t, 40.0, r.ServiceLatencyMS, "Bedrock's own latencyMs")
		assert.Equal(t, 90, r.Usage.InputTokens)
	}
	assert.Greater(t, srv.Throttled(), int64(0), "the fake did throttle")
	assert.EqualValues(t, 30, srv.Succeeded())
	assert.Equal(t, int(srv.Throttled()), sum.Targets[0].Retries)

	// The cassette now replays offline: the server is not called again.
	calls := srv.Calls()
	code, _, stderr = invoke(t, context.Background(), "run", "--config", cfgPath, "--targets", "nova-lite", "--out", out, "--progress", "off")
	require.Equal(t, ExitPass, code, stderr)
	assert.Equal(t, calls, srv.Calls())
	_, recs, _, err = results.ReadAll(out)
	require.NoError(t, err)
	assert.Len(t, recs, 30)
}

func TestBedrockAuthFailureStopsTheRun(t *testing.T) {
	fakeAWSEnv(t)
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		bedrockfake.WriteError(w, http.StatusForbidden, "AccessDeniedException",
			"User: arn:aws:sts::123456789012:assumed-role/ci is not authorized to perform: bedrock:InvokeModel")
	}))
	defer srv.Close()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "data.jsonl"), []byte(strings.Repeat(`{"question":"q"}`+"\n", 200)), 0o644))
	cfg := "version: 1\nname: t\ndataset: {path: data.jsonl}\ntargets:\n  - {id: b, provider: bedrock, model: bad-model, region: us-east-1, endpoint: '" +
		srv.URL + "/denied'}\nmetrics: [latency_ms]\nrun: {results: out.jsonl, cache: false}\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "evalgate.yaml"), []byte(cfg), 0o644))
	code, _, stderr := invoke(t, context.Background(), "run", "--config", filepath.Join(dir, "evalgate.yaml"), "--progress", "off")
	assert.Equal(t, ExitProvider, code, stderr)
	_, recs, sum, err := results.ReadAll(filepath.Join(dir, "out.jsonl"))
	require.NoError(t, err)
	require.NotNil(t, sum)
	assert.Less(t, len(recs), 20, "the run stops instead of failing all 200 calls")
	assert.Less(t, calls.Load(), int64(20))
	assert.Contains(t, stderr, "bedrock:InvokeModel")
	assert.Equal(t, results.StatusIncomplete, sum.Status)
	assert.NotContains(t, stderr, "secret-example", "secrets are never printed")
}
