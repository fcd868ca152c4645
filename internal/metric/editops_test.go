package metric

// The edit script is not used by any metric: it lives with the tests, where
// the conformance suite checks it against rapidfuzz's editops (the reference
// vectors hold its scripts), as a check of the distance's tie-breaking.

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
