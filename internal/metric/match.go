package metric

import (
	"regexp"
	"strings"
)

// String checks on the output: pass/fail metrics for guard rails such as
// "mentions the refund policy" or "never prints an API key".

func init() {
	register("contains", []string{"value"}, newContains(false, false))
	register("icontains", []string{"value"}, newContains(true, false))
	register("not_contains", []string{"value"}, newContains(false, true))
	register("not_icontains", []string{"value"}, newContains(true, true))
	register("regex", []string{"pattern"}, newRegex(false))
	register("not_regex", []string{"pattern"}, newRegex(true))
}

func passFailInfo(name string) Info {
	return Info{Name: name, Min: 0, Max: 1, Direction: HigherIsBetter, PassFail: true}
}

// newContains builds a substring check. The case-insensitive variants compare
// Unicode-lowercased strings (Python's str.lower), so "ÉTÉ" matches "été".
func newContains(fold, negate bool) func(Spec) (Metric, error) {
	return func(spec Spec) (Metric, error) {
		value, err := spec.requiredStr("value")
		if err != nil {
			return nil, err
		}
		if fold {
			value = pyLower(value)
		}
		return &scorer{
			info: passFailInfo(spec.Name),
			score: func(in Input) (Score, error) {
				out := in.Output
				if fold {
					out = pyLower(out)
				}
				return passFail(strings.Contains(out, value) != negate), nil
			},
		}, nil
	}
}

// newRegex builds a regular-expression check (Go RE2 syntax, unanchored:
// use ^...$ to match the whole output). A pattern that does not compile is a
// config error at load time, not a per-record failure.
func newRegex(negate bool) func(Spec) (Metric, error) {
	return func(spec Spec) (Metric, error) {
		pattern, err := spec.requiredStr("pattern")
		if err != nil {
			return nil, err
		}
		re, err := regexp.Compile(pattern)
		if err != nil {
			return nil, spec.errorf("option \"pattern\" is not a valid RE2 regular expression: %w", err)
		}
		return &scorer{
			info: passFailInfo(spec.Name),
			score: func(in Input) (Score, error) {
				return passFail(re.MatchString(in.Output) != negate), nil
			},
		}, nil
	}
}
