package report

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"html"
	"math"
	"math/rand/v2"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/evalgate/evalgate/internal/gate"
	"github.com/evalgate/evalgate/internal/golden"
	"github.com/evalgate/evalgate/internal/metric"
	"github.com/evalgate/evalgate/internal/results"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pwn is model output that runs script if the report ever writes it as HTML.
const pwn = `<script>window.pwned=1</script><img src=x onerror=window.pwned=1></script><!-- "' ` + "\u2028\u202e"

// runTarget is one target of a generated run: how good, fast and cheap it is.
type runTarget struct {
	id      string
	shift   float64 // added to every correctness score
	latency float64
	cost    float64
}

// runTargets are the generated run's targets: the baseline prod, the gated
// cand (cheaper and worse), a dominated one and a dearer better one.
var runTargets = []runTarget{
	{"prod", 0, 900, 0.0021}, {"cand", -0.1, 700, 0.0009}, {"mini", -0.15, 800, 0.0012}, {"large", 0.06, 1500, 0.006},
}

// writeSuiteRun writes one results file of a run of the runTargets over n
// samples: the cand's answers are out(i), some of its calls fail, and its
// judge gives reasons. The summary lists every target, as a run writes it.
func writeSuiteRun(t testing.TB, dir string, n, repeats int, out func(i int) string) string {
	t.Helper()
	path := filepath.Join(dir, "results.jsonl")
	h := results.Header{Suite: "support", SuiteHash: "abc", Dataset: "d.jsonl", Started: fixedTime, Repeats: repeats,
		Metrics: []metric.Info{
			{Name: "correctness", Min: 0, Max: 1, Direction: metric.HigherIsBetter},
			{Name: "exact_match", Min: 0, Max: 1, Direction: metric.HigherIsBetter, PassFail: true},
		}}
	for _, rt := range runTargets {
		h.Targets = append(h.Targets, results.TargetInfo{ID: rt.id, Provider: "recorded", Model: rt.id + "-model", Priced: true})
	}
	w, err := results.Create(path, h)
	require.NoError(t, err)
	sum := results.Summary{Finished: fixedTime, Status: results.StatusComplete}
	rng := rand.New(rand.NewPCG(7, 7))
	for _, rt := range runTargets {
		ts := results.TargetSummary{ID: rt.id, Means: map[string]float64{}, Scored: map[string]int{}, LatencyP95MS: rt.latency + 240}
		var total float64
		for i := range n {
			d := float64(i%10) / 10
			for r := range repeats {
				rec := results.Record{SampleID: "q" + strconv.Itoa(100+i), Target: rt.id, Repeat: r,
					Input: "What is item " + strconv.Itoa(i) + "?", Reference: "Item " + strconv.Itoa(i) + " is a blue box.",
					Output: "Item " + strconv.Itoa(i) + " is a blue box, as the manual says.", LatencyMS: rt.latency + float64(i%13)*20}
				if rt.id == "cand" {
					rec.Output = out(i)
					if i%17 == 3 && r == 0 {
						rec.Error = &results.RecordError{Kind: "empty", Message: "the model gave no answer"}
					}
				}
				ts.Records++
				if rec.Error != nil {
					ts.Errors++
					require.NoError(t, w.Write(rec))
					continue
				}
				cost := rt.cost
				rec.CostUSD = &cost
				total += cost
				c := math.Min(1, math.Max(0, 0.35+0.5*d+rt.shift+rng.NormFloat64()*0.08))
				pass := 0.0
				if rng.Float64() < 0.2+0.7*d+rt.shift {
					pass = 1
				}
				rec.Scores = map[string]float64{"correctness": c, "exact_match": pass}
				rec.Details = map[string]string{"correctness": "The answer names item " + strconv.Itoa(i) + "; judged " + strconv.FormatFloat(c, 'f', 2, 64) + "."}
				ts.Means["correctness"] += c
				ts.Scored["correctness"]++
				require.NoError(t, w.Write(rec))
			}
		}
		ts.Means["correctness"] /= float64(ts.Scored["correctness"])
		ts.CostUSD = &total
		sum.Targets = append(sum.Targets, ts)
		sum.Records += ts.Records
	}
	require.NoError(t, w.Close(sum))
	return path
}

// htmlRun compares the cand with prod in a generated run and reads the
// pairs, with the file's temporary path replaced for the golden file.
func htmlRun(t *testing.T, repeats int, targetOut func(i int) string) (*gate.Verdict, *gate.PairSet) {
	t.Helper()
	path := writeSuiteRun(t, t.TempDir(), 40, repeats, targetOut)
	v, err := gate.Compare(context.Background(), gate.Side{Path: path, Target: "prod"}, gate.Side{Path: path, Target: "cand"},
		gate.Config{Criteria: testCriteria(), Samples: 2})
	require.NoError(t, err)
	pairs, err := gate.ReadPairs(context.Background(), v, 0)
	require.NoError(t, err)
	v.Baseline.Path, v.Target.Path = "results.jsonl", "results.jsonl"
	return v, pairs
}

