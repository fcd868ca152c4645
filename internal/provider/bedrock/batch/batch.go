// Package batch runs evalgate's calls of one Bedrock target as a model
// invocation job (Bedrock batch inference, about half the on-demand price):
// it writes the requests as the job's JSONL input to S3, starts
// CreateModelInvocationJob with the Converse invocation type, polls
// GetModelInvocationJob until the job ends, reads the output JSONL back from
// S3 and maps each output record to its request by recordId. A record the
// model failed keeps its own error; the others are answers.
//
// https://docs.aws.amazon.com/bedrock/latest/userguide/batch-inference.html
package batch

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/bedrock"
	bedrocktypes "github.com/aws/aws-sdk-go-v2/service/bedrock/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/evalgate/evalgate/internal/provider"
	bedrockrt "github.com/evalgate/evalgate/internal/provider/bedrock"
	"github.com/evalgate/evalgate/internal/throttle"
)

// Options configure a Client. The zero value uses the SDK's default chain
// and the region's own endpoints.
type Options struct {
	// Region overrides the region of the default chain.
	Region string
	// BedrockEndpoint and S3Endpoint override the service endpoints (a VPC
	// endpoint, a test server); S3PathStyle addresses buckets in the path
	// instead of the host name, as test servers and some VPC endpoints need.
	BedrockEndpoint, S3Endpoint string
	S3PathStyle                 bool
	// HTTPClient, Credentials and ConfigOptions are as in bedrock.Options.
	HTTPClient    aws.HTTPClient
	Credentials   aws.CredentialsProvider
	ConfigOptions []func(*config.LoadOptions) error
	// PollEvery is the wait between two GetModelInvocationJob calls
	// (default 30 s: jobs take minutes to hours).
	PollEvery time.Duration
	// Sleep waits between polls; tests replace it so that no test waits on
	// the wall clock. It returns ctx.Err() when ctx ends first.
	Sleep func(ctx context.Context, d time.Duration) error
}

// defaultPollEvery keeps a job of hours to a few hundred status calls,
// far below GetModelInvocationJob's request rate quota.
const defaultPollEvery = 30 * time.Second

// Client runs model invocation jobs in one region.
type Client struct {
	s3      *s3.Client
	bedrock *bedrock.Client
	region  string
	opts    Options
}

// New loads the AWS configuration as the Bedrock runtime client does and
// returns a client. It does not call AWS.
func New(ctx context.Context, opts Options) (*Client, error) {
	cfg, err := bedrockrt.AWSConfig(ctx, bedrockrt.Options{Region: opts.Region, HTTPClient: opts.HTTPClient,
		Credentials: opts.Credentials, ConfigOptions: opts.ConfigOptions})
	if err != nil {
		return nil, err
	}
	// The runtime client makes one attempt per call because the run engine
	// retries; these control calls have no engine behind them, so the SDK's
	// standard retries (throttling, 5xx, cut connections) apply.
	standard := func() aws.Retryer { return retry.NewStandard() }
	c := &Client{region: cfg.Region, opts: opts}
	c.s3 = s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.Retryer = standard()
		o.UsePathStyle = opts.S3PathStyle
		if opts.S3Endpoint != "" {
			o.BaseEndpoint = aws.String(opts.S3Endpoint)
		}
	})
	c.bedrock = bedrock.NewFromConfig(cfg, func(o *bedrock.Options) {
		o.Retryer = standard()
		if opts.BedrockEndpoint != "" {
			o.BaseEndpoint = aws.String(opts.BedrockEndpoint)
		}
	})
	if c.opts.PollEvery <= 0 {
		c.opts.PollEvery = defaultPollEvery
	}
	if c.opts.Sleep == nil {
		c.opts.Sleep = throttle.Sleep
	}
	return c, nil
}

// Region is the region the jobs run in.
func (c *Client) Region() string { return c.region }

// Job is one model invocation job to run.
type Job struct {
	// Name is the job's name, unique in the account (JobName makes one); the
	// input and output live under Location.Prefix + Name + "/".
	Name string
	// Model is the model or inference profile id.
	Model string
	// RoleARN is the service role Bedrock assumes to read the input and
	// write the output.
	RoleARN string
	// Location is the bucket and prefix of the job's files.
	Location Location
	// Records are the requests, each under an id unique in the job.
	Records []Record
	// MinRecords is the account's quota of records per job (0: MinRecords).
	MinRecords int
}

