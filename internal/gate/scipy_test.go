package gate

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The differential test: the gate's statistics against an independent
// implementation, scipy and statsmodels, on generated data. Debian's
// python3-scipy and python3-statsmodels provide them at /usr/bin/python3
// (a pyenv python3 on PATH usually lacks them).

const systemPython = "/usr/bin/python3"

// referencePython is the scipy/statsmodels side: it reads the cases as JSON
// on stdin and writes their statistics as JSON.
const referencePython = `
import json, sys
import numpy as np
from scipy import stats
import statsmodels.api as sm
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.proportion import proportion_confint
from statsmodels.stats.multitest import multipletests
from scipy.optimize import brentq, minimize_scalar
from scipy.special import xlogy

out = []
for c in json.load(sys.stdin):
    x, y = np.array(c["x"]), np.array(c["y"])
    d = y - x
    n = len(d)
    r = {}
    se = stats.sem(d)
    r["t_lo"], r["t_hi"] = stats.t.interval(0.95, n - 1, loc=d.mean(), scale=se)
    r["t_p_less"] = stats.ttest_1samp(d, c["limit"], alternative="less").pvalue
    r["t_p_greater"] = stats.ttest_1samp(d, c["limit"], alternative="greater").pvalue
    r["mean_lo"], r["mean_hi"] = stats.t.interval(0.95, n - 1, loc=y.mean(), scale=stats.sem(y))
    fit = sm.OLS(d, np.ones(n)).fit(cov_type="cluster", cov_kwds={"groups": np.array(c["clusters"])}, use_t=True)
    r["cl_se"] = float(fit.bse[0])
    lo, hi = fit.conf_int(0.05)[0]
    r["cl_lo"], r["cl_hi"] = float(lo), float(hi)
    bx, by = (x >= 0.5), (y >= 0.5)
    table = [[int(np.sum(bx & by)), int(np.sum(bx & ~by))], [int(np.sum(~bx & by)), int(np.sum(~bx & ~by))]]
    r["mcnemar_p"] = mcnemar(table, exact=True).pvalue
    reg, imp = table[0][1], table[1][0]
    # Tango's score interval, from a numerical constrained MLE (not the
    # closed form the gate uses) and root finding.
    z = stats.norm.ppf(0.975)
    def tango(d0):
        rest = n - imp - reg
        def nll(q):
            return -(xlogy(imp, q + d0) + xlogy(reg, q) + xlogy(rest, 1 - 2 * q - d0))
        lo, hi = max(0.0, -d0), (1 - d0) / 2
        q = minimize_scalar(nll, bounds=(lo, hi), method="bounded", options={"xatol": 1e-13}).x
        num = imp - reg - n * d0
        num -= np.sign(num) * min(abs(num), 0.5)  # continuity correction
        return num / np.sqrt(n * (2 * q + d0 * (1 - d0)))
    est = (imp - reg) / n
    r["tango_lo"] = brentq(lambda d0: tango(d0) - z, -1 + 1e-9, est)
    r["tango_hi"] = brentq(lambda d0: tango(d0) + z, est, 1 - 1e-9)
    # Fieller: the ratio's bounds are where the paired t statistic of
    # y' - r x' crosses the t quantile (values shifted away from zero).
    xp, yp = x + 1, y + 1
    q = stats.t.ppf(0.975, n - 1)
    rhat = yp.mean() / xp.mean()
    tstat = lambda rr: stats.ttest_1samp(yp - rr * xp, 0).statistic
    r["fieller_lo"] = brentq(lambda rr: tstat(rr) - q, rhat - 10, rhat)
    r["fieller_hi"] = brentq(lambda rr: tstat(rr) + q, rhat, rhat + 10)
    # Order-statistic interval of the 95th percentile: ranks from the
    # binomial distribution.
    ys = np.sort(y)
    cdf = stats.binom.cdf(np.arange(n + 1), n, 0.95)
    l = int(np.searchsorted(cdf, 0.025, side="right"))
    u = int(np.searchsorted(cdf, 0.975, side="left")) + 1
    r["os_lo"] = float(ys[l - 1]) if l >= 1 else float("-inf")
    r["os_hi"] = float(ys[u - 1]) if u <= n else float("inf")
    rho = stats.spearmanr(x, y)
    r["spearman"], r["spearman_p"] = rho.statistic, rho.pvalue
    tau = stats.kendalltau(x, y, method="asymptotic")
    r["kendall"], r["kendall_p"] = tau.statistic, tau.pvalue
    k = int(np.sum(~by))
    r["cp_lo"], r["cp_hi"] = proportion_confint(k, n, alpha=0.05, method="beta")
    r["binom_greater"] = stats.binomtest(k, n, c["rate"], alternative="greater").pvalue
    r["binom_less"] = stats.binomtest(k, n, c["rate"], alternative="less").pvalue
    r["holm"] = list(multipletests(c["pvals"], method="holm")[1])
    r["p50"], r["p95"], r["p99"] = np.percentile(y, [50, 95, 99])
    out.append({k: (float(v) if np.isfinite(v) else str(v)) if not isinstance(v, list) else v for k, v in r.items()})
json.dump(out, sys.stdout)
`

