package judge

import (
	"context"
	"fmt"
	"strings"

	"github.com/evalgate/evalgate/internal/excerpt"
	"github.com/evalgate/evalgate/internal/metric"
)

// pointwise is a judge that scores one answer on a rubric and scale: the
// rubric metric and every named criterion.
type pointwise struct {
	asker
	info   metric.Info
	rubric string
	scale  Scale
	// contextField, when set, puts that dataset column in the prompt; a
	// sample without it is an error.
	contextField  string
	questionField string
}

var _ metric.Metric = (*pointwise)(nil)

// Info describes the metric: normalized to 0..1.
func (m *pointwise) Info() metric.Info { return m.info }

// Score asks the judge. The value is the raw score mapped onto 0..1; Raw
// keeps the judge's own number and Detail its reasoning.
func (m *pointwise) Score(ctx context.Context, in metric.Input) (metric.Score, error) {
	question, err := questionOf(in, m.questionField)
	if err != nil {
		return metric.Score{}, err
	}
	var ctxText string
	if m.contextField != "" {
		if ctxText, err = contextOf(in, m.contextField); err != nil {
			return metric.Score{}, err
		}
	}
	user := userPrompt(
		section{tagQuestion, question},
		section{tagReference, in.Reference},
		section{tagContext, ctxText},
		section{tagAnswer, answerText(in.Output)},
	)
	var (
		sp    spend
		reply Reply
	)
	fields := map[string]string{"answer": in.Output, "question": question}
	if in.Reference != "" {
		fields["reference"] = in.Reference
	}
	if ctxText != "" {
		fields["context"] = ctxText
	}
	err = m.askWith(ctx, &sp, scoringSystem(m.rubric, m.scale), user, fields, func(text string) error {
		r, err := ParseReply(text, m.scale)
		reply = r
		return err
	})
	sc := metric.Score{Usage: sp.usage, CostUSD: sp.costUSD()}
	if err != nil {
		return sc, err
	}
	raw := reply.Score
	sc.Value = m.scale.normalize(raw)
	sc.Raw = &raw
	sc.Detail = detail(reply.Reasoning)
	return sc, nil
}

// noReasoning marks a score whose judge gave no explanation: allowed, but a
// reader of the report should know.
const noReasoning = "(the judge gave no reasoning)"

func detail(reasoning string) string {
	if reasoning == "" {
		return noReasoning
	}
	return excerpt.Of(reasoning, maxReasonRunes)
}

// questionOf is the question shown to the judge: the named dataset column,
// or the rendered user prompt.
func questionOf(in metric.Input, field string) (string, error) {
	if field == "" {
		return in.Question, nil
	}
	q, ok := in.Fields[field]
	if !ok {
		return "", fmt.Errorf("sample has no field %q (question_field)", field)
	}
	return q, nil
}

// contextOf is the sample's context; a missing or empty one is an error, as
// a judgement of faithfulness without it would be meaningless.
func contextOf(in metric.Input, field string) (string, error) {
	c := in.Fields[field]
	if strings.TrimSpace(c) == "" {
		return "", fmt.Errorf("sample has no context in field %q (set context_field to the column that holds it)", field)
	}
	return c, nil
}

// emptyAnswer stands for an empty output, so the judge sees an explicit
// marker rather than a missing section.
const emptyAnswer = "(empty answer)"

func answerText(s string) string {
	if strings.TrimSpace(s) == "" {
		return emptyAnswer
	}
	return s
}
