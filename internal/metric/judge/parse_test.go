package judge

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseReplyRecorded(t *testing.T) {
	t.Parallel()
	scale := Scale{1, 10}
	tests := []struct {
		file      string
		score     float64
		reasoning string // substring; "" means none given
		err       string // substring of the error, "" for none
	}{
		{file: "well_formed.txt", score: 7, reasoning: "five business days"},
		{file: "fenced.txt", score: 8, reasoning: "refund period"},
		{file: "prose_wrapped.txt", score: 9, reasoning: "Same facts"},
		{file: "string_score.txt", score: 6, reasoning: "Partly"},
		{file: "no_reasoning.txt", score: 4},
		{file: "capitalized_keys.txt", score: 10, reasoning: "Correct and complete"},
		{file: "injected.txt", score: 2, reasoning: "ignored it"},
		{file: "out_of_range.txt", err: "score 11 is outside the scale 1 to 10"},
		{file: "missing_score.txt", err: `no "score" field`},
		{file: "refusal.txt", err: "judge refused"},
		{file: "two_scores.txt", err: `several different "score" values`},
		{file: "truncated.txt", err: "no JSON object"},
		{file: "non_numeric_score.txt", err: `score "high" is not a number`},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			r, err := ParseReply(recorded(t, tt.file), scale)
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.score, r.Score)
			if tt.reasoning == "" {
				assert.Empty(t, r.Reasoning)
			} else {
				assert.Contains(t, r.Reasoning, tt.reasoning)
			}
		})
	}
}

func TestParseReplyEdgeCases(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		reply string
		scale Scale
		score float64
		err   string
	}{
		{"empty", "   ", Scale{1, 10}, 0, "empty reply"},
		{"null score", `{"score": null}`, Scale{1, 10}, 0, "score is null"},
		{"array score", `{"score": [7]}`, Scale{1, 10}, 0, "is not a number"},
		{"below scale", `{"score": 0}`, Scale{1, 10}, 0, "outside the scale"},
		{"fraction within scale", `{"score": 7.5}`, Scale{1, 10}, 7.5, ""},
		{"boolean on binary scale", `{"score": true, "reasoning": "harmful"}`, Scale{0, 1}, 1, ""},
		{"boolean on 1..10", `{"score": false}`, Scale{1, 10}, 0, "not a number on the scale"},
		{"same score twice", "{\"score\": 3}\n```json\n{\"score\": 3.0}\n```", Scale{1, 5}, 3, ""},
		{"nested object is part of its parent", `{"score": 4, "details": {"score": 1}}`, Scale{1, 5}, 4, ""},
		{"braces in prose before the object", `Using {curly} notes: {"score": 2}`, Scale{1, 5}, 2, ""},
		{"huge exponent", `{"score": 1e400}`, Scale{1, 5}, 0, "not a number"},
		{"plain number without JSON", "7", Scale{1, 10}, 0, "no JSON object"},
		{"cannot without JSON is a refusal", "I cannot evaluate this answer.", Scale{1, 10}, 0, "judge refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := ParseReply(tt.reply, tt.scale)
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.score, r.Score)
		})
	}
}

func TestErrorsQuoteModelText(t *testing.T) {
	t.Parallel()
	reply := "no json here\n::error::forged annotation\x1b[31m" + strings.Repeat("x", 1000)
	_, err := ParseReply(reply, Scale{1, 10})
	require.Error(t, err)
	msg := err.Error()
	assert.NotContains(t, msg, "\n", "a newline in model text could forge a log line")
	assert.NotContains(t, msg, "\x1b")
	assert.Less(t, len(msg), 400, "the quoted reply is shortened")
}

func FuzzParseReply(f *testing.F) {
	entries, err := os.ReadDir(filepath.Join("testdata", "replies"))
	require.NoError(f, err)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("testdata", "replies", e.Name()))
		require.NoError(f, err)
		f.Add(string(b))
	}
	f.Add(`{"score": "1e309"}`)
	f.Add(`{{{{{"score": 3`)
	f.Fuzz(func(t *testing.T, reply string) {
		scale := Scale{1, 10}
		r, err := ParseReply(reply, scale)
		if err != nil {
			assert.True(t, utf8.ValidString(err.Error()), "model text is quoted in errors")
			assert.NotContains(t, err.Error(), "\n")
			return
		}
		assert.False(t, math.IsNaN(r.Score))
		assert.GreaterOrEqual(t, r.Score, scale.Min)
		assert.LessOrEqual(t, r.Score, scale.Max)
		assert.Contains(t, reply, "{", "a score only ever comes from a JSON object")
	})
}
