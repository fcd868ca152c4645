package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/pricing"
	"github.com/evalgate/evalgate/internal/provider/bedrock/batch"
	"github.com/evalgate/evalgate/internal/provider/bedrock/batch/batchfake"
	"github.com/evalgate/evalgate/internal/provider/bedrock/bedrockfake"
	"github.com/evalgate/evalgate/internal/results"
)

const batchModel = "us.anthropic.claude-3-5-haiku-20241022-v1:0"

// useBatchFake points the run's batch jobs at f, waiting no wall-clock time
// between polls, until the test ends.
func useBatchFake(t *testing.T, f *batchfake.Server) {
	t.Helper()
	useBatchFakeSleeping(t, f, func(ctx context.Context, _ time.Duration) error { return ctx.Err() })
}

// useBatchFakeSleeping is useBatchFake with the given wait between polls.
func useBatchFakeSleeping(t *testing.T, f *batchfake.Server, sleep func(context.Context, time.Duration) error) {
	t.Helper()
	prev := newBatchClient
	newBatchClient = func(ctx context.Context, region string) (*batch.Client, error) {
		return batch.New(ctx, batch.Options{Region: region, BedrockEndpoint: f.BedrockURL(), S3Endpoint: f.S3URL(), S3PathStyle: true,
			Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""), Sleep: sleep})
	}
	t.Cleanup(func() { newBatchClient = prev })
}

// batchSuite writes a suite of n samples with one batch target whose
// runtime endpoint is endpoint (never to be called on demand).
func batchSuite(t *testing.T, n int, endpoint, extra string) string {
	t.Helper()
	dir := t.TempDir()
	var rows strings.Builder
	for i := range n {
		fmt.Fprintf(&rows, `{"sample_id":"s%d","question":"q%d","answer_ground_truth":"answer to q%d"}`+"\n", i, i, i)
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "data.jsonl"), []byte(rows.String()), 0o644))
	cfg := "version: 1\nname: t\ndataset: {path: data.jsonl}\nprompts:\n  p: {system: \"Answer.\", user: \"{{question}}\"}\ntargets:\n" +
		"  - {id: b, provider: bedrock, model: " + batchModel + ", prompt: p, region: us-east-1, endpoint: " + endpoint +
		", batch: true, batch_role_arn: \"arn:aws:iam::123456789012:role/batch\", batch_s3_uri: \"s3://evals/runs\"" + extra + "}\n" +
		"metrics: [exact_match]\nrun:\n  results: out.jsonl\n  cache_dir: cache\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "evalgate.yaml"), []byte(cfg), 0o644))
	return dir
}

