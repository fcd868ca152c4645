package report

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/evalgate/evalgate/internal/gate"
	"github.com/evalgate/evalgate/internal/golden"
	"github.com/evalgate/evalgate/internal/metric"
	"github.com/evalgate/evalgate/internal/provider"
	"github.com/evalgate/evalgate/internal/results"
	"github.com/evalgate/evalgate/internal/suite"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hostile is model output that tries everything a PR comment must not do.
const hostile = "| broken | table |\n\n# Heading\n@octocat please look <img src=x onerror=alert(1)> " +
	"[click](https://evil.example) ![pixel](https://evil.example/p.png) www.evil.example " +
	"```\n</pre></td></table></details><script>alert(1)</script>\n\n\n**bold** _it_ \x1b[31mred\x00"

var fixedTime = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// writeRun writes a results file of one target with generated scores.
func writeRun(t *testing.T, dir, target string, shift, latency, cost float64, seed uint64, n, repeats int, out func(i int) string) string {
	t.Helper()
	path := filepath.Join(dir, target+".jsonl")
	h := results.Header{Suite: "support", SuiteHash: "abc", Dataset: "d.jsonl", Started: fixedTime, Repeats: repeats,
		Targets: []results.TargetInfo{{ID: target, Provider: "recorded", Model: target + "-model", Priced: true}},
		Metrics: []metric.Info{
			{Name: "correctness", Min: 0, Max: 1, Direction: metric.HigherIsBetter},
			{Name: "exact_match", Min: 0, Max: 1, Direction: metric.HigherIsBetter, PassFail: true},
			{Name: "llm_judge_score_source_llm", Min: 0, Max: 1, Direction: metric.HigherIsBetter},
			{Name: "human_score_source_llm", Min: 0, Max: 1, Direction: metric.HigherIsBetter},
		}}
	w, err := results.Create(path, h)
	require.NoError(t, err)
	diff := rand.New(rand.NewPCG(9, 9))
	rng := rand.New(rand.NewPCG(seed, 1))
	for i := range n {
		d := diff.Float64()
		for r := range repeats {
			c := math.Min(1, math.Max(0, 0.3+0.5*d+shift+rng.NormFloat64()*0.1))
			pass := 0.0
			if rng.Float64() < 0.2+0.7*d+shift {
				pass = 1
			}
			cst := cost
			require.NoError(t, w.Write(results.Record{
				SampleID: "q" + strconv.Itoa(100+i), Target: target, Repeat: r,
				Input: "What is item " + strconv.Itoa(i) + "?", Reference: "Item " + strconv.Itoa(i),
				Output: out(i), Usage: provider.Usage{InputTokens: 120, OutputTokens: 30 + i%9},
				LatencyMS: latency + float64(i%13)*20, TTFTMS: latency / 5, CostUSD: &cst,
				Scores: map[string]float64{"correctness": c, "exact_match": pass,
					"llm_judge_score_source_llm": math.Round(d*10) / 10, "human_score_source_llm": math.Round((d+rng.NormFloat64()*0.15)*10) / 10},
			}))
		}
	}
	require.NoError(t, w.Close(results.Summary{Finished: fixedTime, Status: results.StatusComplete}))
	return path
}

func compareRuns(t *testing.T, cfg gate.Config, repeats int, targetOut func(i int) string) *gate.Verdict {
	t.Helper()
	dir := t.TempDir()
	bp := writeRun(t, dir, "prod", 0, 900, 0.0021, 1, 60, repeats, func(i int) string { return "The answer is " + strconv.Itoa(i) + "." })
	tp := writeRun(t, dir, "cand", -0.08, 700, 0.0009, 2, 60, repeats, targetOut)
	v, err := gate.Compare(context.Background(), gate.Side{Path: bp}, gate.Side{Path: tp}, cfg)
	require.NoError(t, err)
	// The paths are temporary; the golden files must not depend on them.
	v.Baseline.Path, v.Target.Path = "base.jsonl", "target.jsonl"
	return v
}

func testCriteria() []suite.Criterion {
	f := 0.5
	er := 0.02
	return []suite.Criterion{
		{Metric: "correctness", Min: &f, MaxDrop: &suite.Margin{Value: 0.03}},
		{Metric: "exact_match", MaxDrop: &suite.Margin{Value: 0.05, Relative: true}, Mode: "non_inferiority"},
		{Metric: "cost_per_1k", MaxIncrease: &suite.Margin{Value: 0}},
		{Metric: "latency_p95", MaxIncrease: &suite.Margin{Value: 0.25, Relative: true}, Severity: "warn"},
		{Metric: "error_rate", MaxErrorRate: &er},
	}
}

