package shard

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/metric"
	"github.com/evalgate/evalgate/internal/provider"
	"github.com/evalgate/evalgate/internal/results"
	"github.com/evalgate/evalgate/internal/run"
)

// sampleIDs are the ids of the fake dataset the shards below split.
func sampleIDs() []string {
	ids := make([]string, 24)
	for i := range ids {
		ids[i] = fmt.Sprintf("q-%02d", i)
	}
	return ids
}

func baseHeader() results.Header {
	return results.Header{
		Suite: "support", SuiteHash: "abc", ConfigHash: "cfg", Dataset: "data.jsonl", Repeats: 1,
		Started: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Targets: []results.TargetInfo{{ID: "base", Provider: "recorded", Model: "m1", Priced: true}, {ID: "cand", Provider: "bedrock", Model: "m2", Priced: true}},
		Metrics: []metric.Info{{Name: "f1"}},
	}
}

// record is target's answer to id, with numbers derived from both.
func record(id, target string) results.Record {
	n := 0
	for _, c := range id + target {
		n += int(c)
	}
	cost := float64(n%7) / 1000
	return results.Record{SampleID: id, Target: target, Output: "answer to " + id, LatencyMS: float64(100 + n%50),
		Usage: provider.Usage{InputTokens: 10 + n%5, OutputTokens: 20}, CostUSD: &cost, Scores: map[string]float64{"f1": float64(n%10) / 10}}
}

// writeShard writes shard sh of sampleIDs as evalgate run --shard does,
// with a summary totalled like the engine's; edit changes the header and
// extra records are appended.
func writeShard(t *testing.T, dir string, sh results.Shard, edit func(*results.Header), extra ...results.Record) string {
	t.Helper()
	h := baseHeader()
	h.Shard = &sh
	h.Started = h.Started.Add(time.Duration(sh.Index) * time.Minute)
	if edit != nil {
		edit(&h)
	}
	path := filepath.Join(dir, fmt.Sprintf("shard-%d-of-%d.jsonl", sh.Index, sh.Count))
	w, err := results.Create(path, h)
	require.NoError(t, err)
	var recs []results.Record
	for _, id := range sampleIDs() {
		if Holds(sh, id) {
			recs = append(recs, record(id, "base"), record(id, "cand"))
		}
	}
	recs = append(recs, extra...)
	sum := results.Summary{Finished: h.Started.Add(time.Minute), Status: results.StatusComplete, Targets: totals(h.Targets, recs)}
	for _, r := range recs {
		require.NoError(t, w.Write(r))
	}
	require.NoError(t, w.Close(sum))
	return path
}

// totals is the per-target summary of recs, as the engine totals it.
func totals(targets []results.TargetInfo, recs []results.Record) []results.TargetSummary {
	var out []results.TargetSummary
	for _, t := range targets {
		ts := results.TargetSummary{ID: t.ID, Means: map[string]float64{}, Scored: map[string]int{}, CostUSD: new(float64)}
		var lat []float64
		sum := 0.0
		for _, r := range recs {
			if r.Target != t.ID {
				continue
			}
			ts.Records++
			ts.Usage = ts.Usage.Add(r.Usage)
			*ts.CostUSD += *r.CostUSD
			lat = append(lat, r.LatencyMS)
			sum += r.Scores["f1"]
			ts.Scored["f1"]++
		}
		if ts.Scored["f1"] > 0 {
			ts.Means["f1"] = sum / float64(ts.Scored["f1"])
		}
		slices.Sort(lat)
		ts.LatencyP50MS, ts.LatencyP95MS = run.Quantile(lat, 0.5), run.Quantile(lat, 0.95)
		out = append(out, ts)
	}
	return out
}

