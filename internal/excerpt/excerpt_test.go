package excerpt

import (
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

func TestOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s    string
		n    int
		want string
	}{
		{"", 3, ""},
		{"abc", 3, "abc"},
		{"abcd", 3, "abc…"},
		{"héllo wörld", 7, "héllo w…"}, // runes, not bytes
		{"日本語のテキスト", 3, "日本語…"},
		{"abc", 0, "…"},
	}
	for _, tt := range tests {
		got := Of(tt.s, tt.n)
		assert.Equal(t, tt.want, got, "Of(%q, %d)", tt.s, tt.n)
		assert.True(t, utf8.ValidString(got), "never cut inside a rune: %q", got)
	}
	c, cut := Cut("abc", 5)
	assert.Equal(t, "abc", c)
	assert.False(t, cut)
}
