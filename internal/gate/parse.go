package gate

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/evalgate/evalgate/internal/suite"
)

// ParseCriterion reads a criterion from the command line:
// METRIC:KEY=VALUE[,KEY=VALUE...] with keys min, max_drop, max_increase,
// max_error_rate, mode and severity, as in evalgate.yaml. Margins are
// absolute (0.05) or relative (5%):
//
//	correctness:max_drop=0.05,mode=non_inferiority
//	latency_p95:max_increase=25%,severity=warn
func ParseCriterion(s string) (suite.Criterion, error) {
	name, rest, ok := strings.Cut(s, ":")
	name = strings.TrimSpace(name)
	if !ok || name == "" || strings.TrimSpace(rest) == "" {
		return suite.Criterion{}, fmt.Errorf("criterion %q: want METRIC:KEY=VALUE[,KEY=VALUE], e.g. correctness:max_drop=0.05", s)
	}
	c := suite.Criterion{Metric: name}
	for _, kv := range strings.Split(rest, ",") {
		k, val, ok := strings.Cut(kv, "=")
		k, val = strings.TrimSpace(k), strings.TrimSpace(val)
		if !ok || val == "" {
			return c, fmt.Errorf("criterion %q: %q is not KEY=VALUE", s, kv)
		}
		var err error
		switch k {
		case "min":
			c.Min, err = parseNumber(val)
		case "max_error_rate":
			c.MaxErrorRate, err = parseShare(val)
		case "max_drop":
			c.MaxDrop, err = ParseMargin(val)
		case "max_increase":
			c.MaxIncrease, err = ParseMargin(val)
		case "mode":
			c.Mode = suite.Mode(val)
		case "severity":
			c.Severity = suite.Severity(val)
		default:
			return c, fmt.Errorf("criterion %q: unknown key %q (want min, max_drop, max_increase, max_error_rate, mode or severity)", s, k)
		}
		if err != nil {
			return c, fmt.Errorf("criterion %q: %s: %w", s, k, err)
		}
	}
	return c, nil
}

// ParseMargin reads an allowed change: absolute (0.05) or relative ("5%",
// stored as the fraction 0.05, as the suite loader does).
func ParseMargin(s string) (*suite.Margin, error) {
	if pct, ok := strings.CutSuffix(s, "%"); ok {
		f, err := parseFloat(strings.TrimSpace(pct))
		if err != nil || f < 0 {
			return nil, fmt.Errorf("%q is not a percentage >= 0", s)
		}
		return &suite.Margin{Value: f / 100, Relative: true}, nil
	}
	f, err := parseFloat(s)
	if err != nil || f < 0 {
		return nil, fmt.Errorf("%q is not a margin >= 0 (0.05) or a percentage (5%%)", s)
	}
	return &suite.Margin{Value: f}, nil
}

func parseNumber(s string) (*float64, error) {
	f, err := parseFloat(s)
	if err != nil {
		return nil, fmt.Errorf("%q is not a number", s)
	}
	return &f, nil
}

// parseShare reads a share as 0.02 or 2%.
func parseShare(s string) (*float64, error) {
	if pct, ok := strings.CutSuffix(s, "%"); ok {
		f, err := parseFloat(strings.TrimSpace(pct))
		if err != nil || f < 0 || f > 100 {
			return nil, fmt.Errorf("%q is not a percentage between 0 and 100", s)
		}
		f /= 100
		return &f, nil
	}
	f, err := parseFloat(s)
	if err != nil || f < 0 || f > 1 {
		return nil, fmt.Errorf("%q is not a share between 0 and 1 (or a percentage)", s)
	}
	return &f, nil
}

// ParseAgreement reads JUDGE=HUMAN[@THRESHOLD] from the command line.
func ParseAgreement(s string) (AgreementPair, error) {
	j, h, ok := strings.Cut(s, "=")
	if !ok || j == "" || h == "" {
		return AgreementPair{}, fmt.Errorf("agreement %q: want JUDGE_METRIC=HUMAN_METRIC[@THRESHOLD]", s)
	}
	p := AgreementPair{Judge: j, Human: h}
	if hm, th, ok := strings.Cut(h, "@"); ok {
		f, err := parseFloat(th)
		if err != nil {
			return p, fmt.Errorf("agreement %q: threshold %q is not a number", s, th)
		}
		p.Human, p.Threshold = hm, &f
	}
	return p, nil
}

// parseFloat is strconv.ParseFloat for finite numbers only: a NaN bound
// compares false with every value, so it would pass anything.
func parseFloat(s string) (float64, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err == nil && (math.IsNaN(f) || math.IsInf(f, 0)) {
		err = errors.New("not a finite number")
	}
	return f, err
}