// The merged file is what one unsharded run would have written: every
// record once, and the same summary.
func TestMergeJoinsEveryShardIntoOneResultsFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var paths []string
	for _, i := range []int{3, 1, 2} { // any order
		paths = append(paths, writeShard(t, dir, results.Shard{Index: i, Count: 3}, nil))
	}
	out := filepath.Join(dir, "merged.jsonl")
	sum, err := Merge(context.Background(), out, paths)
	require.NoError(t, err)

	h, recs, got, err := results.ReadAll(out)
	require.NoError(t, err, "the results reader accepts the merged file")
	assert.Nil(t, h.Shard, "the merged file is a whole run")
	assert.Equal(t, baseHeader().Started.Add(time.Minute), h.Started, "started when the first shard started")
	assert.Equal(t, "abc", h.SuiteHash)
	require.NotNil(t, got)
	assert.Equal(t, sum.Records, got.Records)
	assert.Len(t, recs, 2*len(sampleIDs()))
	assert.Equal(t, results.StatusComplete, got.Status)
	assert.Equal(t, baseHeader().Started.Add(4*time.Minute), got.Finished, "finished when the last shard finished")

	var whole []results.Record
	for _, id := range sampleIDs() {
		whole = append(whole, record(id, "base"), record(id, "cand"))
	}
	want := totals(baseHeader().Targets, whole)
	require.Len(t, got.Targets, 2)
	for i, ts := range got.Targets {
		w := want[i]
		assert.Equal(t, w.ID, ts.ID)
		assert.Equal(t, w.Records, ts.Records)
		assert.Equal(t, w.Usage, ts.Usage)
		assert.Equal(t, w.Scored, ts.Scored)
		assert.InDelta(t, w.Means["f1"], ts.Means["f1"], 1e-12)
		assert.InDelta(t, *w.CostUSD, *ts.CostUSD, 1e-12)
		assert.Equal(t, w.LatencyP50MS, ts.LatencyP50MS, "percentiles come from every shard's latencies")
		assert.Equal(t, w.LatencyP95MS, ts.LatencyP95MS)
	}
}

// A shard that stopped early makes the merged run incomplete, naming it.
func TestMergeOfAnIncompleteShardIsIncomplete(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p1 := writeShard(t, dir, results.Shard{Index: 1, Count: 2}, nil)
	p2 := filepath.Join(dir, "cut.jsonl")
	h := baseHeader()
	h.Shard = &results.Shard{Index: 2, Count: 2}
	w, err := results.Create(p2, h)
	require.NoError(t, err)
	require.NoError(t, w.Close(results.Summary{Status: results.StatusIncomplete, Reason: "budget spent", Targets: totals(h.Targets, nil)}))
	out := filepath.Join(dir, "m.jsonl")
	sum, err := Merge(context.Background(), out, []string{p1, p2})
	require.NoError(t, err)
	assert.Equal(t, results.StatusIncomplete, sum.Status)
	assert.Equal(t, p2+": budget spent", sum.Reason)
}

