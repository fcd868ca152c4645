package batch_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/provider"
	"github.com/evalgate/evalgate/internal/provider/bedrock/batch"
	"github.com/evalgate/evalgate/internal/provider/bedrock/batch/batchfake"
)

const (
	model = "us.anthropic.claude-3-5-haiku-20241022-v1:0"
	role  = "arn:aws:iam::123456789012:role/evalgate-batch"
)

// sleeps records the waits between polls instead of waiting; cancel, when
// set, is called at the given sleep.
type sleeps struct {
	waits    []time.Duration
	cancelAt int
	cancel   context.CancelFunc
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.waits = append(s.waits, d)
	if s.cancel != nil && len(s.waits) == s.cancelAt {
		s.cancel()
	}
	return ctx.Err()
}

func newClient(t *testing.T, f *batchfake.Server, sl *sleeps) *batch.Client {
	t.Helper()
	c, err := batch.New(context.Background(), batch.Options{
		Region:          "us-east-1",
		BedrockEndpoint: f.BedrockURL(),
		S3Endpoint:      f.S3URL(),
		S3PathStyle:     true,
		Credentials:     credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		ConfigOptions:   []func(*config.LoadOptions) error{config.WithSharedConfigFiles(nil), config.WithSharedCredentialsFiles(nil)},
		PollEvery:       time.Minute,
		Sleep:           sl.sleep,
	})
	require.NoError(t, err)
	return c
}

func newJob(n int) *batch.Job {
	j := &batch.Job{Name: "evalgate-t-1", Model: model, RoleARN: role, Location: batch.Location{Bucket: "evals", Prefix: "runs/"}}
	maxTokens := 64
	for i := range n {
		j.Records = append(j.Records, batch.Record{ID: batch.RecordID(i), Request: provider.Request{
			Model: model, System: "Answer briefly.",
			Messages: []provider.Message{{Role: provider.RoleUser, Content: fmt.Sprintf("question %d", i)}},
			Params:   provider.Params{MaxTokens: &maxTokens},
		}})
	}
	return j
}

func TestRunMapsEveryRecordBackWithItsUsage(t *testing.T) {
	t.Parallel()
	f := batchfake.NewServer(batchfake.Options{
		PageSize: 1, // the output listing takes several pages
		Answer: func(r batchfake.Record) batchfake.Outcome {
			var in struct {
				Messages []struct {
					Content []struct{ Text string } `json:"content"`
				} `json:"messages"`
			}
			if err := json.Unmarshal(r.ModelInput, &in); err != nil {
				return batchfake.Outcome{ErrorCode: 400, ErrorMsg: err.Error()}
			}
			q := in.Messages[0].Content[0].Text
			return batchfake.Reply("answer to "+q, 10+len(q), 3)
		},
	})
	defer f.Close()
	sl := &sleeps{}
	var seen []batch.Status
	res, err := newClient(t, f, sl).Run(context.Background(), newJob(120), func(s batch.Status) { seen = append(seen, s) })
	require.NoError(t, err)

	require.Len(t, res, 120)
	for i := range 120 {
		r := res[batch.RecordID(i)]
		require.NoError(t, r.Err)
		q := fmt.Sprintf("question %d", i)
		assert.Equal(t, "answer to "+q, r.Response.Text)
		assert.Equal(t, provider.Usage{InputTokens: 10 + len(q), OutputTokens: 3}, r.Response.Usage)
		assert.Equal(t, "end_turn", r.Response.StopReason)
		assert.Equal(t, 800*time.Millisecond, r.Response.Latency)
	}
	// Polled to the end, waiting PollEvery between polls.
	require.Len(t, seen, 3)
	assert.Equal(t, []string{"Submitted", "InProgress", "Completed"}, []string{seen[0].State, seen[1].State, seen[2].State})
	assert.EqualValues(t, 120, seen[2].Total)
	assert.Equal(t, []time.Duration{time.Minute, time.Minute}, sl.waits)

	// The job was created as the service expects it.
	require.Len(t, f.Created, 1)
	c := f.Created[0]
	assert.Equal(t, "Converse", c["modelInvocationType"])
	assert.Equal(t, model, c["modelId"])
	assert.Equal(t, role, c["roleArn"])
	assert.Equal(t, "evalgate-t-1", c["jobName"])
	assert.Equal(t, "s3://evals/runs/evalgate-t-1/input.jsonl", c["inputDataConfig"].(map[string]any)["s3InputDataConfig"].(map[string]any)["s3Uri"])
	assert.Equal(t, "s3://evals/runs/evalgate-t-1/output/", c["outputDataConfig"].(map[string]any)["s3OutputDataConfig"].(map[string]any)["s3Uri"])
	// The input is Converse request bodies under the record ids.
	require.Len(t, f.Input, 120)
	assert.Equal(t, "R0000000007", f.Input[7].RecordID)
	assert.JSONEq(t, `{"system":[{"text":"Answer briefly."}],"messages":[{"role":"user","content":[{"text":"question 7"}]}],"inferenceConfig":{"maxTokens":64}}`, string(f.Input[7].ModelInput))
}

