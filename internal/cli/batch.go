package cli

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/evalgate/evalgate/internal/pricing"
	"github.com/evalgate/evalgate/internal/provider"
	"github.com/evalgate/evalgate/internal/provider/bedrock"
	"github.com/evalgate/evalgate/internal/provider/bedrock/batch"
	"github.com/evalgate/evalgate/internal/results"
	"github.com/evalgate/evalgate/internal/run"
	"github.com/evalgate/evalgate/internal/shard"
	"github.com/evalgate/evalgate/internal/suite"
)

// checkBatchTarget checks what a batch target's job needs beyond the
// config's shape: the role ARN's and the S3 URI's formats, and a model the
// pricing catalog knows as a Bedrock model (or the target's own pricing),
// since its batch price is what the calls will cost. Run and validate
// share it.
func checkBatchTarget(s *suite.Suite, tc *suite.TargetConfig) error {
	if err := batch.CheckRoleARN(tc.BatchRoleARN); err != nil {
		return fmt.Errorf("target %q: batch_role_arn: %w", tc.ID, err)
	}
	if _, err := batch.ParseS3URI(tc.BatchS3URI); err != nil {
		return fmt.Errorf("target %q: batch_s3_uri: %w", tc.ID, err)
	}
	if tc.Pricing != nil {
		return nil
	}
	m, ok := s.Prices().Lookup(tc.Model)
	if !ok || m.Provider != suite.ProviderBedrock {
		return fmt.Errorf("target %q: batch: model %s is not a Bedrock model of the pricing catalog, so evalgate can tell neither that Bedrock runs it in batch nor what its calls cost; check the id (`evalgate models --provider bedrock`), or give the target pricing: with the model's batch price", tc.ID, tc.Model)
	}
	return nil
}

// batchPrice is a batch target's price: its own pricing (taken as the batch
// price), else the catalog's batch price. estimated is set when the catalog
// has no batch figure for the model and half its on-demand price is used.
func batchPrice(s *suite.Suite, tc *suite.TargetConfig) (p *pricing.Price, estimated bool) {
	if tc.Pricing != nil {
		return priceOf(s, tc), false
	}
	m, ok := s.Prices().Lookup(tc.Model)
	if !ok {
		return nil, false
	}
	bp, estimated := m.BatchPrice()
	return &bp, estimated
}

// onDemandPrice is what a batch target's calls cost when made on demand: the
// catalog's price for the model, or, when the target gives its own pricing
// (taken as the batch price) and the catalog does not know the model, twice
// that.
func onDemandPrice(s *suite.Suite, tc *suite.TargetConfig) *pricing.Price {
	if m, ok := s.Prices().Lookup(tc.Model); ok {
		return &m.Price
	}
	p := priceOf(s, tc)
	if p == nil {
		return nil
	}
	twice := pricing.Price{InputPerMTok: 2 * p.InputPerMTok, OutputPerMTok: 2 * p.OutputPerMTok,
		CacheReadPerMTok: 2 * p.CacheReadPerMTok, CacheWritePerMTok: 2 * p.CacheWritePerMTok}
	return &twice
}

// newBatchClient makes the client of a batch job in region; tests point it
// at fakes of S3 and Bedrock.
var newBatchClient = func(ctx context.Context, region string) (*batch.Client, error) {
	return batch.New(ctx, batch.Options{Region: region})
}

// runBatches runs, before the run engine, one model invocation job per
// batch target with every call of it that the response cache does not
// answer, and puts the job's answers in place of the target's provider: the
// engine then caches, prices, budgets, scores and writes them as any call.
// The returned keep, called once the engine is done, puts the answers it
// did not read (a run stopped by its deadline or budget) in the response
// cache, so that nothing paid for is lost: the next run reads them free.
func runBatches(ctx context.Context, e *Env, s *suite.Suite, targets []*suite.TargetConfig, built []run.Target, opts run.Options, sh *results.Shard) (keep func(), err error) {
	var keeps []func()
	keep = func() {
		for _, k := range keeps {
			k()
		}
	}
	for i, tc := range targets {
		if !tc.Batch {
			continue
		}
		k, err := runBatch(ctx, e, s, tc, &built[i], opts, sh)
		if err != nil {
			return keep, err
		}
		keeps = append(keeps, k)
	}
	return keep, nil
}

