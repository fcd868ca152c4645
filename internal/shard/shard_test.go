package shard

import (
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/results"
	"github.com/evalgate/evalgate/internal/suite"
)

func TestParse(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]results.Shard{"1/1": {Index: 1, Count: 1}, "2/4": {Index: 2, Count: 4}, " 3/3 ": {Index: 3, Count: 3}, "256/256": {Index: 256, Count: 256}} {
		got, err := Parse(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for in, msg := range map[string]string{
		"":        "write the shard as i/N",
		"2":       "write the shard as i/N",
		"a/3":     "whole numbers",
		"1/b":     "whole numbers",
		"0/3":     "i must be between 1 and 3 (shards count from 1)",
		"4/3":     "i must be between 1 and 3",
		"-1/3":    "i must be between 1 and 3",
		"1/0":     "N must be between 1 and 256",
		"1/257":   "N must be between 1 and 256",
		"1.5/3":   "whole numbers",
		"1/3/4":   "whole numbers",
		"1 / 3 x": "whole numbers",
	} {
		_, err := Parse(in)
		require.Error(t, err, in)
		assert.Contains(t, err.Error(), msg, in)
		assert.Contains(t, err.Error(), fmt.Sprintf("%q", in), "the error quotes what was given")
	}
}

// The assignment is part of the results format: shards written by one
// evalgate version merge with those of another. These values pin it.
func TestOfIsPinned(t *testing.T) {
	t.Parallel()
	assert.Equal(t, 2, Of("kb-001", 3))
	assert.Equal(t, 1, Of("kb-003", 3))
	assert.Equal(t, 3, Of("kb-004", 3))
	assert.Equal(t, 2, Of("row-1", 2))
	assert.Equal(t, 1, Of("anything", 1))
}

// sliceSamples is a dataset in memory.
type sliceSamples struct{ rows []suite.Sample }

func (s *sliceSamples) Next() (suite.Sample, error) {
	if len(s.rows) == 0 {
		return suite.Sample{}, io.EOF
	}
	smp := s.rows[0]
	s.rows = s.rows[1:]
	return smp, nil
}

// shardIDs reads one shard of rows through Samples.
func shardIDs(t *testing.T, sh results.Shard, rows []suite.Sample) []string {
	t.Helper()
	src := Samples{Shard: sh, From: &sliceSamples{rows: append([]suite.Sample(nil), rows...)}}
	var ids []string
	for {
		smp, err := src.Next()
		if err == io.EOF {
			return ids
		}
		require.NoError(t, err)
		ids = append(ids, smp.ID)
	}
}

// Every sample lands in exactly one shard, the same one whatever the order
// of the dataset, and the shards are about the same size.
func TestSamplesCoverEverySampleOnceInAnyOrder(t *testing.T) {
	t.Parallel()
	const n = 2000
	rows := make([]suite.Sample, n)
	for i := range rows {
		rows[i] = suite.Sample{ID: fmt.Sprintf("sample-%d", i)}
	}
	shuffled := append([]suite.Sample(nil), rows...)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	for _, count := range []int{1, 2, 3, 7, 16} {
		where := map[string]int{}
		for i := 1; i <= count; i++ {
			sh := results.Shard{Index: i, Count: count}
			ids := shardIDs(t, sh, rows)
			assert.ElementsMatch(t, ids, shardIDs(t, sh, shuffled), "shard %d/%d holds the same samples in another order", i, count)
			assert.Greater(t, len(ids), n/count*7/10, "shard %d/%d is far below its share", i, count)
			for _, id := range ids {
				prev, dup := where[id]
				require.False(t, dup, "%s in shards %d and %d of %d", id, prev, i, count)
				where[id] = i
			}
		}
		assert.Len(t, where, n, "every sample is in some shard of %d", count)
	}
}

// A dataset error passes through the shard.
func TestSamplesPassesErrorsThrough(t *testing.T) {
	t.Parallel()
	boom := fmt.Errorf("dataset x.jsonl line 3: bad JSON")
	_, err := Samples{Shard: results.Shard{Index: 1, Count: 2}, From: failing{boom}}.Next()
	assert.ErrorIs(t, err, boom)
}

type failing struct{ err error }

func (f failing) Next() (suite.Sample, error) { return suite.Sample{}, f.err }
