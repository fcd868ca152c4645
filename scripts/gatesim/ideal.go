package main

import (
	"cmp"
	"math"
	"slices"
	"sort"

	"gonum.org/v1/gonum/stat/distuv"
)

// The ideal paired t test on 0/1 data is not a valid level-α test: its false
// fails depend on how many pairs are discordant (the nuisance parameter), and
// at some discordance rates they exceed α at small n. What follows computes,
// by exact enumeration of every table of n pairs (no simulation), the ideal
// test's worst-case false-fail rate at the margin, and the power of the same
// t test held to α at its worst case: its critical value raised until no
// discordance rate makes it false-fail more than α. That held test is the
// bar a valid test can be measured against.

// exactMaxN bounds the enumeration (O(n²) tables, times the nuisance grid).
const exactMaxN = 200

// pairTable is the count of target-only (i) and baseline-only (j) pairs of n.
type pairTable struct{ i, j int }

// tStat is the ideal test's statistic on a table: (mean difference + margin)
// over its standard error, ±Inf when the differences do not vary.
func tStat(t pairTable, n int, m float64) float64 {
	nn := float64(n)
	mean := float64(t.i-t.j) / nn
	k := float64(n - t.i - t.j)
	ss := float64(t.i)*(1-mean)*(1-mean) + float64(t.j)*(1+mean)*(1+mean) + k*mean*mean
	se := math.Sqrt(ss / (nn - 1) / nn)
	if se == 0 {
		switch {
		case mean+m < 0:
			return math.Inf(-1)
		case mean+m > 0:
			return math.Inf(1)
		}
		return 0
	}
	return (mean + m) / se
}

// tablesProb is the probability of the tables when each pair is target-only
// with probability p01 and baseline-only with probability p10.
func tablesProb(ts []pairTable, n int, p01, p10 float64, lf []float64) float64 {
	l01, l10, l00 := logOr(p01), logOr(p10), logOr(1-p01-p10)
	s := 0.0
	for _, t := range ts {
		k := n - t.i - t.j
		s += math.Exp(lf[n] - lf[t.i] - lf[t.j] - lf[k] + mul(t.i, l01) + mul(t.j, l10) + mul(k, l00))
	}
	return s
}

func logOr(p float64) float64 {
	if p <= 0 {
		return math.Inf(-1)
	}
	return math.Log(p)
}

func mul(k int, l float64) float64 {
	if k == 0 {
		return 0
	}
	return float64(k) * l
}

// worstSize is the largest probability of the tables over every discordance
// rate allowed when the true change is exactly -m (baseline-only rate =
// target-only rate + m): a grid of 400, refined around its best point.
func worstSize(ts []pairTable, n int, m float64, lf []float64) float64 {
	if len(ts) == 0 {
		return 0
	}
	f := func(p01 float64) float64 { return tablesProb(ts, n, p01, p01+m, lf) }
	hi := (1 - m) / 2
	const grid = 400
	best, bk := -1.0, 0
	for k := 0; k <= grid; k++ {
		if p := f(hi * float64(k) / grid); p > best {
			best, bk = p, k
		}
	}
	a, b := hi*float64(max(bk-1, 0))/grid, hi*float64(min(bk+1, grid))/grid
	for range 40 {
		x1, x2 := a+(b-a)/3, b-(b-a)/3
		f1, f2 := f(x1), f(x2)
		best = math.Max(best, math.Max(f1, f2))
		if f1 > f2 {
			b = x2
		} else {
			a = x1
		}
	}
	return best
}

// idealExact is the exact analysis of the ideal t test on n pass/fail pairs
// with margin m: its worst-case false-fail rate, its power against the
// design rates (p01, p10) of a change of 2m, and the power of the t test held
// to α at its worst case.
type idealExact struct {
	worstSize, power, heldPower float64
}

func analyseIdeal(n int, m float64, p01, p10 float64) idealExact {
	lf := make([]float64, n+1)
	for k := 2; k <= n; k++ {
		lf[k] = lf[k-1] + math.Log(float64(k))
	}
	type scored struct {
		t pairTable
		z float64
	}
	var all []scored
	for i := 0; i <= n; i++ {
		for j := 0; i+j <= n; j++ {
			t := pairTable{i, j}
			all = append(all, scored{t, tStat(t, n, m)})
		}
	}
	slices.SortFunc(all, func(a, b scored) int { return cmp.Compare(a.z, b.z) })
	q := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(n - 1)}.Quantile(1 - alpha)
	upTo := func(k int) []pairTable { // the k most extreme tables
		ts := make([]pairTable, k)
		for x := range k {
			ts[x] = all[x].t
		}
		return ts
	}
	raw := 0
	for raw < len(all) && all[raw].z < -q {
		raw++
	}
	out := idealExact{worstSize: worstSize(upTo(raw), n, m, lf), power: tablesProb(upTo(raw), n, p01, p10, lf)}
	// The largest rejection region {z ≤ c}, c a table's z (tied tables
	// all in or all out), whose worst case is at most α: regions only grow
	// with c, and so does their worst case, so a binary search finds it.
	var sizes []int // region sizes that end between two distinct z
	for k := 1; k <= raw; k++ {
		if k == len(all) || all[k].z != all[k-1].z {
			sizes = append(sizes, k)
		}
	}
	held := sort.Search(len(sizes), func(x int) bool { return worstSize(upTo(sizes[x]), n, m, lf) > alpha })
	lo := 0
	if held > 0 {
		lo = sizes[held-1]
	}
	out.heldPower = tablesProb(upTo(lo), n, p01, p10, lf)
	return out
}
