package gate

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/results"
	"github.com/evalgate/evalgate/internal/suite"
)

// The gate numbers samples and keeps records as columns: the verdict must
// not depend on the order of the records in the file, nor on whether the
// two sides are two targets of one file or two files. Repeats, clusters,
// failed calls and samples on one side only all go through the pairing.
func TestCompareIgnoresTheOrderOfRecords(t *testing.T) {
	t.Parallel()
	base := genRecords(sim{target: "prod", latency: 800, cost: 0.002, seed: 1}, 40, 3)
	cand := genRecords(sim{target: "cand", shift: -0.03, passP: -0.05, latency: 700, cost: 0.003, seed: 2}, 40, 3)
	cand[7].Error, cand[7].Scores = &results.RecordError{Kind: "invalid_request", Message: "refused"}, nil
	delete(cand[11].Scores, "correctness")
	cand[20].Cluster, base[20].Cluster = "", ""
	base = base[3:] // sample s1000 is the target's only
	cand = append(cand, results.Record{SampleID: "s0999", Target: "cand", LatencyMS: 5})
	cfg := Config{Cluster: "doc", Criteria: []suite.Criterion{
		{Metric: "correctness", MaxDrop: dropPct(0.05)},
		{Metric: "exact_match", MaxDrop: &suite.Margin{Value: 0.02}},
		{Metric: "latency_p95", MaxIncrease: dropPct(0.2)},
		{Metric: "error_rate", MaxErrorRate: ptr(0.05)},
	}}
	h := header("h", defaultInfo, "prod", "cand")
	h.Repeats = 3
	verdict := func(bs, ts Side) string {
		t.Helper()
		v, err := Compare(context.Background(), bs, ts, cfg)
		require.NoError(t, err)
		// Where the records came from is not part of the comparison.
		v.Baseline.Path, v.Target.Path = "", ""
		j, err := json.Marshal(v)
		require.NoError(t, err)
		return string(j)
	}

	inOrder := tmp(t, "in-order.jsonl")
	writeFile(t, inOrder, h, append(slices.Clone(base), cand...), true)
	want := verdict(Side{Path: inOrder, Target: "prod"}, Side{Path: inOrder, Target: "cand"})

	shuffled := tmp(t, "shuffled.jsonl")
	all := append(slices.Clone(cand), base...)
	rand.New(rand.NewPCG(5, 5)).Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	writeFile(t, shuffled, h, all, true)
	assert.JSONEq(t, want, verdict(Side{Path: shuffled, Target: "prod"}, Side{Path: shuffled, Target: "cand"}))

	bp, tp := tmp(t, "base.jsonl"), tmp(t, "cand.jsonl")
	reversed := slices.Clone(base)
	slices.Reverse(reversed)
	writeFile(t, bp, h, reversed, true)
	writeFile(t, tp, h, cand, true)
	assert.JSONEq(t, want, verdict(Side{Path: bp, Target: "prod"}, Side{Path: tp, Target: "cand"}))

	var v Verdict
	require.NoError(t, json.Unmarshal([]byte(want), &v))
	assert.Equal(t, 117, v.Pairs, "39 samples x 3 repeats")
	assert.Equal(t, []string{"s0999", "s1000"}, v.TargetOnly, "sorted")
	assert.Equal(t, 2, v.TargetOnlyCount)
	assert.Equal(t, 11, v.Clusters, "10 documents, and s1020 without one alone")
	assert.NotEmpty(t, v.Regressed)
}

// compareAggregates sorts a group's values in place for its percentiles,
// which it may only do once no other statistic of the group needs them
// paired.
func TestAggregateGroupsListPercentilesLast(t *testing.T) {
	t.Parallel()
	for _, g := range aggregateGroups {
		seen := false
		for _, s := range g.stats {
			if s.kind == aggQuantile {
				seen = true
			} else {
				assert.False(t, seen, "%s: %s follows a percentile", g.name, s.name)
			}
		}
	}
}

// The name table numbers names in the order they come, however far it grows,
// and finds each again.
func TestNameTableNumbersNamesOnce(t *testing.T) {
	t.Parallel()
	n := newNames()
	var names []string
	for i := range 5000 {
		names = append(names, "s"+strconv.Itoa((i*7919)%5000))
	}
	for i, s := range names {
		require.Equal(t, int32(i), n.id(s), s)
	}
	for i, s := range names {
		require.Equal(t, int32(i), n.id(s), "%s again", s)
		got, ok := n.find(s)
		require.True(t, ok)
		require.Equal(t, int32(i), got)
	}
	_, ok := n.find("s5000")
	assert.False(t, ok)
	assert.Len(t, n.list, 5000)
	rank := n.ranks()
	sorted := slices.Clone(names)
	slices.Sort(sorted)
	for i, s := range names {
		assert.Equal(t, s, sorted[rank[i]])
	}
	_, ok = newNames().find("x")
	assert.False(t, ok, "an empty table finds nothing")
}