// Record is one request of a job.
type Record struct {
	ID      string
	Request provider.Request
}

// RecordID is the id of the i-th record: eleven letters and digits, the
// shape of the service's own ids, unique in a job.
func RecordID(i int) string { return fmt.Sprintf("R%010d", i) }

// Result is the outcome of one record: a response, or the record's error
// (a *provider.Error).
type Result struct {
	Response provider.Response
	Err      error
}

// Status is a job's state as the last poll saw it.
type Status struct {
	JobARN string
	State  string
	// Processed, Succeeded, Failed and Total count records; the service
	// fills them in as the job runs.
	Processed, Succeeded, Failed, Total int64
	Message                             string
}

// Check applies the service's rules that need no call: enough records, a
// role ARN, a model.
func (j *Job) Check() error {
	minimum := j.MinRecords
	if minimum <= 0 {
		minimum = MinRecords
	}
	switch {
	case len(j.Records) < minimum:
		return fmt.Errorf("%d records to run, and Bedrock runs a batch job of at least %d (the account quota \"Minimum number of records per batch inference job\")", len(j.Records), minimum)
	case j.Model == "":
		return errors.New("no model")
	}
	return CheckRoleARN(j.RoleARN)
}

func (j *Job) inputKey() string  { return j.Location.Prefix + j.Name + "/input.jsonl" }
func (j *Job) outputKey() string { return j.Location.Prefix + j.Name + "/output/" }

// Run runs the job to its end and returns the result of every record by id.
// progress, if not nil, is told the job's status after each poll. When ctx
// ends first the job is stopped (it would go on costing money) and the
// error wraps ctx.Err(). A job that failed as a whole is an error naming
// the job; one stopped or expired part way returns the records it finished,
// the others with an error saying so.
func (c *Client) Run(ctx context.Context, j *Job, progress func(Status)) (map[string]Result, error) {
	// 1. The rules that need no call, then the bucket's region: Bedrock
	// reads and writes only buckets in the job's region.
	if err := j.Check(); err != nil {
		return nil, err
	}
	if err := c.checkBucket(ctx, j.Location); err != nil {
		return nil, err
	}
	// 2. Upload the records as the job's JSONL input.
	input, err := jsonl(j.Records)
	if err != nil {
		return nil, err
	}
	if _, err := c.s3.PutObject(ctx, &s3.PutObjectInput{
		Bucket:      aws.String(j.Location.Bucket),
		Key:         aws.String(j.inputKey()),
		Body:        bytes.NewReader(input),
		ContentType: aws.String("application/jsonl"),
	}); err != nil {
		return nil, fmt.Errorf("upload the job input to s3://%s/%s (the caller needs s3:PutObject there): %w", j.Location.Bucket, j.inputKey(), err)
	}
	// 3. Start the job.
	created, err := c.bedrock.CreateModelInvocationJob(ctx, &bedrock.CreateModelInvocationJobInput{
		JobName:             aws.String(j.Name),
		ModelId:             aws.String(j.Model),
		RoleArn:             aws.String(j.RoleARN),
		ClientRequestToken:  aws.String(j.Name),
		ModelInvocationType: bedrocktypes.ModelInvocationTypeConverse,
		InputDataConfig: &bedrocktypes.ModelInvocationJobInputDataConfigMemberS3InputDataConfig{
			Value: bedrocktypes.ModelInvocationJobS3InputDataConfig{
				S3Uri:         aws.String("s3://" + j.Location.Bucket + "/" + j.inputKey()),
				S3InputFormat: bedrocktypes.S3InputFormatJsonl,
			},
		},
		OutputDataConfig: &bedrocktypes.ModelInvocationJobOutputDataConfigMemberS3OutputDataConfig{
			Value: bedrocktypes.ModelInvocationJobS3OutputDataConfig{S3Uri: aws.String("s3://" + j.Location.Bucket + "/" + j.outputKey())},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("create model invocation job %s for model %s in %s (the caller needs bedrock:CreateModelInvocationJob and iam:PassRole on %s; the model must support batch inference in this region): %w",
			j.Name, j.Model, c.region, j.RoleARN, err)
	}
	arn := aws.ToString(created.JobArn)
	// 4. Wait for it to end.
	st, err := c.wait(ctx, arn, progress)
	if err != nil {
		return nil, err
	}
	// 5. Read what it wrote, and say what became of every record.
	switch bedrocktypes.ModelInvocationJobStatus(st.State) {
	case bedrocktypes.ModelInvocationJobStatusCompleted, bedrocktypes.ModelInvocationJobStatusPartiallyCompleted,
		bedrocktypes.ModelInvocationJobStatusStopped, bedrocktypes.ModelInvocationJobStatusExpired:
	default:
		return nil, fmt.Errorf("model invocation job %s ended %s: %s (its input stays at s3://%s/%s)", arn, st.State, cmp.Or(st.Message, "no message"), j.Location.Bucket, j.inputKey())
	}
	out, err := c.readOutput(ctx, j)
	if err != nil {
		return nil, fmt.Errorf("model invocation job %s: %w", arn, err)
	}
	for _, r := range j.Records {
		if _, ok := out[r.ID]; !ok {
			out[r.ID] = Result{Err: provider.Errorf(provider.KindOther, bedrockrt.Name,
				"batch job %s ended %s without an output for record %s", arn, st.State, r.ID)}
		}
	}
	return out, nil
}

// checkBucket makes sure the bucket is there and in the client's region.
func (c *Client) checkBucket(ctx context.Context, loc Location) error {
	head, err := c.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(loc.Bucket)})
	if err != nil {
		return fmt.Errorf("bucket %s: %w (it must exist, and the caller needs s3:ListBucket on it)", loc.Bucket, err)
	}
	if r := aws.ToString(head.BucketRegion); r != "" && r != c.region {
		return fmt.Errorf("bucket %s is in region %s and the job runs in %s: Bedrock batch jobs read and write buckets of their own region; use a bucket in %s, or set the target's region to %s", loc.Bucket, r, c.region, c.region, r)
	}
	return nil
}