func runBatch(ctx context.Context, e *Env, s *suite.Suite, tc *suite.TargetConfig, t *run.Target, opts run.Options, sh *results.Shard) (keep func(), err error) {
	keep = func() {}
	// 1. The rules that need no call.
	if err := checkBatchTarget(s, tc); err != nil {
		return keep, usageErr(err)
	}
	live, ok := t.Provider.(*bedrock.Client)
	if !ok {
		return keep, usagef("target %q: batch needs the Bedrock provider itself (no cassette)", tc.ID)
	}
	loc, _ := batch.ParseS3URI(tc.BatchS3URI) // checked above
	// 2. The calls the engine will make, less those the cache answers.
	planned, reqs, err := batchRequests(s, t, live.Endpoint(), opts.Cache, sh)
	if err != nil {
		return keep, usageErr(fmt.Errorf("target %q: batch: %w", tc.ID, err))
	}
	minimum := cmp.Or(tc.BatchMinRecords, batch.MinRecords)
	switch {
	case planned < minimum:
		return keep, usagef("target %q: batch: the suite makes %d calls of this target and Bedrock runs a batch job of at least %d records (the account quota \"Minimum number of records per batch inference job\"); evaluate more calls (samples, run.repeats), set batch_min_records if the account's quota differs, or set batch: false to call the model on demand",
			tc.ID, planned, minimum)
	case len(reqs) == 0:
		return keep, nil // all cached: the engine reads them, no job
	case len(reqs) < minimum:
		// The rest of an earlier job (its failed records, a few new
		// samples) is too small for a job of its own; refusing it would
		// break every rerun, so it is called on demand and priced at the
		// on-demand price, while the job's cached answers keep the batch
		// price.
		t.LivePrice = onDemandPrice(s, tc)
		fmt.Fprintf(e.Stderr, "target %s: %d of its %d calls are not cached, fewer than the %d records of a batch job: they are called on demand, at the on-demand price\n",
			tc.ID, len(reqs), planned, minimum)
		return keep, nil
	}
	answers := batch.NewAnswers(live.Endpoint())
	t.Provider, t.Limiter, t.Prepaid = answers, nil, true
	job := &batch.Job{
		Name:       batch.JobName(tc.ID, jobStamp()),
		Model:      tc.Model,
		RoleARN:    tc.BatchRoleARN,
		Location:   loc,
		MinRecords: tc.BatchMinRecords,
	}
	for i, req := range reqs {
		job.Records = append(job.Records, batch.Record{ID: batch.RecordID(i), Request: req})
	}
	if err := batchBudget(tc, t.Price, reqs, opts.BudgetUSD); err != nil {
		return keep, usageErr(err)
	}
	// 3. Run the job, saying how it goes.
	client, err := newBatchClient(ctx, live.Region())
	if err != nil {
		return keep, providerErr(err)
	}
	fmt.Fprintf(e.Stderr, "target %s: batch job %s: %d calls of %s in %s (files under %s%s/)\n", tc.ID, job.Name, len(reqs), tc.Model, live.Region(), loc.URI(), job.Name)
	if _, estimated := batchPrice(s, tc); estimated {
		fmt.Fprintf(e.Stderr, "target %s: the pricing catalog has no batch price for %s: its calls are priced at %.0f%% of the on-demand price\n", tc.ID, tc.Model, pricing.BatchShare*100)
	}
	// run.deadline bounds the wait for the job as it bounds the calls.
	jctx, cancel := ctx, context.CancelFunc(func() {})
	if d := s.Deadline(); d > 0 {
		jctx, cancel = context.WithTimeout(ctx, d)
	}
	defer cancel()
	res, err := client.Run(jctx, job, batchProgress(e.Stderr, tc.ID))
	if err != nil {
		err = fmt.Errorf("target %q: %w", tc.ID, err)
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return keep, &exitError{ExitIncomplete, err}
		}
		return keep, providerErr(err)
	}
	// 4. Keep every answer.
	failed := 0
	for _, r := range job.Records {
		out := res[r.ID]
		if out.Err != nil {
			failed++
			out.Err = opts.Secrets.Err(out.Err)
		} else {
			out.Response.Text = opts.Secrets.Redact(out.Response.Text)
		}
		answers.Add(r.Request, out)
	}
	fmt.Fprintf(e.Stderr, "target %s: batch job done: %d answers, %d record errors\n", tc.ID, len(reqs)-failed, failed)
	keep = func() {
		if opts.Cache == nil || !t.Cacheable {
			return
		}
		for _, r := range job.Records {
			if out := res[r.ID]; out.Err == nil && !answers.Served(r.Request) {
				// A cache that cannot be written costs the next run, not
				// this one's results.
				_ = opts.Cache.Put(run.Key(t.Info.Provider, live.Endpoint(), r.Request), out.Response)
			}
		}
	}
	return keep, nil
}

