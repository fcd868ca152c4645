package report

import (
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/evalgate/evalgate/internal/gate"
	"github.com/evalgate/evalgate/internal/trend"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// screenshot is where TestHTMLInBrowser writes its screenshot for the README:
// go test ./internal/report -run TestHTMLInBrowser -screenshot ../../docs/report.png
var screenshot = flag.String("screenshot", "", "write the browser test's screenshot of the HTML report to this `file` (the README's docs/report.png)")

// browserPairs sizes TestHTMLInBrowser's report; the README's size and
// timings are from -browser-pairs 20000 -v (the test logs them, never
// asserts on them).
var browserPairs = flag.Int("browser-pairs", 400, "pairs in TestHTMLInBrowser's report")

// chromium finds a Chromium binary: Debian's package, or another name for it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	// CI installs it (.ci/run): there a missing browser is a failure, not a skip.
	if os.Getenv("CI") == "true" {
		t.Fatal("no Chromium found (chromium, chromium-browser, google-chrome) and CI=true: .ci/run installs Debian's chromium")
	}
	t.Skip("no Chromium found (chromium, chromium-browser, google-chrome): install Debian's chromium package to run the browser test")
	return ""
}

// candAnswer is the gated target's answer to sample i, as long as a support
// answer (about 650 characters): mostly a reworded version of the
// baseline's, and on every fifth sample an attack.
func candAnswer(i int) string {
	if i%5 == 0 {
		return "Item " + strconv.Itoa(i) + ": " + pwn
	}
	return "Item " + strconv.Itoa(i) + " is a box, per the manual. " + strings.Repeat("A deleted file stays in the trash for thirty days; restore it from there. ", 8)
}