// onDemandCalls counts calls to a Bedrock runtime that a batch run must
// not make.
func onDemandCalls(t *testing.T) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		http.Error(w, "not on demand", http.StatusBadRequest)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestRunBatchTargetWritesNormalResultsAtTheBatchPrice(t *testing.T) {
	fakeAWSEnv(t)
	f := batchfake.NewServer(batchfake.Options{Answer: func(r batchfake.Record) batchfake.Outcome {
		var in struct {
			Messages []struct {
				Content []struct{ Text string } `json:"content"`
			} `json:"messages"`
		}
		if err := json.Unmarshal(r.ModelInput, &in); err != nil || len(in.Messages) == 0 {
			return batchfake.Outcome{ErrorCode: 400, ErrorMsg: "unreadable"}
		}
		q := in.Messages[0].Content[0].Text
		if q == "q7" {
			return batchfake.Outcome{ErrorCode: 400, ErrorMsg: "Malformed input request"}
		}
		return batchfake.Reply("answer to "+q, 100, 20)
	}})
	defer f.Close()
	useBatchFake(t, f)
	rt := bedrockfake.NewServer(bedrockfake.Options{Prefix: "/br"})
	defer rt.Close()
	dir := batchSuite(t, 120, rt.Endpoint(), "")

	code, _, stderr := invoke(t, context.Background(), "run", "--config", filepath.Join(dir, "evalgate.yaml"), "--progress", "off")
	assert.Equal(t, ExitPass, code, stderr)
	assert.Contains(t, stderr, "target b: batch job evalgate-b-")
	assert.Contains(t, stderr, "target b: batch job Completed, 120 of 120 records processed")
	assert.Contains(t, stderr, "no batch price for "+batchModel+": its calls are priced at 50% of the on-demand price")
	assert.Zero(t, rt.Calls(), "no on-demand call")

	_, recs, sum, err := results.ReadAll(filepath.Join(dir, "out.jsonl"))
	require.NoError(t, err)
	require.Len(t, recs, 120)
	m, _ := pricing.Lookup(batchModel)
	batchPrice, estimated := m.BatchPrice()
	require.True(t, estimated)
	for _, r := range recs {
		if r.SampleID == "s7" {
			require.NotNil(t, r.Error)
			assert.Equal(t, "invalid_request", r.Error.Kind)
			assert.Contains(t, r.Error.Message, "Malformed input request")
			continue
		}
		require.Nil(t, r.Error, r.SampleID)
		assert.False(t, r.Cached, "a batch answer is a call of this run")
		assert.Equal(t, "answer to q"+strings.TrimPrefix(r.SampleID, "s"), r.Output)
		assert.Equal(t, 1.0, r.Scores["exact_match"])
		require.NotNil(t, r.CostUSD)
		assert.InDelta(t, batchPrice.Cost(r.Usage), *r.CostUSD, 1e-12)
		assert.InDelta(t, (100*0.4+20*2.0)/1e6, *r.CostUSD, 1e-12)
	}
	assert.Equal(t, results.StatusComplete, sum.Status)
	require.Len(t, f.Created, 1)
	hdr, _, _, err := results.ReadAll(filepath.Join(dir, "out.jsonl"))
	require.NoError(t, err)
	assert.True(t, hdr.Targets[0].Batch)

	// A second run finds 119 answers in the cache; the failed record, alone
	// too few for a job, is called on demand.
	code, _, stderr = invoke(t, context.Background(), "run", "--config", filepath.Join(dir, "evalgate.yaml"), "--progress", "off")
	assert.Equal(t, ExitPass, code, stderr)
	assert.Contains(t, stderr, "target b: 1 of its 120 calls are not cached, fewer than the 100 records of a batch job: they are called on demand")
	assert.Len(t, f.Created, 1, "no second job")
	assert.EqualValues(t, 1, rt.Calls())
	_, recs, _, err = results.ReadAll(filepath.Join(dir, "out.jsonl"))
	require.NoError(t, err)
	require.Len(t, recs, 120)
	cached := 0
	for _, r := range recs {
		require.Nil(t, r.Error, r.SampleID)
		require.NotNil(t, r.CostUSD, r.SampleID)
		if r.Cached {
			cached++
			// The job's answers keep the batch price.
			assert.InDelta(t, batchPrice.Cost(r.Usage), *r.CostUSD, 1e-12, r.SampleID)
			continue
		}
		// The call made on demand costs the on-demand price.
		assert.Equal(t, "s7", r.SampleID)
		assert.InDelta(t, m.Price.Cost(r.Usage), *r.CostUSD, 1e-12)
		assert.Greater(t, *r.CostUSD, batchPrice.Cost(r.Usage))
	}
	assert.Equal(t, 119, cached)
}

func TestRunBatchTargetAllCachedMakesNoJob(t *testing.T) {
	fakeAWSEnv(t)
	f := batchfake.NewServer(batchfake.Options{})
	defer f.Close()
	useBatchFake(t, f)
	rt, calls := onDemandCalls(t)
	dir := batchSuite(t, 100, rt.URL+"/br", "")
	cfg := filepath.Join(dir, "evalgate.yaml")

	code, _, stderr := invoke(t, context.Background(), "run", "--config", cfg, "--progress", "off")
	require.Equal(t, ExitPass, code, stderr)
	code, _, stderr = invoke(t, context.Background(), "run", "--config", cfg, "--progress", "off")
	require.Equal(t, ExitPass, code, stderr)
	assert.Len(t, f.Created, 1, "the second run is answered by the cache")
	assert.Zero(t, calls.Load())
	_, recs, _, err := results.ReadAll(filepath.Join(dir, "out.jsonl"))
	require.NoError(t, err)
	require.Len(t, recs, 100)
	assert.True(t, recs[0].Cached)
}

func TestRunBatchTargetRefusesTooFewCallsUpFront(t *testing.T) {
	fakeAWSEnv(t)
	f := batchfake.NewServer(batchfake.Options{})
	defer f.Close()
	useBatchFake(t, f)
	rt, calls := onDemandCalls(t)
	dir := batchSuite(t, 40, rt.URL+"/br", "")

	code, _, stderr := invoke(t, context.Background(), "run", "--config", filepath.Join(dir, "evalgate.yaml"), "--progress", "off")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, stderr, `target "b": batch: the suite makes 40 calls of this target and Bedrock runs a batch job of at least 100 records`)
	assert.Contains(t, stderr, "set batch: false to call the model on demand")
	assert.Empty(t, f.Keys(), "nothing uploaded")
	assert.Empty(t, f.Created)
	assert.Zero(t, calls.Load())
}

