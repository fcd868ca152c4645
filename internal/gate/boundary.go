package gate

import (
	bin "encoding/binary"
	"math"
	"slices"
	"sync"

	"gonum.org/v1/gonum/stat/distuv"
)

// Group-sequential boundaries (Armitage, McPherson and Rowe 1969; Lan and
// DeMets 1983; Jennison and Turnbull 2000, chapter 19).
//
// A look at the share t_k of the samples sees the running sum S(t_k) of the
// samples' contributions, which under the limit behaves as Brownian motion:
// S(t_k) − S(t_{k−1}) is normal with variance t_k − t_{k−1}, independent of
// the past, so the looks' z statistics are correlated as √(t_j/t_k). Look k
// decides at the nominal one-sided level a_k = Q(b_k/√t_k), where the
// boundary b_k is the one that a path not past b_1, …, b_{k−1} crosses with
// probability equal to the spending function's increment A(t_k) − A(t_{k−1}).
// The crossing probabilities therefore add up to A(1) = α over the whole
// design. A union bound (a_k = the increment) ignores that a path past b_k
// was likely past an earlier boundary too, and so gives later looks less
// than they may have: with α·t³ and looks at 20, 35, 50, 75 and 100% of the
// samples, the final look's level rises from 0.0145 to 0.0212.
//
// The computation follows the sub-density of S on paths still inside the
// boundaries on a lattice of step boundaryStep: each cell's mass moves to
// the next look's cells with the normal transition's exact cell
// probabilities, so mass is conserved to rounding whatever the spacing of
// the looks; the crossing probability at look k integrates the normal tail
// over the previous look's cells.

// boundaryStep is the lattice step on the scale of S (whose variance is at
// most 1); boundaryRange the lattice's half-width, past which the mass is
// below 1e-15.
const (
	boundaryStep  = 0.004
	boundaryRange = 8.5
)

// negligible is a cell's mass below which it is not moved: the lattice's
// cells hold less than 1e-16 in all that way, nothing to a level.
const negligible = 1e-20

// stdNormal is the standard normal distribution.
var stdNormal = distuv.Normal{Mu: 0, Sigma: 1}

// nominalLevels returns the one-sided levels a_k of looks at the shares t
// (increasing, in (0, 1]) that spend the increments inc (non-negative, their
// sum at most 1/2) as crossing probabilities of one-sided upper boundaries.
func nominalLevels(t, inc []float64) []float64 {
	out := make([]float64, len(t))
	n := int(math.Round(2*boundaryRange/boundaryStep)) + 1
	x := func(i int) float64 { return -boundaryRange + float64(i)*boundaryStep }
	// p[i] is the mass of paths inside the boundaries so far that sit in
	// the cell around x(i).
	p := make([]float64, n)
	next := make([]float64, n)
	var kernel []float64
	prev := 0.0
	for k := range t {
		dt := t[k] - prev
		prev = t[k]
		if k == 0 {
			// The first look: S(t_1) is N(0, t_1).
			sd := math.Sqrt(t[0])
			b := sd * stdNormal.Quantile(1-inc[0])
			if inc[0] <= 0 {
				b = math.Inf(1)
			}
			out[0] = levelOf(b, t[0])
			for i := range p {
				lo, hi := x(i)-boundaryStep/2, math.Min(x(i)+boundaryStep/2, b)
				if hi > lo {
					p[i] = stdNormal.CDF(hi/sd) - stdNormal.CDF(lo/sd)
				}
			}
			continue
		}
		// Crossing at look k from the cell at u has probability
		// Q((b − u)/√dt). A cell's mass sits anywhere in it, which matters
		// when the move is smaller than a cell (a final analysis on little
		// more than the last look's samples): the move is then taken as
		// the spread of a uniform position in the cell.
		sd := math.Max(math.Sqrt(dt), boundaryStep/math.Sqrt(12))
		cross := func(b float64) float64 {
			s := 0.0
			for i, m := range p {
				if m > negligible {
					s += m * stdNormal.Survival((b-x(i))/sd)
				}
			}
			return s
		}
		b := math.Inf(1)
		if inc[k] > 0 {
			// cross falls as b rises; bisect to the increment.
			lo, hi := -2*boundaryRange, 2*boundaryRange
			if cross(lo) <= inc[k] {
				b = lo
			} else {
				for range 60 {
					mid := (lo + hi) / 2
					if cross(mid) > inc[k] {
						lo = mid
					} else {
						hi = mid
					}
				}
				b = hi
			}
		}
		out[k] = levelOf(b, t[k])
		if k == len(t)-1 {
			break
		}
		// Move the mass inside to the next look's cells, dropping what
		// crosses b. The transition from one cell to another depends only
		// on the number of cells between them.
		w := int(math.Ceil(9*sd/boundaryStep)) + 1
		kernel = slices.Grow(kernel[:0], 2*w+1)[:2*w+1]
		for d := -w; d <= w; d++ {
			kernel[d+w] = cellMass(float64(d)*boundaryStep, sd)
		}
		clear(next)
		top := int(math.Floor((b+boundaryRange)/boundaryStep + 0.5))
		for i, m := range p {
			if m <= negligible {
				continue
			}
			for j := max(i-w, 0); j <= min(i+w, n-1, top); j++ {
				next[j] += m * kernel[j-i+w]
			}
		}
		// The cell that holds b keeps only the part below it.
		if top >= 0 && top < n && !math.IsInf(b, 1) {
			next[top] = 0
			lo := x(top) - boundaryStep/2
			if b > lo {
				for i, m := range p {
					if m == 0 {
						continue
					}
					next[top] += m * normalBetween(lo-x(i), b-x(i), sd)
				}
			}
		}
		p, next = next, p
	}
	return out
}