// TestHTMLInBrowser opens the report in headless Chromium: it loads without a
// console error (a CSP violation is one), the charts have their marks, the
// regressed filter leaves only regressed rows, and a hostile answer shows as
// text without running.
func TestHTMLInBrowser(t *testing.T) {
	exe := chromium(t)
	t.Parallel()
	start := time.Now()
	dir := t.TempDir()
	path := writeSuiteRun(t, dir, *browserPairs, 1, candAnswer)
	v, err := gate.Compare(context.Background(), gate.Side{Path: path, Target: "prod"}, gate.Side{Path: path, Target: "cand"},
		gate.Config{Criteria: testCriteria()})
	require.NoError(t, err)
	pairs, err := gate.ReadPairs(context.Background(), v, 0)
	require.NoError(t, err)
	page, err := HTML(v, pairs, HTMLOptions{Title: "support-answers", History: nights(v)})
	require.NoError(t, err)
	file := filepath.Join(dir, "report.html")
	require.NoError(t, os.WriteFile(file, page, 0o644))
	regressed, worst := 0, 0.0
	for _, r := range tableData(v, pairs).Rows {
		if float64(r.Gain) < 0 {
			regressed++
			worst = min(worst, float64(r.Gain))
		}
	}
	require.Positive(t, regressed)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.WindowSize(1200, 2300),
		// Containers give /dev/shm 64 MB, which a page of this size can fill.
		chromedp.Flag("disable-dev-shm-usage", true))
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()

	// The console is read from before the page loads to the end of the test.
	var mu sync.Mutex
	var console []string
	msgs := chromedp.Console(bctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range msgs {
			if err != nil {
				return
			}
			mu.Lock()
			console = append(console, m.String())
			mu.Unlock()
		}
	}()
	require.NoError(t, chromedp.Do(bctx, chromedp.Navigate("file://"+file), chromedp.WaitVisible(chromedp.CSS("#rows tr"))))

	eval := func(js string) float64 {
		t.Helper()
		n, err := chromedp.Run(bctx, chromedp.Evaluate[float64](js))
		require.NoError(t, err, js)
		return n
	}
	// The charts' marks: a forest-plot row and a margin line per check, a
	// distribution per compared metric, a point per target of the run.
	assert.Equal(t, float64(len(v.Criteria)), eval(`document.querySelectorAll('#forest .forest-row').length`))
	assert.Equal(t, float64(len(v.Criteria)), eval(`document.querySelectorAll('#forest .margin-line').length`))
	assert.Equal(t, float64(len(v.Metrics)), eval(`document.querySelectorAll('svg.histogram').length`))
	assert.Equal(t, float64(2*len(runTargets)), eval(`document.querySelectorAll('svg.scatter .point').length`))
	assert.Equal(t, float64(len(v.Criteria)), eval(`document.querySelectorAll('svg.trend').length`))
	fails := 0
	for _, c := range v.Criteria {
		if c.Status == gate.CheckFail {
			fails++
		}
	}
	assert.Equal(t, float64(fails), eval(`document.querySelectorAll('#forest .forest-row[data-status=fail]').length`))
	// The first page of the table.
	assert.Equal(t, 50.0, eval(`document.querySelectorAll('#rows tr.row').length`))

	// Filtering: regressed rows only, and all of them across the pages.
	require.NoError(t, chromedp.Do(bctx, chromedp.Click(chromedp.CSS(`[data-filter=regressed]`))))
	assert.Equal(t, float64(min(50, regressed)), eval(`document.querySelectorAll('#rows tr.row').length`))
	assert.Equal(t, 0.0, eval(`document.querySelectorAll('#rows tr.row:not(.regressed-row)').length`))
	pageText, err := chromedp.Run(bctx, chromedp.TextContent(chromedp.CSS("#page")))
	require.NoError(t, err)
	assert.Contains(t, pageText, "("+strconv.Itoa(regressed)+" rows)")

	// Sorting by the change puts the most regressed pair first.
	require.NoError(t, chromedp.Do(bctx, chromedp.Click(chromedp.CSS(`[data-filter=all]`)), chromedp.Click(chromedp.CSS(`th[data-sort=g]`))))
	first, err := chromedp.Run(bctx, chromedp.TextContent(chromedp.CSS("#rows tr.row td:nth-child(3)")))
	require.NoError(t, err)
	got, err := strconv.ParseFloat(first, 64)
	require.NoError(t, err, first)
	assert.InDelta(t, worst, got, 0.0005, "the page rounds to 3 decimals")

	// A hostile answer: searched for, opened, shown as text, never run.
	require.NoError(t, chromedp.Do(bctx, chromedp.Click(chromedp.CSS(`[data-filter=all]`)),
		chromedp.SendKeys(chromedp.CSS("#query"), "window.pwned"), chromedp.Click(chromedp.CSS("#rows tr.row"))))
	detail, err := chromedp.Run(bctx, chromedp.TextContent(chromedp.CSS("#rows .detail")))
	require.NoError(t, err)
	assert.Contains(t, detail, "<script>window.pwned=1</script><img src=x onerror=window.pwned=1>")
	assert.Equal(t, "undefined", evalString(t, bctx, `typeof window.pwned`))
	assert.Equal(t, 0.0, eval(`document.querySelectorAll('#rows img, #rows script').length`))
	// The word diff marks what the target changed.
	assert.Positive(t, eval(`document.querySelectorAll('#rows .detail ins').length`))

	// How long the page takes, for the README's statement (logged only: a
	// test does not depend on the machine's speed).
	t.Logf("in the page: %s", evalString(t, bctx, `(function () {
		function time(f) { var t = performance.now(); f(); return Math.round(performance.now() - t) + ' ms'; }
		var n = performance.getEntriesByType('navigation')[0];
		return ['loaded and first page drawn at ' + Math.round(n.domContentLoadedEventEnd) + ' ms',
			'filter ' + time(function () { document.querySelector('[data-filter=improved]').click(); }),
			'sort ' + time(function () { document.querySelector('th[data-sort=r]').click(); }),
			'next page ' + time(function () { document.getElementById('next').click(); }),
			'search keystroke ' + time(function () { var q = document.getElementById('query'); q.value = 'trash'; q.dispatchEvent(new Event('input')); })].join(', ');
	})()`))

	// A screenshot is produced: of the top of the page for the README.
	require.NoError(t, chromedp.Do(bctx, chromedp.Navigate("file://"+file), chromedp.WaitVisible(chromedp.CSS("#rows tr"))))
	png, err := chromedp.Run(bctx, chromedp.CaptureScreenshot())
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(png, []byte("\x89PNG")), "not a PNG")
	if *screenshot != "" {
		require.NoError(t, os.WriteFile(*screenshot, png, 0o644))
	}

	cancelBrowser()
	<-done
	mu.Lock()
	defer mu.Unlock()
	var errs []string
	for _, m := range console {
		if strings.HasPrefix(m, "error") || strings.HasPrefix(m, "exception") {
			errs = append(errs, m)
		}
	}
	assert.Empty(t, errs, "console errors")
	t.Logf("browser test took %s (%d bytes of HTML for %d pairs)", time.Since(start).Round(time.Millisecond), len(page), len(pairs.Rows))
}

func evalString(t *testing.T, ctx context.Context, js string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
	require.NoError(t, err, js)
	return s
}

// nights is a history of eight scheduled runs ending with v: the target was
// better until the fifth night, when its provider changed the model.
func nights(v *gate.Verdict) []trend.Entry {
	var h []trend.Entry
	day := time.Date(2026, 11, 22, 3, 17, 0, 0, time.UTC)
	for i := range 8 {
		night := *v
		night.Criteria = slices.Clone(v.Criteria)
		for j := range night.Criteria {
			c := &night.Criteria[j]
			wobble := 0.01 * float64((i*7+j*3)%5-2)
			if i < 4 {
				c.Target = gate.Num(float64(c.Target)*1.15 + wobble*float64(c.Target))
			} else {
				c.Target = gate.Num(float64(c.Target) + wobble*float64(c.Target))
			}
		}
		if i == 7 {
			night = *v
		}
		h = trend.Append(h, trend.FromVerdict(&night, trend.Run{ID: int64(9000 + i)}, day.AddDate(0, 0, i)))
	}
	return h
}