// terminal says which job states are final.
func terminal(s bedrocktypes.ModelInvocationJobStatus) bool {
	switch s {
	case bedrocktypes.ModelInvocationJobStatusCompleted, bedrocktypes.ModelInvocationJobStatusPartiallyCompleted,
		bedrocktypes.ModelInvocationJobStatusFailed, bedrocktypes.ModelInvocationJobStatusStopped,
		bedrocktypes.ModelInvocationJobStatusExpired:
		return true
	}
	// Submitted, Validating, Scheduled, InProgress and Stopping are on
	// their way.
	return false
}

// wait polls the job until it ends; when ctx ends first it stops the job.
func (c *Client) wait(ctx context.Context, arn string, progress func(Status)) (Status, error) {
	for {
		got, err := c.bedrock.GetModelInvocationJob(ctx, &bedrock.GetModelInvocationJobInput{JobIdentifier: aws.String(arn)})
		if err != nil && ctx.Err() == nil {
			return Status{}, fmt.Errorf("model invocation job %s: get status (the caller needs bedrock:GetModelInvocationJob); the job may still be running and billed: check it, or stop it with `aws bedrock stop-model-invocation-job --job-identifier %s`: %w", arn, arn, err)
		}
		if err == nil {
			st := Status{JobARN: arn, State: string(got.Status), Message: aws.ToString(got.Message),
				Processed: aws.ToInt64(got.ProcessedRecordCount), Succeeded: aws.ToInt64(got.SuccessRecordCount),
				Failed: aws.ToInt64(got.ErrorRecordCount), Total: aws.ToInt64(got.TotalRecordCount)}
			if progress != nil {
				progress(st)
			}
			if terminal(got.Status) {
				return st, nil
			}
		}
		if err := c.opts.Sleep(ctx, c.opts.PollEvery); err != nil {
			return Status{}, c.stop(ctx, arn, err)
		}
	}
}

// stop asks the service to stop a job the run no longer waits for, and
// returns the error that says so.
func (c *Client) stop(ctx context.Context, arn string, cause error) error {
	// ctx is over; the stop gets a short time of its own.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if _, err := c.bedrock.StopModelInvocationJob(sctx, &bedrock.StopModelInvocationJobInput{JobIdentifier: aws.String(arn)}); err != nil {
		return fmt.Errorf("model invocation job %s: the run ended (%w) and the job could not be stopped, it may still run and be billed; stop it with `aws bedrock stop-model-invocation-job --job-identifier %s`: %v", arn, cause, arn, err)
	}
	return fmt.Errorf("model invocation job %s: stopped because the run ended: %w", arn, cause)
}

