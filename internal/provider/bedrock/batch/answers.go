package batch

import (
	"context"
	"sync"

	"github.com/evalgate/evalgate/internal/provider"
	bedrockrt "github.com/evalgate/evalgate/internal/provider/bedrock"
)

// Answers is a finished job's results as a provider: the run engine asks it
// for each call of the batch target as it would ask Bedrock, and gets the
// job's answer to that request, so that caching, pricing, the budget,
// scoring and the results file treat batch records as any other.
type Answers struct {
	endpoint string
	mu       sync.Mutex
	byHash   map[string]Result
	served   map[string]bool
}

// NewAnswers returns an empty set of answers standing in for the Bedrock
// client whose Endpoint is endpoint: the response cache keys its entries by
// it, so batch and on-demand answers of one model share the cache.
func NewAnswers(endpoint string) *Answers {
	return &Answers{endpoint: endpoint, byHash: map[string]Result{}, served: map[string]bool{}}
}

// Add keeps the result of req.
func (a *Answers) Add(req provider.Request, r Result) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.byHash[provider.Hash(req)] = r
}

// Complete returns the job's answer to req, or the record's error.
func (a *Answers) Complete(ctx context.Context, req provider.Request) (provider.Response, error) {
	h := provider.Hash(req)
	a.mu.Lock()
	r, ok := a.byHash[h]
	a.served[h] = ok
	a.mu.Unlock()
	if !ok {
		// Every uncached request went into the job; one that did not is a
		// cache entry that vanished between the two reads.
		return provider.Response{}, provider.Errorf(provider.KindOther, bedrockrt.Name,
			"model %s: the batch job has no answer for sample %s (repeat %d): it was cached when the job was built and is not any more; run again", req.Model, req.SampleID, req.Repeat)
	}
	return r.Response, r.Err
}

// Served reports whether the engine has read the answer to req.
func (a *Answers) Served(req provider.Request) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.served[provider.Hash(req)]
}

// Endpoint is the endpoint of the Bedrock client the answers stand in for.
func (a *Answers) Endpoint() string { return a.endpoint }
