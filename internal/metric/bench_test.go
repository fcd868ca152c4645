package metric

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"
)

// benchText returns about n bytes of English-like text from a fixed seed, so
// runs are comparable.
func benchText(seed uint64, n int) string {
	words := strings.Fields("the a model answer refund policy customer order shipping days within " +
		"return item account support request please contact our team will process your " +
		"payment card invoice delivery address update cancel subscription plan monthly annual")
	r := rand.New(rand.NewPCG(seed, 0))
	var b strings.Builder
	for b.Len() < n {
		b.WriteString(words[r.IntN(len(words))])
		if r.IntN(12) == 0 {
			b.WriteString(". ")
		} else {
			b.WriteByte(' ')
		}
	}
	return b.String()
}

func benchMetric(b *testing.B, spec Spec) {
	m, err := New(spec)
	if err != nil {
		b.Fatal(err)
	}
	out, refText := benchText(1, 1024), benchText(2, 1024)
	in := Input{Output: out, Reference: refText, References: []string{refText}}
	ctx := context.Background()
	b.SetBytes(int64(len(out) + len(refText)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Score(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRougeL(b *testing.B) { benchMetric(b, Spec{Name: "rouge_l"}) }
func BenchmarkRougeLStemmed(b *testing.B) {
	benchMetric(b, Spec{Name: "rouge_l", Options: map[string]any{"stemmer": true}})
}
func BenchmarkBLEU(b *testing.B)        { benchMetric(b, Spec{Name: "bleu"}) }
func BenchmarkLevenshtein(b *testing.B) { benchMetric(b, Spec{Name: "levenshtein"}) }