func TestMarkdownRegressed(t *testing.T) {
	t.Parallel()
	v := compareRuns(t, gate.Config{Criteria: testCriteria(), MonthlyCalls: 2_000_000, Samples: 2}, 1,
		func(i int) string { return hostile + " #" + strconv.Itoa(i) })
	require.Equal(t, gate.StatusRegressed, v.Status)
	md := Markdown(v, Options{})
	golden.Assert(t, md)
	assertSafe(t, md)
}

// TestMarkdownPromptCache shows each side's prompt-cache tokens and what
// caching saved (or, when writes outweigh reads, cost) in the Cost section.
func TestMarkdownPromptCache(t *testing.T) {
	t.Parallel()
	v := compareRuns(t, gate.Config{Criteria: testCriteria()[2:3], Samples: 1}, 1,
		func(i int) string { return "Item " + strconv.Itoa(i) })
	v.Baseline.CacheReadTokens, v.Baseline.CacheWriteTokens, v.Baseline.CacheSavingUSD = 0, 2400, -0.00048
	v.Target.CacheReadTokens, v.Target.CacheWriteTokens, v.Target.CacheSavingUSD = 70_800, 1200, 0.050736
	md := Markdown(v, Options{Title: "support-answers"})
	golden.Assert(t, md)
	assert.Contains(t, md, "Target prompt cache: 70,800 tokens read, 1,200 written; it saved $0.0507 against the input price.")
	assert.Contains(t, md, "Baseline prompt cache: 0 tokens read, 2,400 written; it cost $0.0005 more than the input price.")
}

func TestMarkdownRepeats(t *testing.T) {
	t.Parallel()
	v := compareRuns(t, gate.Config{Criteria: testCriteria()[1:2], Samples: 1}, 3,
		func(i int) string { return "Item " + strconv.Itoa(i) })
	golden.Assert(t, Markdown(v, Options{Title: "support-answers"}))
}

func TestMarkdownStates(t *testing.T) {
	t.Parallel()
	nan := math.NaN()
	tests := []struct {
		name string
		v    *gate.Verdict
	}{
		{name: "incomplete", v: &gate.Verdict{
			Status: gate.StatusIncomplete, Reason: "nothing to compare: no (sample id, repeat) pair is on both sides (baseline 3 records, target 2)",
			Baseline: gate.SideInfo{Target: "prod"}, Target: gate.SideInfo{Target: "cand"}, Mode: suite.ModeRegression, Confidence: 0.95,
			BaselineOnly: []string{"a", "b", "c"}, BaselineOnlyCount: 3, TargetOnly: []string{"x|y", "@z"}, TargetOnlyCount: 2,
			Cost: gate.CostProjection{BaselinePer1K: gate.Num(nan), TargetPer1K: gate.Num(nan)},
		}},
		{name: "error", v: &gate.Verdict{
			Status: gate.StatusError, Reason: `criteria cannot be checked: bleu max_drop: metric "bleu" is in neither results file`,
			Baseline: gate.SideInfo{Target: "prod"}, Target: gate.SideInfo{Target: "cand"}, Mode: suite.ModeNonInferiority, Confidence: 0.9,
			Pairs: 10, Samples: 10, Evaluated: 10,
			Criteria: []gate.CriterionResult{{Metric: "bleu", Check: "max_drop", Mode: suite.ModeNonInferiority, Severity: suite.SeverityFail,
				Status: gate.CheckError, Reason: `metric "bleu" is in neither results file`, Baseline: gate.Num(nan), Target: gate.Num(nan),
				Limit: gate.Num(nan), MDE: gate.Num(nan), Estimate: gate.Interval{Est: nan, Lo: nan, Hi: nan}}},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			golden.Assert(t, Markdown(tc.v, Options{}))
			// The HTML report draws the same states: no pairs, no interval.
			page, err := HTML(tc.v, nil, HTMLOptions{})
			require.NoError(t, err)
			assert.Contains(t, string(page), `id="verdict">`+string(tc.v.Status)+"<")
			assert.NotContains(t, string(page), "NaN")
		})
	}
}

// assertSafe checks that nothing from model output became Markdown or HTML.
func assertSafe(t *testing.T, md string) {
	t.Helper()
	for _, bad := range []string{"@octocat", "<img", "<script", "](https://", "https://evil", "www.evil", "\x1b", "\x00", "\n# Heading", "</pre></td></table></details><script>"} {
		assert.NotContains(t, md, bad)
	}
	// Every <details> closes, and no sample text holds a blank line that
	// would end an HTML block early.
	assert.Equal(t, strings.Count(md, "<details>"), strings.Count(md, "</details>"))
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "<table><tr><th>Baseline") {
			assert.True(t, strings.HasSuffix(line, "</td></tr></table>"), line)
		}
	}
}

