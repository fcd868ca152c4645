package gate

import (
	"context"
	"strings"
	"testing"

	"github.com/evalgate/evalgate/internal/results"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ReadPairs returns the pairs the verdict compared, with both sides' texts:
// not a sample on one side only, nor one whose call the service failed.
func TestReadPairs(t *testing.T) {
	t.Parallel()
	rec := func(target, id, out string, score float64, err *results.RecordError) results.Record {
		r := results.Record{SampleID: id, Target: target, Input: "q " + id, Reference: "ref " + id, Output: out,
			LatencyMS: 100, Details: map[string]string{"correctness": "reason " + target + " " + id}}
		if err == nil {
			r.Scores = map[string]float64{"correctness": score, "exact_match": 1}
		} else {
			r.Error = err
		}
		return r
	}
	throttled := &results.RecordError{Kind: "throttled", Message: "rate exceeded"}
	empty := &results.RecordError{Kind: "empty", Message: "no answer"}
	recs := []results.Record{
		rec("prod", "a", "base a", 0.9, nil), rec("cand", "a", "cand a", 0.5, nil),
		rec("prod", "b", "base b", 0.5, nil), rec("cand", "b", "cand b", 0, empty), // the target's failure: paired
		rec("prod", "c", "base c", 0.5, throttled), rec("cand", "c", "cand c", 0.5, nil), // the service's: left out
		rec("prod", "d", "base d", 0.5, nil), // baseline only
		rec("other", "a", strings.Repeat("x", 10), 0.1, nil),
	}
	for _, twoFiles := range []bool{false, true} {
		var base, target Side
		if twoFiles {
			bp, tp := tmp(t, "base.jsonl"), tmp(t, "target.jsonl")
			writeFile(t, bp, header("h", defaultInfo, "prod"), []results.Record{recs[0], recs[2], recs[4], recs[6]}, true)
			writeFile(t, tp, header("h", defaultInfo, "cand", "other"), []results.Record{recs[1], recs[3], recs[5], recs[7]}, true)
			base, target = Side{Path: bp}, Side{Path: tp, Target: "cand"}
		} else {
			p := tmp(t, "run.jsonl")
			writeFile(t, p, header("h", defaultInfo, "prod", "cand", "other"), recs, true)
			base, target = Side{Path: p, Target: "prod"}, Side{Path: p, Target: "cand"}
		}
		v, err := Compare(context.Background(), base, target, Config{})
		require.NoError(t, err)
		set, err := ReadPairs(context.Background(), v, 0)
		require.NoError(t, err)
		require.Len(t, set.Rows, 2, "two files: %v", twoFiles)
		assert.Equal(t, v.Pairs, set.Total)
		a, b := set.Rows[0], set.Rows[1]
		assert.Equal(t, PairRow{SampleID: "a", Input: "q a", Reference: "ref a", BaselineOutput: "base a", TargetOutput: "cand a",
			BaselineScores: map[string]float64{"correctness": 0.9, "exact_match": 1}, TargetScores: map[string]float64{"correctness": 0.5, "exact_match": 1},
			BaselineDetails: map[string]string{"correctness": "reason prod a"}, TargetDetails: map[string]string{"correctness": "reason cand a"}}, a)
		assert.Equal(t, "b", b.SampleID)
		assert.Equal(t, "empty: no answer", b.TargetError)
		assert.Empty(t, b.TargetScores)
	}
}