// Each refusal names the files and what to do; nothing is written.
func TestMergeRefusesWhatIsNotOneRunsShards(t *testing.T) {
	t.Parallel()
	of3 := func(i int) results.Shard { return results.Shard{Index: i, Count: 3} }
	stray := ""
	for _, id := range sampleIDs() {
		if Of(id, 3) != 1 {
			stray = id
			break
		}
	}
	for name, tc := range map[string]struct {
		files func(t *testing.T, dir string) []string
		want  []string
	}{
		"a missing shard": {func(t *testing.T, dir string) []string {
			return []string{writeShard(t, dir, of3(1), nil), writeShard(t, dir, of3(3), nil)}
		}, []string{"missing shard 2/3", "shard-1-of-3.jsonl", "give the results of every shard"}},
		"a shard given twice": {func(t *testing.T, dir string) []string {
			p := writeShard(t, dir, of3(2), nil)
			return []string{writeShard(t, dir, of3(1), nil), p, p, writeShard(t, dir, of3(3), nil)}
		}, []string{"are both shard 2/3", "shard-2-of-3.jsonl"}},
		"another N": {func(t *testing.T, dir string) []string {
			return []string{writeShard(t, dir, of3(1), nil), writeShard(t, dir, results.Shard{Index: 2, Count: 2}, nil)}
		}, []string{"shard-2-of-2.jsonl is shard 2/2 but", "shard-1-of-3.jsonl is shard 1/3", "same N"}},
		"not a shard": {func(t *testing.T, dir string) []string {
			return []string{writeShard(t, dir, of3(1), nil), writeShard(t, dir, of3(2), func(h *results.Header) { h.Shard = nil })}
		}, []string{"is not a shard's results", "evalgate run --shard i/N"}},
		"another suite": {func(t *testing.T, dir string) []string {
			return []string{writeShard(t, dir, of3(1), nil), writeShard(t, dir, of3(2), func(h *results.Header) { h.Suite = "other" }), writeShard(t, dir, of3(3), nil)}
		}, []string{"shard-2-of-3.jsonl's suite (other) differs from", "shard-1-of-3.jsonl's (support)"}},
		"another suite hash": {func(t *testing.T, dir string) []string {
			return []string{writeShard(t, dir, of3(1), nil), writeShard(t, dir, of3(2), nil), writeShard(t, dir, of3(3), func(h *results.Header) { h.SuiteHash = "def" })}
		}, []string{"shard-3-of-3.jsonl's suite hash (def) differs", "same revision"}},
		"other targets": {func(t *testing.T, dir string) []string {
			return []string{writeShard(t, dir, of3(1), nil), writeShard(t, dir, of3(2), func(h *results.Header) { h.Targets[1].Model = "m3" }), writeShard(t, dir, of3(3), nil)}
		}, []string{"shard-2-of-3.jsonl's targets", "m3", "same targets"}},
		"other repeats": {func(t *testing.T, dir string) []string {
			return []string{writeShard(t, dir, of3(1), nil), writeShard(t, dir, of3(2), nil), writeShard(t, dir, of3(3), func(h *results.Header) { h.Repeats = 2 })}
		}, []string{"shard-3-of-3.jsonl's repeats (2) differs", "--repeats"}},
		"a duplicate record": {func(t *testing.T, dir string) []string {
			var id string
			for _, s := range sampleIDs() {
				if Of(s, 3) == 2 {
					id = s
					break
				}
			}
			return []string{writeShard(t, dir, of3(1), nil), writeShard(t, dir, of3(2), nil, record(id, "cand")), writeShard(t, dir, of3(3), nil)}
		}, []string{"duplicate record (sample", `target "cand", repeat 0) in`, "shard-2-of-3.jsonl"}},
		"a sample in the wrong shard": {func(t *testing.T, dir string) []string {
			return []string{writeShard(t, dir, of3(1), nil, record(stray, "base")), writeShard(t, dir, of3(2), nil), writeShard(t, dir, of3(3), nil)}
		}, []string{"shard-1-of-3.jsonl is shard 1/3 but holds sample " + fmt.Sprintf("%q", stray)}},
		"an unknown target": {func(t *testing.T, dir string) []string {
			r := record("q-00", "ghost")
			return []string{writeShard(t, dir, results.Shard{Index: 1, Count: 1}, nil, r)}
		}, []string{`target "ghost", which its header does not name`}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			files := tc.files(t, dir)
			out := filepath.Join(dir, "merged.jsonl")
			_, err := Merge(context.Background(), out, files)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrMismatch)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			_, statErr := os.Stat(out)
			assert.True(t, os.IsNotExist(statErr), "nothing is written")
			_, statErr = os.Stat(results.PartialPath(out))
			assert.True(t, os.IsNotExist(statErr), "no partial file is left")
		})
	}
}

// A file that is not results at all is refused with the reader's error.
func TestMergeRefusesATruncatedShard(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := writeShard(t, dir, results.Shard{Index: 1, Count: 1}, nil)
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(p, b[:len(b)/2], 0o644))
	_, err = Merge(context.Background(), filepath.Join(dir, "m.jsonl"), []string{p})
	require.Error(t, err)
	assert.Contains(t, err.Error(), p)
	_, err = Merge(context.Background(), filepath.Join(dir, "m.jsonl"), nil)
	assert.ErrorContains(t, err, "no shard results given")
}
