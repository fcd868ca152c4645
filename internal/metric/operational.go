package metric

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/evalgate/evalgate/internal/excerpt"
)

// Metrics that read the record rather than compare texts: output length,
// latency, cost, and scores already present in the dataset.

func init() {
	register("length", []string{"min", "max", "unit"}, newLength)
	register("latency_ms", nil, newLatency)
	register("cost_usd", nil, newCost)
	register("imported", []string{"field", "min", "max", "direction", "reasoning_field"}, newImported)
}

// newLength passes when the output's length is within [min, max]; either
// bound may be left out, not both.
func newLength(spec Spec) (Metric, error) {
	lo, hasLo, err := spec.num("min")
	if err != nil {
		return nil, err
	}
	hi, hasHi, err := spec.num("max")
	if err != nil {
		return nil, err
	}
	if !hasLo && !hasHi {
		return nil, spec.errorf("option \"min\" or \"max\" is required")
	}
	if (hasLo && lo < 0) || (hasHi && hi < 0) {
		return nil, spec.errorf("options \"min\" and \"max\" must not be negative")
	}
	if hasLo && hasHi && lo > hi {
		return nil, spec.errorf("option \"min\" (%g) is greater than \"max\" (%g)", lo, hi)
	}
	unit, err := spec.oneOf("unit", "chars", "chars", "words")
	if err != nil {
		return nil, err
	}
	return &scorer{
		info: passFailInfo(spec.Name),
		score: func(in Input) (Score, error) {
			var n int
			if unit == "words" {
				n = len(strings.Fields(in.Output))
			} else {
				n = utf8.RuneCountInString(in.Output)
			}
			ok := (!hasLo || float64(n) >= lo) && (!hasHi || float64(n) <= hi)
			s := passFail(ok)
			// Only a failure needs explaining: the report shows details.
			switch {
			case hasLo && float64(n) < lo:
				s.Detail = fmt.Sprintf("%d %s, under the minimum %g", n, unit, lo)
			case hasHi && float64(n) > hi:
				s.Detail = fmt.Sprintf("%d %s, over the maximum %g", n, unit, hi)
			}
			return s, nil
		},
	}, nil
}

func newLatency(spec Spec) (Metric, error) {
	return &scorer{
		info: Info{Name: spec.Name, Min: 0, Max: math.Inf(1), Direction: LowerIsBetter},
		score: func(in Input) (Score, error) {
			// Every real call takes some time: zero means it was not
			// measured (a recorded output without a latency column).
			if in.Latency <= 0 {
				return Score{}, errors.New("latency unknown")
			}
			return Score{Value: float64(in.Latency) / float64(time.Millisecond)}, nil
		},
	}, nil
}

func newCost(spec Spec) (Metric, error) {
	return &scorer{
		info: Info{Name: spec.Name, Min: 0, Max: math.Inf(1), Direction: LowerIsBetter},
		score: func(in Input) (Score, error) {
			if in.CostUSD == nil {
				return Score{}, errors.New("price unknown")
			}
			return Score{Value: *in.CostUSD}, nil
		},
	}, nil
}

// newImported reads a score logged in a dataset column (an earlier judge's
// score, a human rating) and normalises it from [min, max] to [0, 1], so a
// source model's logged scores can be the baseline without re-scoring.
func newImported(spec Spec) (Metric, error) {
	field, err := spec.requiredStr("field")
	if err != nil {
		return nil, err
	}
	lo, hasLo, err := spec.num("min")
	if err != nil {
		return nil, err
	}
	hi, hasHi, err := spec.num("max")
	if err != nil {
		return nil, err
	}
	if !hasLo || !hasHi {
		return nil, spec.errorf("options \"min\" and \"max\" are required (the scale of column %q, e.g. min: 1, max: 10)", field)
	}
	if lo >= hi {
		return nil, spec.errorf("option \"min\" (%g) must be less than \"max\" (%g)", lo, hi)
	}
	dir, err := spec.oneOf("direction", string(HigherIsBetter), string(HigherIsBetter), string(LowerIsBetter))
	if err != nil {
		return nil, err
	}
	reasoning, _, err := spec.str("reasoning_field")
	if err != nil {
		return nil, err
	}
	return &scorer{
		info: Info{Name: spec.Name, Min: 0, Max: 1, Direction: Direction(dir)},
		score: func(in Input) (Score, error) {
			raw, ok := in.Fields[field]
			if !ok {
				return Score{}, fmt.Errorf("field %q is missing", field)
			}
			txt := strings.TrimSpace(raw)
			if txt == "" {
				return Score{}, fmt.Errorf("field %q is empty", field)
			}
			v, err := strconv.ParseFloat(txt, 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return Score{}, fmt.Errorf("field %q: %q is not a number", field, excerpt.Of(raw, 40))
			}
			if v < lo || v > hi {
				return Score{}, fmt.Errorf("field %q: %g is outside the declared range [%g, %g]", field, v, lo, hi)
			}
			s := Score{Value: (v - lo) / (hi - lo), Raw: &v}
			if reasoning != "" {
				s.Detail = in.Fields[reasoning]
			}
			return s, nil
		},
	}, nil
}