func TestHTMLRegressed(t *testing.T) {
	t.Parallel()
	v, pairs := htmlRun(t, 1, func(i int) string { return "The answer is " + strconv.Itoa(i) + ", surely. " + pwn })
	require.Equal(t, gate.StatusRegressed, v.Status)
	require.Len(t, pairs.Rows, 40)
	require.Len(t, pairs.Targets, len(runTargets))
	b, err := HTML(v, pairs, HTMLOptions{Title: "support <answers>"})
	require.NoError(t, err)
	golden.Assert(t, string(b))
	page := string(b)
	// One forest-plot row per check and a margin line on each.
	assert.Equal(t, len(v.Criteria), strings.Count(page, `class="forest-row"`))
	assert.Equal(t, len(v.Criteria), strings.Count(page, `class="margin-line"`))
	// Both runs' targets are points; the cheaper, better one is on the front.
	assert.Contains(t, page, `class="pareto-front"`)
	assert.Contains(t, page, "support &lt;answers&gt;")
}

func TestHTMLEscapesModelOutput(t *testing.T) {
	t.Parallel()
	v, pairs := htmlRun(t, 1, func(int) string { return pwn })
	v.Reason += " " + pwn
	v.Warnings = append(v.Warnings, pwn)
	b, err := HTML(v, pairs, HTMLOptions{Title: pwn, Notes: []string{pwn}})
	require.NoError(t, err)
	page := string(b)
	// The only script elements are the data block and our own script.
	assert.Equal(t, 2, strings.Count(page, "<script"), "a script element from the data")
	assert.Equal(t, 2, strings.Count(page, "</script>"), "a script end tag from the data closes the data block")
	assert.NotContains(t, page, "<img")
	outside := page[:strings.Index(page, `<script type="application/json"`)]
	assert.NotContains(t, outside, "onerror=window.pwned=1>", "an attribute from the data")
	assert.NotContains(t, page, "\u2028", "a line separator ends a JS string literal in old parsers")
	assert.NotContains(t, page, "\u202e", "a bidi override reorders what the reader sees")
	// In the JSON block the output is a JSON string with <, > and & escaped.
	assert.Contains(t, page, `\u003cscript\u003ewindow.pwned=1\u003c/script\u003e`)
	// In the HTML the same text is entities.
	assert.Contains(t, page, "&lt;script&gt;window.pwned=1&lt;/script&gt;")
}

func TestHTMLContentSecurityPolicy(t *testing.T) {
	t.Parallel()
	v, pairs := htmlRun(t, 1, func(i int) string { return "Item " + strconv.Itoa(i) })
	b, err := HTML(v, pairs, HTMLOptions{})
	require.NoError(t, err)
	page := string(b)
	m := regexp.MustCompile(`<meta http-equiv="Content-Security-Policy" content="([^"]+)">`).FindStringSubmatch(page)
	require.NotNil(t, m, "no CSP meta tag")
	csp := html.UnescapeString(m[1])
	assert.Contains(t, csp, "default-src 'none'")
	assert.Contains(t, csp, "img-src data:")
	assert.NotContains(t, csp, "unsafe-eval")
	// The script-src hash is the hash of the inline script as written.
	s := regexp.MustCompile(`(?s)<script>(.*?)</script>`).FindStringSubmatch(page)
	require.NotNil(t, s)
	sum := sha256.Sum256([]byte(s[1]))
	assert.Contains(t, csp, "script-src 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")
	// Self-contained: nothing is fetched.
	assert.NotRegexp(t, `(?i)(src|href)="(https?:)?//`, page)
	assert.NotContains(t, page, "@import")
	assert.NotContains(t, htmlScript, "innerHTML", "the script writes data with textContent only")
	assert.NotRegexp(t, `<[^>]*\son[a-z]+=`, page, "no inline event handlers")
}

func TestHTMLRepeats(t *testing.T) {
	t.Parallel()
	v, pairs := htmlRun(t, 3, func(i int) string { return "Item " + strconv.Itoa(i) })
	require.NotEmpty(t, v.Flips)
	flaky := pairs.Flaky(v)
	// Every sample the verdict lists as flipping is flaky in the table.
	for _, s := range v.Flips[0].Samples {
		assert.True(t, flaky[s.SampleID], s.SampleID)
	}
	assert.Len(t, flaky, max(v.Flips[0].BaselineFlipping, v.Flips[0].TargetFlipping, len(flaky)))
	b, err := HTML(v, pairs, HTMLOptions{})
	require.NoError(t, err)
	assert.Contains(t, string(b), `id="flips"`)
	assert.Equal(t, 2*(3+1), strings.Count(string(b), `<rect class="`)-histRects(v))
}

// histRects counts the distribution charts' bars.
func histRects(v *gate.Verdict) int {
	n := 0
	for _, m := range v.Metrics {
		if m.OneSide == "" {
			n += 2 * histBins
		}
	}
	return min(n, 2*histBins*maxHistos)
}

func TestReadPairsCapsRows(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bp := writeRun(t, dir, "prod", 0, 900, 0.0021, 1, 30, 1, func(i int) string { return "a" })
	tp := writeRun(t, dir, "cand", 0, 900, 0.0021, 2, 30, 1, func(i int) string { return "b" })
	v, err := gate.Compare(context.Background(), gate.Side{Path: bp}, gate.Side{Path: tp}, gate.Config{})
	require.NoError(t, err)
	pairs, err := gate.ReadPairs(context.Background(), v, 10)
	require.NoError(t, err)
	assert.Len(t, pairs.Rows, 10)
	assert.Equal(t, 30, pairs.Total)
	b, err := HTML(v, pairs, HTMLOptions{})
	require.NoError(t, err)
	assert.Contains(t, string(b), "10 of 30 pairs are listed")
}
