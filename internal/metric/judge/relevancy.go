package judge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/evalgate/evalgate/internal/excerpt"
	"github.com/evalgate/evalgate/internal/metric"
	"github.com/evalgate/evalgate/internal/provider"
)

// relevancy is answer relevancy (as Ragas computes it): the judge writes
// questions the answer would answer, and the score is their mean cosine
// similarity to the real question, zero for a noncommittal answer.
type relevancy struct {
	asker
	name          string
	questionField string
	emb           Embedder
	n             int
}

var _ metric.Metric = (*relevancy)(nil)

// Generated questions: Ragas uses 3; more cost tokens and add little.
const (
	defaultQuestions = 3
	maxQuestions     = 10
)

// Info describes the metric: a similarity clamped to 0..1.
func (m *relevancy) Info() metric.Info {
	return metric.Info{Name: m.name, Min: 0, Max: 1, Direction: metric.HigherIsBetter}
}

func questionsSystem(n int) string {
	return fmt.Sprintf(`You read an AI system's answer and write the questions it answers.

%s

Write %d different questions that the answer would be a good answer to, each on its own, without looking at the question in <question> tags (it is given only to tell you the setting). Also say whether the answer is noncommittal: evasive, vague or a refusal ("I don't know", "it depends" without saying on what).

Reply with only a JSON object and no other text:
{"questions": ["<question>", ...], "noncommittal": false}`, untrustedNote, n)
}

// costOfer is the optional cost method of an Embedder.
type costOfer interface {
	CostOf(u provider.Usage) *float64
}

// Score makes one judge call and one embedding call.
func (m *relevancy) Score(ctx context.Context, in metric.Input) (metric.Score, error) {
	question, err := questionOf(in, m.questionField)
	if err != nil {
		return metric.Score{}, err
	}
	if strings.TrimSpace(question) == "" {
		return metric.Score{}, errors.New("sample has no question to compare with")
	}
	var (
		sp           spend
		generated    []string
		noncommittal bool
	)
	err = m.ask(ctx, &sp, questionsSystem(m.n), userPrompt(section{tagQuestion, question}, section{tagAnswer, answerText(in.Output)}),
		func(text string) error {
			q, nc, err := parseQuestions(text)
			generated, noncommittal = q, nc
			return err
		})
	if err != nil {
		return metric.Score{Usage: sp.usage, CostUSD: sp.costUSD()}, fmt.Errorf("generate questions: %w", err)
	}
	if noncommittal {
		// Ragas scores a noncommittal answer 0 whatever the similarity:
		// no need to pay for the embeddings.
		return metric.Score{Value: 0, Usage: sp.usage, CostUSD: sp.costUSD(),
			Detail: excerpt.Of("noncommittal answer; generated questions: "+strings.Join(quoteAll(generated), "; "), maxReasonRunes)}, nil
	}
	vecs, usage, err := m.emb.Embed(ctx, append([]string{question}, generated...))
	if c, ok := m.emb.(costOfer); ok {
		sp.add(usage, c.CostOf(usage))
	} else {
		sp.add(usage, nil)
	}
	sc := metric.Score{Usage: sp.usage, CostUSD: sp.costUSD()}
	if err != nil {
		return sc, fmt.Errorf("embed questions: %w", err)
	}
	if len(vecs) != len(generated)+1 {
		return sc, fmt.Errorf("embed questions: %d vectors for %d texts", len(vecs), len(generated)+1)
	}
	sum := 0.0
	for _, v := range vecs[1:] {
		c, err := cosine(vecs[0], v)
		if err != nil {
			return sc, fmt.Errorf("embed questions: %w", err)
		}
		sum += c
	}
	mean := sum / float64(len(generated))
	sc.Raw = &mean
	sc.Value = min(max(mean, 0), 1)
	sc.Detail = excerpt.Of("generated questions: "+strings.Join(quoteAll(generated), "; "), maxReasonRunes)
	return sc, nil
}

// parseQuestions reads {"questions": [...], "noncommittal": bool}.
func parseQuestions(text string) ([]string, bool, error) {
	v, obj, err := field(text, "questions")
	if err != nil {
		return nil, false, err
	}
	var list []string
	if err := json.Unmarshal(v, &list); err != nil {
		return nil, false, fmt.Errorf("questions must be a list of strings, got %s", quote(string(v)))
	}
	out := list[:0]
	for _, q := range list {
		if q = strings.TrimSpace(q); q != "" {
			out = append(out, q)
		}
	}
	if len(out) == 0 {
		return nil, false, errors.New("no questions generated")
	}
	nc := false
	if raw, ok := obj["noncommittal"]; ok {
		if nc, err = yesNo(raw); err != nil {
			return nil, false, fmt.Errorf("noncommittal: %w", err)
		}
	}
	return out, nc, nil
}

// cosine is the cosine similarity of two vectors of the same length.
func cosine(a, b []float64) (float64, error) {
	if len(a) != len(b) || len(a) == 0 {
		return 0, fmt.Errorf("vectors of lengths %d and %d", len(a), len(b))
	}
	var dot, na, nb float64
	for i := range a {
		dot += a[i] * b[i]
		na += a[i] * a[i]
		nb += b[i] * b[i]
	}
	if na == 0 || nb == 0 {
		return 0, errors.New("zero vector")
	}
	return dot / (math.Sqrt(na) * math.Sqrt(nb)), nil
}

func quoteAll(list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = quote(s)
	}
	return out
}
