package gate

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/evalgate/evalgate/internal/metric"
	"github.com/evalgate/evalgate/internal/provider"
	"github.com/evalgate/evalgate/internal/results"
	"github.com/stretchr/testify/require"
)

// Metric definitions of the fixtures.
var (
	infoScore   = metric.Info{Name: "correctness", Min: 0, Max: 1, Direction: metric.HigherIsBetter}
	infoPass    = metric.Info{Name: "exact_match", Min: 0, Max: 1, Direction: metric.HigherIsBetter, PassFail: true}
	infoJudge   = metric.Info{Name: "llm_judge_score_source_llm", Min: 0, Max: 1, Direction: metric.HigherIsBetter}
	infoHuman   = metric.Info{Name: "human_score_source_llm", Min: 0, Max: 1, Direction: metric.HigherIsBetter}
	fixedTime   = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	defaultInfo = []metric.Info{infoScore, infoPass}
)

func header(suiteHash string, metrics []metric.Info, targets ...string) results.Header {
	h := results.Header{Suite: "support", SuiteHash: suiteHash, Dataset: "data.jsonl", Started: fixedTime, Repeats: 1, Metrics: metrics}
	for _, id := range targets {
		h.Targets = append(h.Targets, results.TargetInfo{ID: id, Provider: "recorded", Model: id + "-model", Priced: true})
	}
	return h
}

// writeFile writes a results file; complete=false leaves it without its
// summary line, as a killed run would.
func writeFile(t *testing.T, path string, h results.Header, recs []results.Record, complete bool) {
	t.Helper()
	w, err := results.Create(path, h)
	require.NoError(t, err)
	for _, r := range recs {
		require.NoError(t, w.Write(r))
	}
	if !complete {
		require.NoError(t, w.Abort())
		return
	}
	require.NoError(t, w.Close(results.Summary{Finished: fixedTime, Status: results.StatusComplete}))
}

// sim describes a generated target: per-sample quality with a shift.
type sim struct {
	target  string
	shift   float64 // added to correctness
	passP   float64 // added to pass probability
	latency float64 // mean latency ms
	cost    float64 // cost per call USD
	seed    uint64
}

// genRecords generates n samples x repeats of a target whose scores depend on
// a per-sample difficulty shared by every target (so pairs correlate).
func genRecords(s sim, n, repeats int) []results.Record {
	diff := rand.New(rand.NewPCG(42, 42))
	rng := rand.New(rand.NewPCG(s.seed, 7))
	var out []results.Record
	for i := range n {
		d := diff.Float64()
		for r := range repeats {
			c := math.Min(1, math.Max(0, 0.3+0.5*d+s.shift+rng.NormFloat64()*0.1))
			pass := 0.0
			if rng.Float64() < 0.2+0.7*d+s.passP {
				pass = 1
			}
			cost := s.cost * (0.8 + 0.4*rng.Float64())
			out = append(out, results.Record{
				SampleID: "s" + strconv.Itoa(1000+i), Target: s.target, Repeat: r,
				Cluster: "doc" + strconv.Itoa(i/4),
				Input:   "question " + strconv.Itoa(i), Reference: "answer " + strconv.Itoa(i),
				Output:    s.target + " says " + strconv.Itoa(i),
				Usage:     provider.Usage{InputTokens: 100 + i%7, OutputTokens: 40 + i%5},
				LatencyMS: s.latency * (0.5 + rng.ExpFloat64()*0.5), TTFTMS: s.latency / 4,
				CostUSD: &cost,
				Scores:  map[string]float64{"correctness": c, "exact_match": pass},
			})
		}
	}
	return out
}

func tmp(t *testing.T, name string) string { return filepath.Join(t.TempDir(), name) }
