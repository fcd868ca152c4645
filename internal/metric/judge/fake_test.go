package judge

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/metric"
	"github.com/evalgate/evalgate/internal/provider"
)

// fakeJudge is a Completer whose replies come from respond, called with the
// 0-based call number; it records every request.
type fakeJudge struct {
	mu      sync.Mutex
	reqs    []provider.Request
	respond func(n int, req provider.Request) (provider.Response, error)
	// price is USD per token (input and output alike); nil means unpriced.
	price *float64
}

func (f *fakeJudge) Complete(_ context.Context, req provider.Request) (provider.Response, error) {
	f.mu.Lock()
	n := len(f.reqs)
	f.reqs = append(f.reqs, req)
	f.mu.Unlock()
	return f.respond(n, req)
}

func (f *fakeJudge) CostOf(u provider.Usage) *float64 {
	if f.price == nil {
		return nil
	}
	c := *f.price * float64(u.InputTokens+u.OutputTokens)
	return &c
}

func (f *fakeJudge) calls() []provider.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]provider.Request(nil), f.reqs...)
}

// repliesInTurn answers the n-th call with replies[n] (the last one after
// that), each with 100 input and 20 output tokens.
func repliesInTurn(replies ...string) *fakeJudge {
	price := 0.001
	return &fakeJudge{price: &price, respond: func(n int, _ provider.Request) (provider.Response, error) {
		return provider.Response{Text: replies[min(n, len(replies)-1)], Usage: provider.Usage{InputTokens: 100, OutputTokens: 20}}, nil
	}}
}

// alwaysFailsWith fails every call with err.
func alwaysFailsWith(err error) *fakeJudge {
	return &fakeJudge{respond: func(int, provider.Request) (provider.Response, error) { return provider.Response{}, err }}
}

// recorded reads a recorded judge reply from testdata/replies.
func recorded(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "replies", name))
	require.NoError(t, err)
	return string(b)
}

func judgeOpts(extra map[string]any) map[string]any {
	o := map[string]any{"judge": map[string]any{"provider": "bedrock", "model": "judge-model"}}
	for k, v := range extra {
		o[k] = v
	}
	return o
}

func mustNew(t *testing.T, spec metric.Spec, c Completer, emb Embedder) metric.Metric {
	t.Helper()
	m, err := New(spec, c, emb)
	require.NoError(t, err)
	return m
}

var sampleInput = metric.Input{
	Output:     "Refunds take five business days.",
	Reference:  "A refund takes 5 business days and goes to the original payment method.",
	References: []string{"A refund takes 5 business days and goes to the original payment method."},
	Question:   "How long does a refund take?",
	Fields:     map[string]string{"context": "Refunds are processed within five business days to the original payment method.", "question": "refund time?"},
}