func TestRunKeepsEachRecordsOwnError(t *testing.T) {
	t.Parallel()
	f := batchfake.NewServer(batchfake.Options{
		States: []string{"InProgress", "PartiallyCompleted"},
		Answer: func(r batchfake.Record) batchfake.Outcome {
			switch r.RecordID {
			case batch.RecordID(3):
				return batchfake.Outcome{ErrorCode: 400, ErrorMsg: "Malformed input request"}
			case batch.RecordID(5):
				return batchfake.Outcome{ErrorCode: 500, ErrorMsg: "Internal error"}
			}
			return batchfake.Reply("ok", 5, 1)
		},
	})
	defer f.Close()
	res, err := newClient(t, f, &sleeps{}).Run(context.Background(), newJob(100), nil)
	require.NoError(t, err)
	require.Len(t, res, 100)

	bad := res[batch.RecordID(3)]
	require.Error(t, bad.Err)
	assert.Equal(t, provider.KindInvalidRequest, provider.KindOf(bad.Err))
	assert.Contains(t, bad.Err.Error(), "Malformed input request")
	// Nothing is retried from a replay: a 5xx record is not a retryable kind.
	failed := res[batch.RecordID(5)]
	require.Error(t, failed.Err)
	assert.False(t, provider.KindOf(failed.Err).Retryable())
	assert.Contains(t, failed.Err.Error(), "error 500: Internal error")
	assert.NoError(t, res[batch.RecordID(4)].Err)
	assert.Equal(t, "ok", res[batch.RecordID(4)].Response.Text)
}