// jsonl writes the records as the job's input: one {"recordId",
// "modelInput"} object per line, modelInput a Converse request body.
func jsonl(records []Record) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, r := range records {
		body, err := bedrockrt.ConverseJSON(r.Request)
		if err != nil {
			return nil, err
		}
		if err := enc.Encode(inputRecord{RecordID: r.ID, ModelInput: body}); err != nil {
			return nil, fmt.Errorf("record %s: %w", r.ID, err)
		}
	}
	return buf.Bytes(), nil
}

type inputRecord struct {
	RecordID   string          `json:"recordId"`
	ModelInput json.RawMessage `json:"modelInput"`
}

// outputRecord is one line of a job's output: the input's recordId and
// modelInput, and modelOutput or, for a record that failed, error.
type outputRecord struct {
	RecordID    string          `json:"recordId"`
	ModelOutput json.RawMessage `json:"modelOutput"`
	Error       *struct {
		ErrorCode    json.RawMessage `json:"errorCode"`
		ErrorMessage string          `json:"errorMessage"`
	} `json:"error"`
}

// readOutput reads every output file of the job (one <input>.jsonl.out per
// input file, in a folder named after the job id) into results by record id.
func (c *Client) readOutput(ctx context.Context, j *Job) (map[string]Result, error) {
	out := map[string]Result{}
	pages := s3.NewListObjectsV2Paginator(c.s3, &s3.ListObjectsV2Input{Bucket: aws.String(j.Location.Bucket), Prefix: aws.String(j.outputKey())})
	files := 0
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list the output under s3://%s/%s (the caller needs s3:ListBucket): %w", j.Location.Bucket, j.outputKey(), err)
		}
		for _, obj := range page.Contents {
			key := aws.ToString(obj.Key)
			if !strings.HasSuffix(key, ".jsonl.out") {
				continue // manifest.json.out and anything else
			}
			files++
			if err := c.readFile(ctx, j.Location.Bucket, key, out); err != nil {
				return nil, err
			}
		}
	}
	if files == 0 {
		return nil, fmt.Errorf("no output file (*.jsonl.out) under s3://%s/%s", j.Location.Bucket, j.outputKey())
	}
	return out, nil
}

func (c *Client) readFile(ctx context.Context, bucket, key string, out map[string]Result) error {
	got, err := c.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return fmt.Errorf("read s3://%s/%s (the caller needs s3:GetObject): %w", bucket, key, err)
	}
	defer got.Body.Close()
	r := bufio.NewReader(got.Body)
	for line := 1; ; line++ {
		b, err := r.ReadBytes('\n')
		if len(bytes.TrimSpace(b)) > 0 {
			id, res, perr := parseRecord(b)
			if perr != nil {
				return fmt.Errorf("s3://%s/%s line %d: %w", bucket, key, line, perr)
			}
			out[id] = res
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read s3://%s/%s: %w", bucket, key, err)
		}
	}
}

// parseRecord reads one output line. A record the model failed, or whose
// output cannot be read, is a result with an error: the record's own
// outcome, never the whole job's.
func parseRecord(line []byte) (string, Result, error) {
	var rec outputRecord
	if err := json.Unmarshal(line, &rec); err != nil {
		return "", Result{}, fmt.Errorf("not a JSON output record: %w", err)
	}
	if rec.RecordID == "" {
		return "", Result{}, errors.New("output record without a recordId")
	}
	if e := rec.Error; e != nil {
		code := strings.Trim(string(e.ErrorCode), `"`)
		kind := provider.KindOther
		// A record is answered once: nothing is retried, so a 429 or a
		// 5xx is the record's failure, not a reason to call again.
		if n, err := strconv.Atoi(code); err == nil && n >= 400 && n < 500 && n != 429 {
			kind = provider.KindInvalidRequest
		}
		return rec.RecordID, Result{Err: provider.Errorf(kind, bedrockrt.Name, "batch record %s: error %s: %s", rec.RecordID, code, e.ErrorMessage)}, nil
	}
	if len(rec.ModelOutput) == 0 {
		return rec.RecordID, Result{Err: provider.Errorf(provider.KindOther, bedrockrt.Name, "batch record %s: neither modelOutput nor error", rec.RecordID)}, nil
	}
	resp, err := bedrockrt.ParseConverseJSON(rec.ModelOutput)
	if err != nil {
		return rec.RecordID, Result{Err: provider.Errorf(provider.KindOther, bedrockrt.Name, "batch record %s: %v", rec.RecordID, err)}, nil
	}
	return rec.RecordID, Result{Response: resp}, nil
}
