package run

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/pricing"
	"github.com/evalgate/evalgate/internal/provider"
	"github.com/evalgate/evalgate/internal/results"
	"github.com/evalgate/evalgate/internal/suite"
)

func TestRequestIsTheCallTheEngineMakes(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	sent := map[string]provider.Request{}
	p := &fakeProvider{fn: func(_ int64, req provider.Request) (provider.Response, error) {
		mu.Lock()
		sent[req.SampleID] = req
		mu.Unlock()
		return provider.Response{Text: "a"}, nil
	}}
	ta := target("a", p)
	ta.Fields = func(s suite.Sample) map[string]string {
		return map[string]string{"question": "seen by a: " + s.Fields["question"]}
	}
	_, err := New([]Target{ta}, nil, Options{Concurrency: 2}).Run(context.Background(), &sliceSamples{n: 5}, &memWriter{})
	require.NoError(t, err)

	samples := &sliceSamples{n: 5}
	for range 5 {
		s, err := samples.Next()
		require.NoError(t, err)
		want, err := ta.Request(s, 0)
		require.NoError(t, err)
		assert.Equal(t, want, sent[s.ID])
		assert.Equal(t, provider.Hash(want), provider.Hash(sent[s.ID]))
	}

	broken := target("b", p)
	s, _ := (&sliceSamples{n: 1}).Next()
	s.Fields = map[string]string{}
	_, err = broken.Request(s, 0)
	assert.ErrorContains(t, err, `dataset line 1: prompt "answer": field "question" is missing`)
}

func TestPrepaidCallsAreNotHeldBackByTheBudget(t *testing.T) {
	t.Parallel()
	ta := target("a", echoes())
	ta.Price = &pricing.Price{InputPerMTok: 10000} // $1 a call
	ta.Prepaid = true
	w := &memWriter{}
	sum, err := New([]Target{ta}, nil, Options{Concurrency: 1, BudgetUSD: 3}).Run(context.Background(), &sliceSamples{n: 20}, w)
	require.NoError(t, err)
	// The job's answers were paid for when it ran: dropping them would
	// save nothing.
	assert.Len(t, w.recs, 20)
	assert.Equal(t, results.StatusComplete, sum.Status)
	require.NotNil(t, sum.Targets[0].CostUSD)
	assert.InDelta(t, 20.0, *sum.Targets[0].CostUSD, 1e-9)
}