func TestRunReportsAFailedJob(t *testing.T) {
	t.Parallel()
	f := batchfake.NewServer(batchfake.Options{States: []string{"Validating", "Failed"}, Message: "Role cannot read s3://evals"})
	defer f.Close()
	_, err := newClient(t, f, &sleeps{}).Run(context.Background(), newJob(100), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ended Failed: Role cannot read s3://evals")
	assert.Contains(t, err.Error(), "model-invocation-job/job0001")
	// The input stays where the error says, for a look or a rerun.
	_, ok := f.Object("evals", "runs/evalgate-t-1/input.jsonl")
	assert.True(t, ok)
}

func TestRunKeepsTheRecordsAnExpiredJobFinished(t *testing.T) {
	t.Parallel()
	f := batchfake.NewServer(batchfake.Options{
		States: []string{"InProgress", "Expired"},
		Drop:   func(r batchfake.Record) bool { return r.RecordID >= batch.RecordID(60) },
	})
	defer f.Close()
	res, err := newClient(t, f, &sleeps{}).Run(context.Background(), newJob(100), nil)
	require.NoError(t, err)
	require.Len(t, res, 100)
	assert.NoError(t, res[batch.RecordID(59)].Err)
	require.Error(t, res[batch.RecordID(60)].Err)
	assert.Contains(t, res[batch.RecordID(60)].Err.Error(), "ended Expired without an output for record R0000000060")
}

func TestRunRefusesTooFewRecordsBeforeAnyCall(t *testing.T) {
	t.Parallel()
	f := batchfake.NewServer(batchfake.Options{})
	defer f.Close()
	_, err := newClient(t, f, &sleeps{}).Run(context.Background(), newJob(99), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "99 records to run, and Bedrock runs a batch job of at least 100")
	assert.Empty(t, f.Keys())
	assert.Empty(t, f.Created)

	// An account whose quota was raised or lowered says so.
	j := newJob(99)
	j.MinRecords = 50
	assert.NoError(t, j.Check())
}

func TestRunRefusesABucketInAnotherRegion(t *testing.T) {
	t.Parallel()
	f := batchfake.NewServer(batchfake.Options{Region: "eu-west-1"})
	defer f.Close()
	_, err := newClient(t, f, &sleeps{}).Run(context.Background(), newJob(100), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "bucket evals is in region eu-west-1 and the job runs in us-east-1")
	assert.Empty(t, f.Keys())
}

func TestRunStopsTheJobWhenCancelled(t *testing.T) {
	t.Parallel()
	f := batchfake.NewServer(batchfake.Options{States: []string{"InProgress"}})
	defer f.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sl := &sleeps{cancelAt: 2, cancel: cancel}
	_, err := newClient(t, f, sl).Run(ctx, newJob(100), nil)
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.Canceled), "%v", err)
	assert.Contains(t, err.Error(), "stopped because the run ended")
	assert.Equal(t, []string{"arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/job0001"}, f.Stopped)
	assert.Equal(t, 2, f.Polls)
}

func TestRunExplainsARefusedJob(t *testing.T) {
	t.Parallel()
	f := batchfake.NewServer(batchfake.Options{CreateError: "ValidationException"})
	defer f.Close()
	_, err := newClient(t, f, &sleeps{}).Run(context.Background(), newJob(100), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ValidationException")
	assert.Contains(t, err.Error(), "the model must support batch inference in this region")
}

func TestRules(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		uri, bucket, prefix, err string
	}{
		{uri: "s3://evals", bucket: "evals"},
		{uri: "s3://evals/", bucket: "evals"},
		{uri: "s3://evals/a/b", bucket: "evals", prefix: "a/b/"},
		{uri: "https://evals.s3.amazonaws.com/a", err: "not an S3 URI"},
		{uri: "s3://Evals/a", err: "not an S3 bucket name"},
		{uri: "s3://e/a", err: "not an S3 bucket name"},
	} {
		loc, err := batch.ParseS3URI(tc.uri)
		if tc.err != "" {
			require.Error(t, err, tc.uri)
			assert.Contains(t, err.Error(), tc.err)
			continue
		}
		require.NoError(t, err, tc.uri)
		assert.Equal(t, batch.Location{Bucket: tc.bucket, Prefix: tc.prefix}, loc)
	}
	assert.NoError(t, batch.CheckRoleARN(role))
	assert.NoError(t, batch.CheckRoleARN("arn:aws-us-gov:iam::123456789012:role/path/r"))
	assert.ErrorContains(t, batch.CheckRoleARN("arn:aws:iam::123456789012:user/me"), "not an IAM role ARN")
	assert.ErrorContains(t, batch.CheckRoleARN(""), "no service role")

	name := batch.JobName("gpt_4o."+strings.Repeat("x", 80), "20261130-002600")
	assert.LessOrEqual(t, len(name), 63)
	assert.True(t, strings.HasPrefix(name, "evalgate-gpt-4o.xxx"), name)
	assert.True(t, strings.HasSuffix(name, "-20261130-002600"), name)
}