type refCase struct {
	X        []float64 `json:"x"`
	Y        []float64 `json:"y"`
	Clusters []int     `json:"clusters"`
	Limit    float64   `json:"limit"`
	Rate     float64   `json:"rate"`
	PVals    []float64 `json:"pvals"`
}

// requireScipy skips when scipy is absent, except in CI, where a skipped
// differential test would hide that nothing was compared.
func requireScipy(t *testing.T) {
	t.Helper()
	err := exec.Command(systemPython, "-c", "import scipy, statsmodels").Run()
	if err == nil {
		return
	}
	msg := "differential test needs " + systemPython + " with scipy and statsmodels (apt-get install -y python3-scipy python3-statsmodels): " + err.Error()
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// runReference runs a reference script on the cases, as JSON on its stdin,
// and decodes what it writes into out.
func runReference(t *testing.T, script string, cases, out any) {
	t.Helper()
	in, err := json.Marshal(cases)
	require.NoError(t, err)
	cmd := exec.Command(systemPython, "-c", script)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	raw, err := cmd.Output()
	require.NoError(t, err, stderr.String())
	require.NoError(t, json.Unmarshal(raw, out))
}

func genCase(seed uint64, n, groups int, ties bool) refCase {
	rng := rand.New(rand.NewPCG(seed, 11))
	c := refCase{Limit: -0.05, Rate: 0.3, PVals: []float64{0.01, 0.04, 0.03, 0.2, 0.004}}
	for i := range n {
		base := rng.Float64()
		x := math.Min(1, math.Max(0, base+rng.NormFloat64()*0.2))
		y := math.Min(1, math.Max(0, base-0.03+rng.NormFloat64()*0.2))
		if ties {
			x, y = math.Round(x*4)/4, math.Round(y*4)/4
		}
		c.X, c.Y = append(c.X, x), append(c.Y, y)
		c.Clusters = append(c.Clusters, i%groups)
	}
	return c
}

func TestStatsAgainstScipy(t *testing.T) {
	t.Parallel()
	requireScipy(t)
	cases := []refCase{
		genCase(1, 12, 4, false),
		genCase(2, 50, 10, false),
		genCase(3, 200, 37, false),
		genCase(4, 80, 16, true),
		genCase(5, 400, 60, true),
	}
	var ref []map[string]any
	runReference(t, referencePython, cases, &ref)
	require.Len(t, ref, len(cases))

	const tol = 1e-9
	for i, c := range cases {
		r := ref[i]
		num := func(k string) float64 { return r[k].(float64) }
		n := len(c.X)
		d := make([]float64, n)
		for j := range d {
			d[j] = c.Y[j] - c.X[j]
		}
		// The paired t-interval and its one-sided tests, each p-value found
		// by inverting the interval.
		pt := meanEstimate(d, design{}, span{-1, 1}, true)
		require.Equal(t, MethodPairedT, pt.method)
		iv := pt.interval(0.95)
		assert.InDelta(t, num("t_lo"), iv.Lo, tol, "case %d t lo", i)
		assert.InDelta(t, num("t_hi"), iv.Hi, tol, "case %d t hi", i)
		assertP(t, num("t_p_less"), pt.pBelow(c.Limit), "case %d t p less", i)
		assertP(t, num("t_p_greater"), pt.pAbove(c.Limit), "case %d t p greater", i)
		mv := meanEstimate(c.Y, design{}, span{0, 1}, false).interval(0.95)
		assert.InDelta(t, num("mean_lo"), mv.Lo, tol, "case %d mean lo", i)
		assert.InDelta(t, num("mean_hi"), mv.Hi, tol, "case %d mean hi", i)

		// Cluster-robust (CR1) standard error and interval.
		g := 0
		for _, cl := range c.Clusters {
			g = max(g, cl+1)
		}
		cd := design{clusters: c.Clusters, g: g}
		assert.InDelta(t, num("cl_se"), clusterSE(d, meanOf(d), cd), tol, "case %d cluster se", i)
		civ := meanEstimate(d, cd, span{-1, 1}, true).interval(0.95)
		assert.InDelta(t, num("cl_lo"), civ.Lo, 1e-8, "case %d cluster lo", i)
		assert.InDelta(t, num("cl_hi"), civ.Hi, 1e-8, "case %d cluster hi", i)

		// Fieller's interval of a ratio of paired means.
		xp, yp := make([]float64, n), make([]float64, n)
		for j := range xp {
			xp[j], yp[j] = c.X[j]+1, c.Y[j]+1
		}
		fv := ratioEstimate(xp, yp, design{}, span{1, 2}).interval(0.95)
		assert.InDelta(t, num("fieller_lo"), fv.Lo, 1e-8, "case %d fieller lo", i)
		assert.InDelta(t, num("fieller_hi"), fv.Hi, 1e-8, "case %d fieller hi", i)

		// The distribution-free interval of the 95th percentile.
		ys := sortedCopy(c.Y)
		olo, ohi := newQuantileCI(ys, 0.95).bound(0.025)
		assert.Equal(t, r["os_lo"], jsonNum(olo), "case %d order statistic lo", i)
		assert.Equal(t, r["os_hi"], jsonNum(ohi), "case %d order statistic hi", i)

		// McNemar's exact test on 0/1 outcomes at 0.5.
		imp, reg := 0, 0
		for j := range c.X {
			bp, tp := c.X[j] >= 0.5, c.Y[j] >= 0.5
			if tp && !bp {
				imp++
			}
			if bp && !tp {
				reg++
			}
		}
		assert.InDelta(t, num("mcnemar_p"), mcnemarExact(imp, reg), tol, "case %d mcnemar", i)
		tv := tangoEstimate(imp, reg, n, design{}, nil).interval(0.95)
		assert.InDelta(t, num("tango_lo"), tv.Lo, 1e-6, "case %d tango lo", i)
		assert.InDelta(t, num("tango_hi"), tv.Hi, 1e-6, "case %d tango hi", i)

		// Rank correlations.
		rho, rp := spearman(c.X, c.Y)
		assert.InDelta(t, num("spearman"), rho, tol, "case %d spearman", i)
		assert.InDelta(t, num("spearman_p"), rp, tol, "case %d spearman p", i)
		tau, tp := kendallTauB(c.X, c.Y)
		assert.InDelta(t, num("kendall"), tau, tol, "case %d kendall", i)
		assert.InDelta(t, num("kendall_p"), tp, tol, "case %d kendall p", i)

		// Exact binomial: Clopper-Pearson and one-sided tests.
		k := 0
		for _, y := range c.Y {
			if y < 0.5 {
				k++
			}
		}
		rate := proportionEstimate(k, n, design{}, nil)
		cp := rate.interval(0.95)
		assert.InDelta(t, num("cp_lo"), cp.Lo, tol, "case %d cp lo", i)
		assert.InDelta(t, num("cp_hi"), cp.Hi, tol, "case %d cp hi", i)
		// The exact binomial tests are the inversions of Clopper-Pearson.
		assertP(t, num("binom_greater"), rate.pAbove(c.Rate), "case %d binom greater", i)
		assertP(t, num("binom_less"), rate.pBelow(c.Rate), "case %d binom less", i)

		// Holm.
		want := r["holm"].([]any)
		for j, a := range holm(c.PVals) {
			assert.InDelta(t, want[j].(float64), a, tol, "case %d holm %d", i, j)
		}

		// Percentiles.
		s := append([]float64(nil), c.Y...)
		slices.Sort(s)
		assert.InDelta(t, num("p50"), quantile(s, 0.5), tol)
		assert.InDelta(t, num("p95"), quantile(s, 0.95), tol)
		assert.InDelta(t, num("p99"), quantile(s, 0.99), tol)
	}
}

// assertP checks a one-sided p-value against the reference's: equal to 1e-9
// up to 0.5, and reported as 1 above it (see invert).
func assertP(t *testing.T, want, got float64, msg string, args ...any) {
	t.Helper()
	if want > 0.5 {
		assert.Equal(t, 1.0, got, append([]any{msg}, args...)...)
		return
	}
	assert.InDelta(t, want, got, 1e-9, append([]any{msg}, args...)...)
}

// jsonNum is how the reference writes a bound: a number, or "inf"/"-inf".
func jsonNum(x float64) any {
	switch {
	case math.IsInf(x, 1):
		return "inf"
	case math.IsInf(x, -1):
		return "-inf"
	}
	return x
}
