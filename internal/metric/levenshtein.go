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
