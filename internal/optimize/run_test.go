package optimize

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/gate"
	"github.com/evalgate/evalgate/internal/metric"
	"github.com/evalgate/evalgate/internal/provider"
	"github.com/evalgate/evalgate/internal/results"
)

var f1Info = metric.Info{Name: "f1", Min: 0, Max: 1, Direction: metric.HigherIsBetter}

// quality is a variant's f1 on a sample, and its cost per call.
type quality func(variant, sample string) (f1, cost float64)

// fakeEvaluator writes a results file per phase from quality, and remembers
// what each phase was asked to run.
type fakeEvaluator struct {
	t   *testing.T
	dir string
	q   quality
	// failing is a variant whose every call fails.
	failing string
	calls   []evalCall
}

type evalCall struct {
	phase    string
	variants []string
	ids      map[string]bool
}

func (f *fakeEvaluator) Evaluate(_ context.Context, phase string, variants []Variant, ids map[string]bool) (string, error) {
	var names []string
	h := results.Header{Suite: "s", SuiteHash: "h", Dataset: "d.jsonl", Started: time.Unix(0, 0).UTC(), Repeats: 1, Metrics: []metric.Info{f1Info}}
	for _, v := range variants {
		names = append(names, v.ID)
		h.Targets = append(h.Targets, results.TargetInfo{ID: v.ID, Provider: "command", Model: "m", Priced: true})
	}
	f.calls = append(f.calls, evalCall{phase, names, ids})
	path := filepath.Join(f.dir, phase+".results.jsonl")
	w, err := results.Create(path, h)
	require.NoError(f.t, err)
	for _, id := range slices.Sorted(maps.Keys(ids)) {
		for _, v := range names {
			score, cost := f.q(v, id)
			rec := results.Record{SampleID: id, Target: v, Output: "x", LatencyMS: 100, CostUSD: &cost, Scores: map[string]float64{"f1": score}}
			if v == f.failing {
				rec = results.Record{SampleID: id, Target: v, Error: &results.RecordError{Kind: "throttled", Message: "rate exceeded"}}
			}
			require.NoError(f.t, w.Write(rec))
		}
	}
	require.NoError(f.t, w.Close(results.Summary{Status: results.StatusComplete}))
	return path, nil
}

func testPlan(n int, cands ...string) Plan {
	p := Plan{Control: Candidate{ID: GenControl, Generator: GenControl, User: "{{q}}"}, Split: 0.5, Seed: 3,
		Objective: Objective{Metric: "f1", Tolerance: DefaultTolerance}, Gate: gate.Config{Confidence: 0.95}}
	for i := range n {
		p.Units = append(p.Units, Unit{ID: fmt.Sprintf("s%02d", i), Cluster: []string{"x", "y"}[i%2]})
	}
	for _, c := range cands {
		p.Candidates = append(p.Candidates, Candidate{ID: c, Generator: GenFiles, User: "{{q}} " + c})
	}
	return p
}

// jitter keeps scores from being constant, which the gate's intervals need.
func jitter(sample string) float64 { return float64(sample[len(sample)-1]%3) * 0.01 }

func TestRunSelectsOnDevOnlyAndGatesOnHeldOut(t *testing.T) {
	t.Parallel()
	p := testPlan(24, "a", "b")
	dev, held, err := Split(p.Units, p.Split, p.Seed)
	require.NoError(t, err)
	// a is the better prompt on the dev samples; b would look far better on
	// the held-out ones. If selection read a held-out record, b would win.
	ev := &fakeEvaluator{t: t, dir: t.TempDir(), q: func(v, s string) (float64, float64) {
		base := map[string]float64{GenControl: 0.5, "a": 0.8, "b": 0.6}[v]
		if held[s] && v == "b" {
			base = 1
		}
		return base - jitter(s), 0.001
	}}
	out, err := Run(context.Background(), p, ev)
	require.NoError(t, err)

	require.Len(t, ev.calls, 2)
	assert.Equal(t, PhaseDev, ev.calls[0].phase)
	assert.Equal(t, []string{GenControl, "a", "b"}, ev.calls[0].variants)
	assert.Equal(t, dev, ev.calls[0].ids, "the dev phase runs exactly the dev samples")
	for id := range ev.calls[0].ids {
		assert.False(t, held[id], "held-out sample %s was run before the choice", id)
	}
	assert.Equal(t, PhaseHeldOut, ev.calls[1].phase)
	assert.Equal(t, []string{GenControl, "a"}, ev.calls[1].variants, "only the winner and the baseline see the held-out part")
	assert.Equal(t, held, ev.calls[1].ids)

	assert.Equal(t, "a", out.Winner.ID)
	assert.Equal(t, "a", out.Ranking.Scores[0].ID)
	assert.InDelta(t, 0.3, out.Ranking.Scores[0].Delta.Est, 1e-9)
	assert.Less(t, out.Ranking.Scores[0].Primary.Lo, out.Ranking.Scores[0].Primary.Est)
	assert.InDelta(t, 0.5-0.01, out.Ranking.Control.Primary.Est, 0.01)
	require.NotNil(t, out.Verdict)
	assert.Equal(t, GenControl, out.Verdict.Baseline.Target)
	assert.Equal(t, "a", out.Verdict.Target.Target)
	assert.Equal(t, len(held), out.Verdict.Pairs)
}