func TestRunBatchJobThatFailsIsAProviderError(t *testing.T) {
	fakeAWSEnv(t)
	f := batchfake.NewServer(batchfake.Options{States: []string{"Validating", "Failed"}, Message: "Access denied to s3://evals"})
	defer f.Close()
	useBatchFake(t, f)
	rt, _ := onDemandCalls(t)
	dir := batchSuite(t, 100, rt.URL+"/br", "")

	code, _, stderr := invoke(t, context.Background(), "run", "--config", filepath.Join(dir, "evalgate.yaml"), "--progress", "off")
	assert.Equal(t, ExitProvider, code)
	assert.Contains(t, stderr, "ended Failed: Access denied to s3://evals")
}

func TestValidateChecksBatchSettings(t *testing.T) {
	rt, _ := onDemandCalls(t)
	dir := batchSuite(t, 100, rt.URL+"/br", "")
	cfg := filepath.Join(dir, "evalgate.yaml")
	b, err := os.ReadFile(cfg)
	require.NoError(t, err)
	bad := strings.NewReplacer(`role/batch`, `user/me`, "s3://evals/runs", "s3://Evals").Replace(string(b))
	require.NoError(t, os.WriteFile(cfg, []byte(bad), 0o644))

	code, stdout, _ := invoke(t, context.Background(), "validate", "--config", cfg)
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, stdout, `target "b": batch_role_arn: "arn:aws:iam::123456789012:user/me" is not an IAM role ARN`)
}

func TestRunCancelledDuringABatchJobStopsItAndIsIncomplete(t *testing.T) {
	fakeAWSEnv(t)
	f := batchfake.NewServer(batchfake.Options{States: []string{"Submitted", "InProgress"}})
	defer f.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	polls := 0
	useBatchFakeSleeping(t, f, func(ctx context.Context, _ time.Duration) error {
		if polls++; polls == 3 {
			cancel() // the runner cancels the job's workflow
		}
		return ctx.Err()
	})
	rt, calls := onDemandCalls(t)
	dir := batchSuite(t, 100, rt.URL+"/br", "")

	code, _, stderr := invoke(t, ctx, "run", "--config", filepath.Join(dir, "evalgate.yaml"), "--progress", "off")
	assert.Equal(t, ExitIncomplete, code, stderr)
	assert.Contains(t, stderr, "stopped because the run ended")
	require.Len(t, f.Stopped, 1, "the job is not left running and billing")
	assert.Zero(t, calls.Load())
}

func TestRunStoppedByTheBudgetKeepsTheJobsAnswersInTheCache(t *testing.T) {
	fakeAWSEnv(t)
	f := batchfake.NewServer(batchfake.Options{})
	defer f.Close()
	useBatchFake(t, f)
	rt := bedrockfake.NewServer(bedrockfake.Options{Prefix: "/br"})
	defer rt.Close()
	// An on-demand target beside the batch one spends the budget (each
	// call $0.000132) after about 20 samples; the job (bounded at about
	// $0.0021) fits it.
	dir := batchSuite(t, 100, rt.Endpoint(), ", params: {max_tokens: 10}")
	cfg := filepath.Join(dir, "evalgate.yaml")
	b, err := os.ReadFile(cfg)
	require.NoError(t, err)
	withOnDemand := strings.Replace(string(b), "metrics:", "  - {id: o, provider: bedrock, model: "+batchModel+", prompt: p, region: us-east-1, endpoint: "+rt.Endpoint()+"}\nmetrics:", 1)
	withOnDemand = strings.Replace(withOnDemand, "run:\n", "run:\n  budget_usd: 0.003\n  concurrency: 1\n", 1)
	require.NoError(t, os.WriteFile(cfg, []byte(withOnDemand), 0o644))

	code, _, stderr := invoke(t, context.Background(), "run", "--config", cfg, "--progress", "off")
	require.Equal(t, ExitIncomplete, code, stderr)
	_, recs, sum, err := results.ReadAll(filepath.Join(dir, "out.jsonl"))
	require.NoError(t, err)
	assert.Equal(t, "budget reached", sum.Reason)
	written := 0
	for _, r := range recs {
		if r.Target == "b" {
			written++
		}
	}
	require.Less(t, written, 100, "the budget stopped the run before every batch answer was read")

	// The answers the run did not read are in the cache: the next run
	// makes no job and no on-demand call for them.
	noBudget := strings.Replace(withOnDemand, "  budget_usd: 0.003\n", "", 1)
	require.NoError(t, os.WriteFile(cfg, []byte(noBudget), 0o644))
	code, _, stderr = invoke(t, context.Background(), "run", "--config", cfg, "--progress", "off")
	require.Equal(t, ExitPass, code, stderr)
	assert.NotContains(t, stderr, "are not cached")
	assert.Len(t, f.Created, 1)
	_, recs, _, err = results.ReadAll(filepath.Join(dir, "out.jsonl"))
	require.NoError(t, err)
	for _, r := range recs {
		if r.Target == "b" {
			assert.True(t, r.Cached, r.SampleID)
		}
	}
}