// cellMass is the probability that a normal move of standard deviation sd
// lands in the cell of width boundaryStep centred d away.
func cellMass(d, sd float64) float64 {
	return normalBetween(d-boundaryStep/2, d+boundaryStep/2, sd)
}

// normalBetween is P(lo < Z·sd ≤ hi) for a standard normal Z.
func normalBetween(lo, hi, sd float64) float64 {
	// Tails are taken on the side where they are small, for accuracy.
	if lo > 0 {
		return stdNormal.Survival(lo/sd) - stdNormal.Survival(hi/sd)
	}
	return stdNormal.CDF(hi/sd) - stdNormal.CDF(lo/sd)
}

// increments returns what a spending function lets each look at the shares
// t spend: spend(t_k) − spend(t_{k−1}).
func increments(t []float64, spend func(float64) float64) []float64 {
	inc := make([]float64, len(t))
	prev := 0.0
	for i, x := range t {
		inc[i] = spend(x) - prev
		prev = spend(x)
	}
	return inc
}

// levelOf is the one-sided level of the boundary b on S at the share t.
func levelOf(b, t float64) float64 {
	if math.IsInf(b, 1) {
		return 0
	}
	return stdNormal.Survival(b / math.Sqrt(t))
}

// levelMemo keeps the levels of designs already computed: every look of a
// run, and every run of a simulation, asks for the same few designs.
var levelMemo = struct {
	sync.Mutex
	m map[string][]float64
}{m: map[string][]float64{}}

// designLevels is nominalLevels, remembered (at most a few hundred designs:
// the memo is cleared when it grows past that).
func designLevels(t, inc []float64) []float64 {
	key := make([]byte, 0, 16*len(t))
	for i := range t {
		key = bin.LittleEndian.AppendUint64(key, math.Float64bits(t[i]))
		key = bin.LittleEndian.AppendUint64(key, math.Float64bits(inc[i]))
	}
	levelMemo.Lock()
	out, ok := levelMemo.m[string(key)]
	levelMemo.Unlock()
	if ok {
		return out
	}
	out = nominalLevels(t, inc)
	levelMemo.Lock()
	if len(levelMemo.m) >= 512 {
		clear(levelMemo.m)
	}
	levelMemo.m[string(key)] = out
	levelMemo.Unlock()
	return out
}