func TestRunGatesAgainstASuiteBaseline(t *testing.T) {
	t.Parallel()
	p := testPlan(10, "a")
	p.Baseline = "source"
	ev := &fakeEvaluator{t: t, dir: t.TempDir(), q: func(v, s string) (float64, float64) { return 0.7 - jitter(s), 0.001 }}
	out, err := Run(context.Background(), p, ev)
	require.NoError(t, err)
	assert.Equal(t, []string{"source", "a"}, ev.calls[1].variants)
	assert.Equal(t, "source", out.Verdict.Baseline.Target)
}

func TestObjectiveTieBreaksAndWeights(t *testing.T) {
	t.Parallel()
	p := testPlan(20, "pricey", "cheap")
	q := func(v, s string) (float64, float64) {
		switch v {
		case "pricey":
			return 0.805 - jitter(s), 0.01
		case "cheap":
			return 0.800 - jitter(s), 0.001
		}
		return 0.5 - jitter(s), 0.002
	}
	out, err := Run(context.Background(), p, &fakeEvaluator{t: t, dir: t.TempDir(), q: q})
	require.NoError(t, err)
	assert.Equal(t, "cheap", out.Winner.ID, "within the tolerance, the cheaper wins")
	assert.Contains(t, out.Ranking.Why, "lowest cost_per_1k")

	p.Objective.Tolerance = 0
	out, err = Run(context.Background(), p, &fakeEvaluator{t: t, dir: t.TempDir(), q: q})
	require.NoError(t, err)
	assert.Equal(t, "pricey", out.Winner.ID, "no tolerance: the best mean wins")

	p.Objective.Weights = map[string]float64{"f1": 1, "cost_per_1k": -0.1}
	out, err = Run(context.Background(), p, &fakeEvaluator{t: t, dir: t.TempDir(), q: q})
	require.NoError(t, err)
	assert.Equal(t, "cheap", out.Winner.ID, "0.80 - 0.1 x $1/1k beats 0.805 - 0.1 x $10/1k")
}

func TestRunNeedsACandidate(t *testing.T) {
	t.Parallel()
	_, err := Run(context.Background(), testPlan(10), &fakeEvaluator{t: t})
	assert.ErrorContains(t, err, "no candidate passed its checks")
}

func TestGenerateReportsAndDropsFailures(t *testing.T) {
	t.Parallel()
	src, err := NativeSource("p", "", "Q: {{question}}", []string{"question"})
	require.NoError(t, err)
	k := Checks{Required: src.Fields, Columns: []string{"question"}}
	gens := []Generator{
		fixedGen{name: "good", cands: []Candidate{{ID: "good", Generator: "good", User: "Question: {{question}}"}}},
		fixedGen{name: "lossy", cands: []Candidate{{ID: "lossy", Generator: "lossy", User: "Answer it."}}},
		fixedGen{name: "empty", cands: []Candidate{{ID: "empty", Generator: "empty", User: ""}}},
		fixedGen{name: "broken", err: errors.New("model call failed")},
	}
	kept, dropped := Generate(context.Background(), gens, src, provider.Params{}, k)
	require.Len(t, kept, 1)
	assert.Equal(t, "good", kept[0].ID)
	require.Len(t, dropped, 3)
	assert.Contains(t, dropped[0].Reason, "drops the source prompt's placeholders {{question}}")
	assert.Contains(t, dropped[1].Reason, "the prompt is empty")
	assert.Equal(t, "broken", dropped[2].Generator)
}

type fixedGen struct {
	name  string
	cands []Candidate
	err   error
}

func (f fixedGen) Name() string { return f.name }
func (f fixedGen) Generate(context.Context, *Source, provider.Params) ([]Candidate, error) {
	return f.cands, f.err
}

func TestACandidateWhoseCallsAllFailedIsNotRanked(t *testing.T) {
	t.Parallel()
	p := testPlan(16, "broken", "ok")
	ev := &fakeEvaluator{t: t, dir: t.TempDir(), failing: "broken", q: func(v, s string) (float64, float64) {
		return map[string]float64{GenControl: 0.5, "ok": 0.7}[v] - jitter(s), 0.001
	}}
	out, err := Run(context.Background(), p, ev)
	require.NoError(t, err)
	assert.Equal(t, "ok", out.Winner.ID)
	require.Len(t, out.Ranking.Unranked, 1)
	assert.Equal(t, "broken", out.Ranking.Unranked[0].ID)
	assert.Contains(t, out.Ranking.Unranked[0].Reason, "the primary metric f1 was not scored for broken on the dev part (none of its calls could be evaluated: the model service failed them")
	// Its throttled samples leave the pairs with it; the control is still
	// scored on every dev sample, from the comparison with ok.
	assert.Equal(t, len(out.DevIDs), out.Ranking.Control.Records)
	assert.InDelta(t, 0.49, out.Ranking.Control.Primary.Est, 0.01, "0.5 less the jitter")
	assert.False(t, math.IsNaN(out.Ranking.Control.Primary.Lo), "the control has an interval")
}