func TestMarkdownFitsGitHubLimit(t *testing.T) {
	t.Parallel()
	huge := strings.Repeat("long answer with @mentions and | pipes\n", 2000)
	v := compareRuns(t, gate.Config{Criteria: testCriteria(), Samples: 20}, 1, func(i int) string { return huge })
	for _, limit := range []int{0, 30000, 12000, 6000} {
		md := Markdown(v, Options{MaxChars: limit})
		want := limit
		if want == 0 {
			want = DefaultMaxChars
		}
		assert.LessOrEqual(t, len(md), want, "limit %d", limit)
		assert.LessOrEqual(t, utf8.RuneCountInString(md), GitHubCommentLimit)
		assert.Contains(t, md, "### Criteria", "the criteria survive shortening (limit %d)", limit)
		assertSafe(t, md)
	}
	full := Markdown(v, Options{MaxChars: 1 << 30})
	assert.Greater(t, len(full), DefaultMaxChars, "the test must need shortening")
	assert.Contains(t, Markdown(v, Options{MaxChars: 6000}), "left out to fit")
}

func TestEscape(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, inline, block string
	}{
		{in: "plain text", inline: "plain text", block: "plain text"},
		{in: "a|b", inline: `a\|b`, block: "a|b"},
		{in: "@team", inline: "@\u200bteam", block: "@\u200bteam"},
		{in: "<b>x</b>", inline: "&lt;b&gt;x&lt;/b&gt;", block: "&lt;b&gt;x&lt;/b&gt;"},
		{in: "[l](u)", inline: `\[l\]\(u\)`, block: "[l](u)"},
		{in: "http://x", inline: "http\\:\u200b//x", block: "http:\u200b//x"},
		{in: "a\n\nb", inline: "a  b", block: "a&#10;&#10;b"},
		{in: "a\r\nb\x07", inline: "a b", block: "a&#10;b"},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.inline, Inline(tc.in), "inline %q", tc.in)
		assert.Equal(t, tc.block, Block(tc.in), "block %q", tc.in)
	}
}

func TestJSON(t *testing.T) {
	t.Parallel()
	v := compareRuns(t, gate.Config{Criteria: testCriteria(), Samples: 1}, 1, func(i int) string { return "ok " + strconv.Itoa(i) })
	require.Equal(t, gate.StatusRegressed, v.Status)
	b, err := JSON(v, 1)
	require.NoError(t, err)
	golden.Assert(t, string(b))
	var doc map[string]any
	require.NoError(t, json.Unmarshal(b, &doc))
	assert.Equal(t, JSONSchema, doc["schema"])
	assert.EqualValues(t, 1, doc["exit_code"], "the exit code the cli gives")
	assert.Equal(t, string(v.Status), doc["status"])

	// NaN never reaches JSON (it has none): it is written as null.
	nan := &gate.Verdict{Status: gate.StatusIncomplete, Cost: gate.CostProjection{BaselinePer1K: gate.Num(math.NaN())},
		Metrics: []gate.MetricComparison{{Metric: "m", Delta: gate.Interval{Est: math.NaN(), Lo: math.Inf(1), Hi: math.NaN()}, MDE: gate.Num(math.NaN())}}}
	b, err = JSON(nan, 4)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"baseline_per_1k": null`)
	assert.Equal(t, 4, int(gjsonInt(t, b, "exit_code")))
}

func gjsonInt(t *testing.T, b []byte, k string) float64 {
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	return m[k].(float64)
}

// A suite of five samples: the report opens with the headline that names
// the checks it is too small for, and no interval has zero width (issue 9).
func TestMarkdownSmallSuite(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bp := writeRun(t, dir, "prod", 0, 900, 0.0021, 1, 5, 1, func(i int) string { return "The answer is " + strconv.Itoa(i) + "." })
	tp := writeRun(t, dir, "cand", -0.02, 950, 0.0021, 2, 5, 1, func(i int) string { return "Item " + strconv.Itoa(i) })
	v, err := gate.Compare(context.Background(), gate.Side{Path: bp}, gate.Side{Path: tp}, gate.Config{Criteria: testCriteria(), Samples: 1})
	require.NoError(t, err)
	v.Baseline.Path, v.Target.Path = "base.jsonl", "target.jsonl"
	require.NotEmpty(t, v.Headline)
	for _, c := range v.Criteria {
		if c.Estimate.Bounded() {
			assert.Greater(t, c.Estimate.Hi, c.Estimate.Lo, "%s %s has a zero-width interval", c.Metric, c.Check)
		}
	}
	md := Markdown(v, Options{Title: "support-answers"})
	require.Contains(t, md, "> [!CAUTION]\n> The suite is too small for")
	golden.Assert(t, md)
}
