package metric

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
)

// errNoReference is returned by metrics that compare with the ground truth
// when the sample has none; the gate records it instead of scoring a zero.
var errNoReference = errors.New("sample has no reference")

// errorf formats an error that names the metric and its type, the form every
// construction error takes: metric "mentions_refund" (icontains): ...
func (s Spec) errorf(format string, args ...any) error {
	return fmt.Errorf("metric %q (%s): "+format, append([]any{s.Name, s.Type}, args...)...)
}

// str reads a string option; ok is false when the option is absent.
func (s Spec) str(key string) (v string, ok bool, err error) {
	raw, ok := s.Options[key]
	if !ok || raw == nil {
		return "", false, nil
	}
	v, isStr := raw.(string)
	if !isStr {
		return "", true, s.errorf("option %q must be a string, got %T", key, raw)
	}
	return v, true, nil
}

// requiredStr reads a string option that must be present and non-empty.
func (s Spec) requiredStr(key string) (string, error) {
	v, ok, err := s.str(key)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", s.errorf("option %q is required", key)
	}
	if v == "" {
		return "", s.errorf("option %q must not be empty", key)
	}
	return v, nil
}

// num reads a numeric option. YAML gives ints or floats, JSON gives floats;
// both are accepted, strings are not (a quoted "0.5" is a config mistake).
func (s Spec) num(key string) (v float64, ok bool, err error) {
	raw, ok := s.Options[key]
	if !ok || raw == nil {
		return 0, false, nil
	}
	switch n := raw.(type) {
	case int:
		v = float64(n)
	case int8:
		v = float64(n)
	case int16:
		v = float64(n)
	case int32:
		v = float64(n)
	case int64:
		v = float64(n)
	case uint:
		v = float64(n)
	case uint8:
		v = float64(n)
	case uint16:
		v = float64(n)
	case uint32:
		v = float64(n)
	case uint64:
		v = float64(n)
	case float32:
		v = float64(n)
	case float64:
		v = n
	default:
		return 0, true, s.errorf("option %q must be a number, got %T", key, raw)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, true, s.errorf("option %q must be a finite number", key)
	}
	return v, true, nil
}

// boolean reads a boolean option, def when absent.
func (s Spec) boolean(key string, def bool) (bool, error) {
	raw, ok := s.Options[key]
	if !ok || raw == nil {
		return def, nil
	}
	b, isBool := raw.(bool)
	if !isBool {
		return false, s.errorf("option %q must be true or false, got %T", key, raw)
	}
	return b, nil
}

// oneOf reads a string option restricted to choices, def when absent.
func (s Spec) oneOf(key, def string, choices ...string) (string, error) {
	v, ok, err := s.str(key)
	if err != nil {
		return "", err
	}
	if !ok {
		return def, nil
	}
	if !slices.Contains(choices, v) {
		return "", s.errorf("option %q must be one of %q, got %q", key, choices, v)
	}
	return v, nil
}

// scorer is a Metric made of an Info and a function; most built-ins need no
// more state than their closure.
type scorer struct {
	info  Info
	score func(in Input) (Score, error)
}

// Info returns the metric's description.
func (m *scorer) Info() Info { return m.info }

// Score scores one record; built-ins are pure CPU work and ignore ctx.
func (m *scorer) Score(_ context.Context, in Input) (Score, error) { return m.score(in) }

// passFail turns a boolean outcome into the 0/1 score of a PassFail metric.
func passFail(ok bool) Score {
	if ok {
		return Score{Value: 1}
	}
	return Score{Value: 0}
}

// references returns the sample's references, or errNoReference when it has
// none. An empty piece among several ("Paris<OR>") is kept, as fmeval does.
func references(in Input) ([]string, error) {
	if len(in.References) > 0 {
		for _, r := range in.References {
			if r != "" {
				return in.References, nil
			}
		}
	}
	if in.Reference != "" {
		return []string{in.Reference}, nil
	}
	return nil, errNoReference
}

// bestOver scores the output against each reference and keeps the best,
// the multi-reference rule of fmeval (max per metric) and rouge-score.
func bestOver(in Input, f func(ref string) float64) (Score, error) {
	refs, err := references(in)
	if err != nil {
		return Score{}, err
	}
	best := math.Inf(-1)
	for _, r := range refs {
		best = max(best, f(r))
	}
	return Score{Value: best}, nil
}
