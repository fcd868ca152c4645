package spelling

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSuggest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		word       string
		candidates []string
		want       string
	}{
		{"temprature", []string{"temperature", "top_p", "top_k"}, "temperature"},
		{"tpo_k", []string{"temperature", "top_p", "top_k"}, "top_k"},
		{"Model", []string{"model", "mode"}, "model"},
		{"foo", []string{"temperature", "top_k"}, ""},
		{"x", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.word, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, Closest(tt.word, tt.candidates))
		})
	}
}

func TestDistance(t *testing.T) {
	t.Parallel()
	assert.Equal(t, 0, Distance("", ""))
	assert.Equal(t, 3, Distance("kitten", "sitting"))
	assert.Equal(t, 1, Distance("tpyo", "typo"), "a transposition is one edit")
	assert.Equal(t, 1, Distance("café", "cafe"), "runes, not bytes")
}
