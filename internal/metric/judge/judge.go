// Package judge holds the LLM-as-judge metrics: a rubric written by the user,
// named criteria with rubrics written for evalgate (correctness,
// faithfulness, harmfulness, ...), faithfulness by claims, answer relevancy by
// generated questions and embeddings, and pairwise preference between a
// baseline's and a target's answers.
//
// A judge is a model called through a Completer (the run's Caller: same
// cache, retries, rate limits and budget as target calls). Its replies are
// untrusted text: they are parsed strictly, a reply that cannot be used is
// asked again once with a follow-up message, and a second failure is the
// record's score error, never a zero.
package judge

import (
	"context"
	"fmt"
	"slices"
	"sort"

	"github.com/evalgate/evalgate/internal/metric"
	"github.com/evalgate/evalgate/internal/provider"
)

// Completer calls the judge's model. *run.Completer satisfies it.
type Completer interface {
	Complete(ctx context.Context, req provider.Request) (provider.Response, error)
	// CostOf is the USD cost of usage on the judge's model, nil when its
	// price is unknown.
	CostOf(u provider.Usage) *float64
}

// Embedder turns texts into embedding vectors, one per text, for
// answer_relevancy. An Embedder that also has a CostOf(provider.Usage)
// *float64 method has its cost counted with the judge's; otherwise the cost
// of a score that used it is unknown.
type Embedder interface {
	Embed(ctx context.Context, texts []string) ([][]float64, provider.Usage, error)
}

// The judge metric types besides the named criteria.
const (
	TypeRubric             = "rubric"
	TypeFaithfulnessClaims = "faithfulness_claims"
	TypeAnswerRelevancy    = "answer_relevancy"
	TypePairwise           = "pairwise"
)

// Option keys of judge metrics.
const (
	optJudge         = "judge"
	optRubric        = "rubric"
	optRubricFile    = "rubric_file"
	optScale         = "scale"
	optQuestionField = "question_field"
	optContextField  = "context_field"
	optEmbedding     = "embedding"
	optQuestions     = "questions"
	optSeed          = "seed"
)

// DefaultContextField is the dataset column faithfulness reads when the
// metric names none (the AWS migration format's).
const DefaultContextField = "context"

// defaultScale is the rubric metric's scale when the suite gives none.
var defaultScale = Scale{1, 10}

// optionKeys lists each judge type's options.
func optionKeys(typ string) ([]string, bool) {
	if c, ok := criteria[typ]; ok {
		keys := []string{optJudge, optQuestionField}
		if c.Context {
			keys = append(keys, optContextField)
		}
		return keys, true
	}
	switch typ {
	case TypeRubric:
		return []string{optJudge, optRubric, optRubricFile, optScale, optQuestionField, optContextField}, true
	case TypeFaithfulnessClaims:
		return []string{optJudge, optQuestionField, optContextField}, true
	case TypeAnswerRelevancy:
		return []string{optJudge, optQuestionField, optEmbedding, optQuestions}, true
	case TypePairwise:
		return []string{optJudge, optRubric, optRubricFile, optSeed}, true
	}
	return nil, false
}

// Types lists the judge metric types, sorted.
func Types() []string {
	out := []string{TypeRubric, TypeFaithfulnessClaims, TypeAnswerRelevancy, TypePairwise}
	for k := range criteria {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Known reports whether typ is a judge metric type.
func Known(typ string) bool { _, ok := optionKeys(typ); return ok }

// OptionKeys returns the option keys a judge type accepts, sorted; nil for a
// type that is not a judge's.
func OptionKeys(typ string) []string {
	k, ok := optionKeys(typ)
	if !ok {
		return nil
	}
	k = slices.Clone(k)
	sort.Strings(k)
	return k
}

// IsJudge reports whether spec declares a judge metric (pairwise included).
func IsJudge(spec metric.Spec) bool { return Known(spec.Kind()) }

// NeedsContext reports whether a judge type reads the sample's context
// column by default (context_field, DefaultContextField when unset).
func NeedsContext(typ string) bool {
	return criteria[typ].Context || typ == TypeFaithfulnessClaims
}

// IsPairwise reports whether spec declares a pairwise preference, which is
// judged after the run (NewPairwise), not per record.
func IsPairwise(spec metric.Spec) bool { return spec.Kind() == TypePairwise }

// New builds the judge metric spec declares, calling the judge through c;
// emb is only used (and then required) by answer_relevancy. Unknown, missing
// or malformed options are errors that name the metric.
func New(spec metric.Spec, c Completer, emb Embedder) (metric.Metric, error) {
	typ := spec.Kind()
	if spec.Name == "" {
		spec.Name = typ
	}
	spec.Type = typ
	keys, ok := optionKeys(typ)
	if !ok {
		return nil, specErr(spec, "%q is not a judge metric type (judge types: %v)", typ, Types())
	}
	for k := range spec.Options {
		if !slices.Contains(keys, k) {
			return nil, specErr(spec, "unknown option %q; allowed: %v", k, OptionKeys(typ))
		}
	}
	if typ == TypePairwise {
		return nil, specErr(spec, "pairwise preference compares two runs' answers after the run; build it with NewPairwise, not as a per-record metric")
	}
	if c == nil {
		return nil, specErr(spec, "no judge model to call")
	}
	cfg, err := Config(spec)
	if err != nil {
		return nil, err
	}
	qField, err := stringOption(spec, optQuestionField)
	if err != nil {
		return nil, err
	}
	a := asker{c: c, model: cfg.Model, params: cfg.Params}
	base := pointwise{asker: a, questionField: qField}

	if cr, ok := criteria[typ]; ok {
		m := base
		m.info = criterionInfo(spec.Name, cr)
		m.rubric, m.scale = cr.Rubric, cr.Scale
		if cr.Context {
			if m.contextField, err = contextFieldOption(spec); err != nil {
				return nil, err
			}
		}
		return &m, nil
	}
	switch typ {
	case TypeRubric:
		m := base
		if m.rubric, err = rubricOption(spec); err != nil {
			return nil, err
		}
		if m.scale, err = scaleOption(spec, defaultScale); err != nil {
			return nil, err
		}
		if m.contextField, err = stringOption(spec, optContextField); err != nil {
			return nil, err
		}
		m.info = metric.Info{Name: spec.Name, Min: 0, Max: 1, Direction: metric.HigherIsBetter}
		return &m, nil
	case TypeFaithfulnessClaims:
		cf, err := contextFieldOption(spec)
		if err != nil {
			return nil, err
		}
		return &claims{asker: a, name: spec.Name, questionField: qField, contextField: cf}, nil
	case TypeAnswerRelevancy:
		if emb == nil {
			return nil, specErr(spec, "needs an embedding model: {provider: bedrock, model: amazon.titan-embed-text-v2:0}")
		}
		if _, err := EmbeddingConfigOf(spec); err != nil {
			return nil, err
		}
		n, err := intOption(spec, optQuestions, defaultQuestions, maxQuestions)
		if err != nil {
			return nil, err
		}
		return &relevancy{asker: a, name: spec.Name, questionField: qField, emb: emb, n: n}, nil
	}
	return nil, fmt.Errorf("metric %q: judge type %q has no constructor", spec.Name, typ) // unreachable: optionKeys lists every type
}

func contextFieldOption(spec metric.Spec) (string, error) {
	f, err := stringOption(spec, optContextField)
	if f == "" && err == nil {
		f = DefaultContextField
	}
	return f, err
}
