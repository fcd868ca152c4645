// Package spelling finds what a user most likely meant: the known name
// closest to a misspelt one, for the "did you mean" of error messages.
package spelling

import "strings"

// Closest returns the candidate closest to word by edit distance (case
// ignored, ties to the alphabetically first), or "" when none is close enough
// to be what the user meant. About one typo per three characters is allowed,
// so "temprature" finds "temperature" and "rouge" finds "rouge_l", but "foo"
// does not find "top_k".
func Closest(word string, candidates []string) string {
	best, bestDist := "", -1
	lw := strings.ToLower(word)
	for _, c := range candidates {
		d := Distance(lw, strings.ToLower(c))
		if bestDist < 0 || d < bestDist || (d == bestDist && c < best) {
			best, bestDist = c, d
		}
	}
	limit := max(1, (len([]rune(word))+2)/3)
	if best == "" || bestDist > limit {
		return ""
	}
	return best
}

// Distance is the optimal string alignment (restricted Damerau-Levenshtein)
// distance over runes, so that a swap of two letters ("tpyo") is one edit.
func Distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
