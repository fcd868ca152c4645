package metric

// Levenshtein similarity as rapidfuzz computes it (rapidfuzz.distance.Levenshtein,
// commit 7ef0e57): edit distance over Unicode code points, normalised by the
// largest possible distance for the two lengths.

func init() {
	register("levenshtein", nil, func(spec Spec) (Metric, error) {
		return &scorer{
			info: Info{Name: spec.Name, Min: 0, Max: 1, Direction: HigherIsBetter, NeedsReference: true},
			score: func(in Input) (Score, error) {
				return bestOver(in, func(ref string) float64 {
					return LevenshteinNormalizedSimilarity(in.Output, ref)
				})
			},
		}, nil
	})
}

// EditCosts are the weights of the three edit operations, in rapidfuzz's
// order (insert, delete, replace).
type EditCosts struct{ Insert, Delete, Replace int }

// UnitCosts is the classic Levenshtein distance.
var UnitCosts = EditCosts{1, 1, 1}

// IndelCosts allow only insertions and deletions (rapidfuzz's Indel distance).
var IndelCosts = EditCosts{1, 1, 2}

// LevenshteinDistance is the weighted edit distance from a to b over code
// points, with costs ins, del and sub for insertion, deletion and replacement.
func LevenshteinDistance(a, b string, ins, del, sub int) int {
	return EditDistance([]rune(a), []rune(b), EditCosts{ins, del, sub}, -1)
}

// LevenshteinNormalizedSimilarity is rapidfuzz's Levenshtein
// normalized_similarity with unit weights: 1 - distance/max(len(a), len(b)),
// and 1 when both are empty.
func LevenshteinNormalizedSimilarity(a, b string) float64 {
	ra, rb := []rune(a), []rune(b)
	maximum := EditMaximum(len(ra), len(rb), UnitCosts)
	if maximum == 0 {
		return 1
	}
	return 1 - float64(EditDistance(ra, rb, UnitCosts, -1))/float64(maximum)
}

// EditMaximum is the largest weighted distance between sequences of lengths
// n1 and n2 (rapidfuzz's maximum): delete all and insert all, or replace the
// overlap and insert or delete the rest, whichever is cheaper.
func EditMaximum(n1, n2 int, c EditCosts) int {
	m := n1*c.Delete + n2*c.Insert
	if n1 >= n2 {
		return min(m, n2*c.Replace+(n1-n2)*c.Delete)
	}
	return min(m, n1*c.Replace+(n2-n1)*c.Insert)
}

// EditDistance is the weighted edit distance from a to b. With cutoff >= 0 it
// follows rapidfuzz's score_cutoff: a distance above cutoff is reported as
// cutoff+1, and the computation stops as soon as that is certain.
func EditDistance[T comparable](a, b []T, c EditCosts, cutoff int) int {
	// A common prefix and suffix never need editing; dropping them keeps the
	// quadratic part to the region that differs.
	for len(a) > 0 && len(b) > 0 && a[0] == b[0] {
		a, b = a[1:], b[1:]
	}
	for len(a) > 0 && len(b) > 0 && a[len(a)-1] == b[len(b)-1] {
		a, b = a[:len(a)-1], b[:len(b)-1]
	}
	capped := func(d int) int {
		if cutoff >= 0 && d > cutoff {
			return cutoff + 1
		}
		return d
	}
	if len(a) == 0 {
		return capped(len(b) * c.Insert)
	}
	if len(b) == 0 {
		return capped(len(a) * c.Delete)
	}
	// prev[j] is the distance from a[:i-1] to b[:j]; one row at a time.
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j * c.Insert
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i * c.Delete
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			d := prev[j-1]
			if a[i-1] != b[j-1] {
				d += c.Replace
			}
			d = min(d, prev[j]+c.Delete, cur[j-1]+c.Insert)
			cur[j] = d
			rowMin = min(rowMin, d)
		}
		// Costs are non-negative, so no later row can go below this row's
		// minimum: past the cutoff the answer is already cutoff+1.
		if cutoff >= 0 && rowMin > cutoff {
			return cutoff + 1
		}
		prev, cur = cur, prev
	}
	return capped(prev[len(b)])
}

// Editop is one step of an edit script: Op is "insert", "delete" or
// "replace"; Src and Dest are positions in the source and destination.
type Editop struct {
	Op        string
	Src, Dest int
}

// LevenshteinEditops returns a minimal unit-cost edit script from a to b,
// breaking ties the way rapidfuzz's editops does (it walks back from the end
// preferring deletion, then insertion, then the diagonal), so scripts match
// rapidfuzz's, not just their length.
func LevenshteinEditops(a, b string) []Editop {
	s1, s2 := []rune(a), []rune(b)
	prefix := 0
	for prefix < len(s1) && prefix < len(s2) && s1[prefix] == s2[prefix] {
		prefix++
	}
	s1, s2 = s1[prefix:], s2[prefix:]
	for len(s1) > 0 && len(s2) > 0 && s1[len(s1)-1] == s2[len(s2)-1] {
		s1, s2 = s1[:len(s1)-1], s2[:len(s2)-1]
	}
	// Full matrix d[i][j]: distance from s1[:i] to s2[:j].
	d := make([][]int, len(s1)+1)
	for i := range d {
		d[i] = make([]int, len(s2)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(s1); i++ {
		for j := 1; j <= len(s2); j++ {
			sub := d[i-1][j-1]
			if s1[i-1] != s2[j-1] {
				sub++
			}
			d[i][j] = min(sub, d[i-1][j]+1, d[i][j-1]+1)
		}
	}
	dist := d[len(s1)][len(s2)]
	ops := make([]Editop, dist)
	// col walks s1 and row walks s2, as in rapidfuzz's bit-parallel matrix
	// where VP/VN are the vertical deltas d[col][row]-d[col-1][row] = +1/-1.
	col, row := len(s1), len(s2)
	for row > 0 && col > 0 {
		if d[col][row]-d[col-1][row] == 1 {
			dist--
			col--
			ops[dist] = Editop{"delete", col + prefix, row + prefix}
			continue
		}
		row--
		if row > 0 && d[col][row]-d[col-1][row] == -1 {
			dist--
			ops[dist] = Editop{"insert", col + prefix, row + prefix}
			continue
		}
		col--
		if s1[col] != s2[row] {
			dist--
			ops[dist] = Editop{"replace", col + prefix, row + prefix}
		}
	}
	for col > 0 {
		dist--
		col--
		ops[dist] = Editop{"delete", col + prefix, row + prefix}
	}
	for row > 0 {
		dist--
		row--
		ops[dist] = Editop{"insert", col + prefix, row + prefix}
	}
	return ops
}