// jobStamp ends a job's name: the time, and random letters so that the
// shards of one suite, started in the same second by a matrix workflow,
// never share a name (nor the input file and the idempotency token that go
// with it).
func jobStamp() string {
	return time.Now().UTC().Format("20060102-150405") + "-" + rand.Text()[:6]
}

// batchRequests reads the dataset (the shard's part of it) and returns how
// many calls target t will make and the distinct requests among them the
// cache does not answer. A sample whose prompt cannot be rendered is left
// to the engine, which records it as a template error.
func batchRequests(s *suite.Suite, t *run.Target, endpoint string, cache *run.Cache, sh *results.Shard) (planned int, reqs []provider.Request, err error) {
	ds, err := suite.OpenDataset(s)
	if err != nil {
		return 0, nil, err
	}
	defer ds.Close()
	var samples run.Samples = ds
	if sh != nil {
		samples = shard.Samples{Shard: *sh, From: ds}
	}
	seen := map[string]bool{}
	for {
		smp, err := samples.Next()
		if err == io.EOF {
			return planned, reqs, nil
		}
		if err != nil {
			return 0, nil, err
		}
		if t.Match != nil && !t.Match(smp) {
			continue
		}
		for r := range s.Repeats() {
			req, err := t.Request(smp, r)
			if err != nil {
				continue
			}
			planned++
			if cache != nil && t.Cacheable {
				if _, hit := cache.Get(run.Key(t.Info.Provider, endpoint, req)); hit {
					continue
				}
			}
			// Identical requests (the same prompt for two samples) are
			// one record: the cache treats them as one question too.
			if h := provider.Hash(req); !seen[h] {
				seen[h] = true
				reqs = append(reqs, req)
			}
		}
	}
}

// batchBudget refuses a job that could cost more than run.budget_usd. The
// budget stops on-demand calls one at a time; a job is paid whole, so its
// cost is bounded before it starts: each prompt at about four characters a
// token, each answer at its max_tokens.
func batchBudget(tc *suite.TargetConfig, price *pricing.Price, reqs []provider.Request, budget float64) error {
	if budget <= 0 || price == nil {
		return nil
	}
	var bound float64
	for _, req := range reqs {
		if req.Params.MaxTokens == nil {
			return fmt.Errorf("target %q: params.max_tokens: with run.budget_usd set, a batch target needs max_tokens so that the job's cost is bounded before it starts (a job cannot be stopped part way by the budget)", tc.ID)
		}
		chars := len(req.System)
		for _, m := range req.Messages {
			chars += len(m.Content)
		}
		bound += price.Cost(provider.Usage{InputTokens: chars/4 + 1, OutputTokens: *req.Params.MaxTokens})
	}
	if bound > budget {
		return fmt.Errorf("target %q: batch: the job could cost up to $%.2f (%d calls, prompts at ~4 characters a token, answers at max_tokens) and run.budget_usd is $%.2f; raise the budget, lower params.max_tokens, or evaluate fewer samples", tc.ID, bound, len(reqs), budget)
	}
	return nil
}

// batchProgress prints a job's status when it changes: jobs take minutes
// to hours, and a silent run looks hung.
func batchProgress(w io.Writer, target string) func(batch.Status) {
	last := ""
	return func(st batch.Status) {
		line := fmt.Sprintf("target %s: batch job %s", target, st.State)
		if st.Total > 0 {
			line += fmt.Sprintf(", %d of %d records processed", st.Processed, st.Total)
		}
		if line != last {
			fmt.Fprintln(w, line)
			last = line
		}
	}
}
