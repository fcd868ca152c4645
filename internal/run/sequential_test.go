package run

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/provider"
	"github.com/evalgate/evalgate/internal/results"
	"github.com/evalgate/evalgate/internal/suite"
)

// lookLog records the looks a run took.
type lookLog struct {
	mu    sync.Mutex
	looks []string
}

func (l *lookLog) add(k, n int, last string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.looks = append(l.looks, fmt.Sprintf("look %d: %d samples, last %s", k+1, n, last))
}

// blocksFrom answers the samples before sample number from at once, and
// holds the calls of the later ones until their context ends: the calls in
// flight when a sequential run stops.
type blocksFrom struct {
	from  int
	calls atomic.Int64
}

func (p *blocksFrom) Complete(ctx context.Context, req provider.Request) (provider.Response, error) {
	p.calls.Add(1)
	if n, _ := strconv.Atoi(strings.TrimPrefix(req.SampleID, "s")); n >= p.from {
		<-ctx.Done()
		return provider.Response{}, ctx.Err()
	}
	return provider.Response{Text: "answer " + req.SampleID}, nil
}

func TestSequentialRunStopsWhenSettled(t *testing.T) {
	t.Parallel()
	a, b := &blocksFrom{from: 36}, &blocksFrom{from: 36}
	tb := target("b", b)
	// b sees the even samples only: an odd sample is finished with a's
	// record alone.
	tb.Match = func(s suite.Sample) bool { n, _ := strconv.Atoi(s.ID[1:]); return n%2 == 0 }
	var log lookLog
	seq := &Sequential{Looks: []int{20, 35, 50, 75}, Look: func(_ context.Context, k, n int, last string) (bool, error) {
		log.add(k, n, last)
		return k == 1, nil
	}}
	e := New([]Target{target("a", a), tb}, nil, Options{Concurrency: 4, Sequential: seq})
	w := &memWriter{}
	sum, err := e.Run(context.Background(), &sliceSamples{n: 100}, w)
	require.NoError(t, err)

	assert.Equal(t, []string{"look 1: 20 samples, last s020", "look 2: 35 samples, last s035"}, log.looks)
	assert.Equal(t, results.StatusComplete, sum.Status, "a settled run called what its verdict needed")
	assert.Empty(t, sum.Reason)
	// Every record of the first 35 samples is written; the calls that were
	// in flight (blocked) were cancelled and left no record.
	written := map[string]int{}
	for _, r := range w.recs {
		n, _ := strconv.Atoi(r.SampleID[1:])
		assert.Less(t, n, 36, "record of %s", r.SampleID)
		written[r.Target]++
	}
	assert.Equal(t, map[string]int{"a": 35, "b": 17}, written)
	assert.Less(t, a.calls.Load()+b.calls.Load(), int64(100+50), "the run stopped calling")
	assert.Positive(t, sum.Targets[0].Skipped+sum.Targets[1].Skipped)
}

func TestSequentialRunGoesToTheEndWhenUnsettled(t *testing.T) {
	t.Parallel()
	a, b := echoes(), echoes()
	var log lookLog
	seq := &Sequential{Looks: []int{20, 35, 50, 75}, Look: func(_ context.Context, k, n int, last string) (bool, error) {
		log.add(k, n, last)
		return false, nil
	}}
	e := New([]Target{target("a", a), target("b", b)}, nil, Options{Concurrency: 3, Repeats: 2, Sequential: seq})
	w := &memWriter{}
	sum, err := e.Run(context.Background(), &sliceSamples{n: 100}, w)
	require.NoError(t, err)
	assert.Equal(t, []string{
		"look 1: 20 samples, last s020", "look 2: 35 samples, last s035",
		"look 3: 50 samples, last s050", "look 4: 75 samples, last s075",
	}, log.looks)
	assert.Equal(t, results.StatusComplete, sum.Status)
	assert.Len(t, w.recs, 100*2*2)
}

func TestSequentialLookErrorEndsTheLooksNotTheRun(t *testing.T) {
	t.Parallel()
	var log lookLog
	seq := &Sequential{Looks: []int{20, 35}, Look: func(_ context.Context, k, n int, last string) (bool, error) {
		log.add(k, n, last)
		return true, errors.New("baseline unreadable")
	}}
	e := New([]Target{target("a", echoes())}, nil, Options{Concurrency: 2, Sequential: seq})
	w := &memWriter{}
	sum, err := e.Run(context.Background(), &sliceSamples{n: 50}, w)
	require.NoError(t, err)
	assert.Equal(t, []string{"look 1: 20 samples, last s020"}, log.looks)
	assert.Equal(t, results.StatusComplete, sum.Status)
	assert.Len(t, w.recs, 50)
}
