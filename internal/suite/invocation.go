package suite

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/evalgate/evalgate/internal/provider"
)

// Roles of a recorded target's invocation columns: how the source model was
// called, per sample (the AWS migration format's *_source_llm columns).
const (
	RecordedPrompt      = "prompt"
	RecordedTemperature = "temperature"
	RecordedTopP        = "top_p"
	RecordedTopK        = "top_k"
)

// Default invocation columns of the source model.
const (
	FieldSourceTemperature = "temperature_source_llm"
	FieldSourceTopP        = "top_p_source_llm"
	FieldSourceTopK        = "top_k_source_llm"
)

// sourceParamRoles are the sampling parameters a target may inherit.
var sourceParamRoles = []string{RecordedTemperature, RecordedTopP, RecordedTopK}

// SourceParams is how the recorded target src called its model on the row
// with these fields: its params (the per-dataset invocation config), each
// overridden by the row's column when that cell is not empty. A cell that is
// not a number is an error naming the column.
func (s *Suite) SourceParams(src *TargetConfig, fields map[string]string) (provider.Params, error) {
	p := src.Params
	for _, role := range sourceParamRoles {
		col := s.RecordedField(src, role)
		v := strings.TrimSpace(fields[col])
		if v == "" {
			continue
		}
		switch role {
		case RecordedTopK:
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f != float64(int(f)) || f < 1 {
				return p, fmt.Errorf("column %s: %q is not a top_k (a whole number, at least 1)", col, v)
			}
			k := int(f)
			p.TopK = &k
		default:
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 || (role == RecordedTopP && f > 1) {
				return p, fmt.Errorf("column %s: %q is not a %s (a number%s)", col, v, role, map[bool]string{true: " between 0 and 1", false: ", 0 or more"}[role == RecordedTopP])
			}
			if role == RecordedTemperature {
				p.Temperature = &f
			} else {
				p.TopP = &f
			}
		}
	}
	return p, nil
}

// InheritedParams are target t's params on a row when t has params_from:
// its own params where set, the source's invocation on that row elsewhere.
// Only temperature, top_p and top_k are inherited (max_tokens and stop
// belong to the target's prompt and model).
func (s *Suite) InheritedParams(t *TargetConfig, fields map[string]string) (provider.Params, error) {
	src, ok := s.Target(t.ParamsFrom)
	if t.ParamsFrom == "" || !ok {
		return t.Params, nil
	}
	sp, err := s.SourceParams(src, fields)
	if err != nil {
		return t.Params, fmt.Errorf("params_from %s: %w", src.ID, err)
	}
	p := t.Params
	if p.Temperature == nil {
		p.Temperature = sp.Temperature
	}
	if p.TopP == nil {
		p.TopP = sp.TopP
	}
	if p.TopK == nil {
		p.TopK = sp.TopK
	}
	return p, nil
}

// DescribeSource reads the dataset and says how the recorded target src
// called its model: the sampling parameters (per dataset from its params, or
// per sample from its columns) and its logged prompt. It is shown in the
// run's summary and the report, so that a reader knows what the baseline's
// numbers were measured with. It is "" when the source logged none of it and
// its params set none.
func DescribeSource(ctx context.Context, s *Suite, src *TargetConfig) (string, error) {
	ds, err := OpenDataset(s)
	if err != nil {
		return "", err
	}
	defer ds.Close()
	view, err := s.TargetView(src)
	if err != nil {
		return "", err
	}
	type seen struct {
		rows   int
		values []string // distinct, first few
		more   bool
	}
	cols := map[string]*seen{}
	for _, role := range append(slices.Clone(sourceParamRoles), RecordedPrompt) {
		cols[role] = &seen{}
	}
	prompts := map[[32]byte]bool{}
	n := 0
	for {
		if n%4096 == 0 && ctx.Err() != nil {
			return "", ctx.Err()
		}
		smp, err := ds.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", err
		}
		if !view.Sees(smp) {
			continue
		}
		smp.Fields = view.Fields(smp)
		n++
		for role, c := range cols {
			v := strings.TrimSpace(smp.Fields[s.RecordedField(src, role)])
			if v == "" {
				continue
			}
			c.rows++
			if role == RecordedPrompt {
				prompts[sha256.Sum256([]byte(v))] = true
				continue
			}
			if !slices.Contains(c.values, v) {
				if len(c.values) < 3 {
					c.values = append(c.values, v)
				} else {
					c.more = true
				}
			}
		}
	}
	var parts []string
	known := cols[RecordedPrompt].rows > 0
	for _, role := range sourceParamRoles {
		c := cols[role]
		var set string
		switch role {
		case RecordedTemperature:
			set = floatText(src.Params.Temperature)
		case RecordedTopP:
			set = floatText(src.Params.TopP)
		case RecordedTopK:
			if src.Params.TopK != nil {
				set = strconv.Itoa(*src.Params.TopK)
			}
		}
		known = known || c.rows > 0 || set != ""
		switch {
		case c.rows == 0 && set != "":
			parts = append(parts, fmt.Sprintf("%s %s (params)", role, set))
		case c.rows == 0:
			parts = append(parts, role+" not logged")
		case len(c.values) == 1 && c.rows == n:
			parts = append(parts, fmt.Sprintf("%s %s (all %d samples)", role, c.values[0], n))
		default:
			vals := strings.Join(c.values, ", ")
			if c.more {
				vals += ", ..."
			}
			parts = append(parts, fmt.Sprintf("%s %s (logged on %d of %d samples)", role, vals, c.rows, n))
		}
	}
	if !known {
		return "", nil // nothing logged, nothing set: nothing to tell
	}
	prompt := fmt.Sprintf("prompt (%s) not logged", s.RecordedField(src, RecordedPrompt))
	if c := cols[RecordedPrompt]; c.rows > 0 {
		prompt = fmt.Sprintf("prompt (%s) logged on %d of %d samples, %d distinct", s.RecordedField(src, RecordedPrompt), c.rows, n, len(prompts))
	}
	return fmt.Sprintf("source %s (%s) was called with %s; %s", src.ID, src.Model, strings.Join(parts, ", "), prompt), nil
}

func floatText(f *float64) string {
	if f == nil {
		return ""
	}
	return strconv.FormatFloat(*f, 'f', -1, 64)
}

// checkParamsFrom checks that params_from names a recorded target.
func (c *checker) checkParamsFrom(t *TargetConfig, path string) {
	if t.ParamsFrom == "" {
		return
	}
	p := path + ".params_from"
	var ids []string
	for _, o := range c.cfg.Targets {
		if o.Provider == ProviderRecorded && o.ID != t.ID {
			ids = append(ids, o.ID)
		}
	}
	src, ok := c.s.Target(t.ParamsFrom)
	switch {
	case t.ParamsFrom == t.ID:
		c.errorf(c.at(p), "%s: a target cannot inherit its own params; name the recorded source target", p)
	case !ok:
		c.errorf(c.at(p), "%s: '%s' is not a target id%s", p, t.ParamsFrom, didYouMean(t.ParamsFrom, ids))
	case src.Provider != ProviderRecorded:
		c.errorf(c.at(p), "%s: '%s' is a %s target; params are inherited from a recorded source (its logged invocation config)", p, t.ParamsFrom, src.Provider)
	case t.Provider == ProviderRecorded:
		c.errorf(c.at(p), "%s: a recorded target replays logged answers and calls nothing; params_from is for a target that calls a model", p)
	}
}
