// Package excerpt shortens text for error messages, reports and records. It
// cuts at a rune boundary, never inside a UTF-8 sequence, so that an excerpt
// of a model's answer or a dataset cell is still valid text.
package excerpt

// Marker ends an excerpt that was shortened.
const Marker = "…"

// Cut returns the first n runes of s and whether anything was cut.
func Cut(s string, n int) (string, bool) {
	i := 0
	for j := range s {
		if i == n {
			return s[:j], true
		}
		i++
	}
	return s, false
}

// Of returns s when it has at most n runes, else its first n runes and Marker.
func Of(s string, n int) string {
	if c, cut := Cut(s, n); cut {
		return c + Marker
	}
	return s
}
