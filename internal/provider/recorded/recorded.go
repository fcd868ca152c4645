// Package recorded replays outputs that were produced before: the source
// model's answers logged in the dataset (step 1 of the migration framework:
// evaluate the source model from its logs, without calling it), or a cassette
// file of responses keyed by a hash of the request.
package recorded

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/evalgate/evalgate/internal/excerpt"
	"github.com/evalgate/evalgate/internal/provider"
)

// Name is the provider's name in evalgate.yaml.
const Name = "recorded"

// maxValue bounds a dataset value quoted in an error message.
const maxValue = 40

// Columns names the dataset columns that hold the logged call. Empty Latency,
// InputTokens or OutputTokens mean "not logged".
type Columns struct {
	Output       string
	Latency      string
	InputTokens  string
	OutputTokens string
	// LatencyUnit is "s" (the AWS migration format) or "ms".
	LatencyUnit string
}

// Dataset replays the logged outputs of a sample's own row.
type Dataset struct {
	cols Columns
}

// NewDataset returns a provider that reads each response from the sample's
// fields.
func NewDataset(cols Columns) (*Dataset, error) {
	if cols.Output == "" {
		return nil, fmt.Errorf("recorded: no output column named")
	}
	switch cols.LatencyUnit {
	case "", "s", "ms":
	default:
		return nil, fmt.Errorf("recorded: latency_unit %q: use \"s\" or \"ms\"", cols.LatencyUnit)
	}
	return &Dataset{cols: cols}, nil
}

// Complete returns the logged response of req's sample.
func (d *Dataset) Complete(_ context.Context, req provider.Request) (provider.Response, error) {
	out, ok := req.Fields[d.cols.Output]
	if !ok || strings.TrimSpace(out) == "" {
		return provider.Response{}, provider.Errorf(provider.KindInvalidRequest, Name,
			"sample %s has no logged output in column %q (fill it, or map another column with fields.output)", req.SampleID, d.cols.Output)
	}
	resp := provider.Response{Text: out}
	if c := d.cols.Latency; c != "" {
		if v := strings.TrimSpace(req.Fields[c]); v != "" {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 {
				return provider.Response{}, provider.Errorf(provider.KindInvalidRequest, Name,
					"sample %s: column %q is %q, not a non-negative number", req.SampleID, c, excerpt.Of(v, maxValue))
			}
			unit := time.Second
			if d.cols.LatencyUnit == "ms" {
				unit = time.Millisecond
			}
			resp.Latency = time.Duration(f * float64(unit))
		}
	}
	var err error
	if resp.Usage.InputTokens, err = tokens(req, d.cols.InputTokens); err != nil {
		return provider.Response{}, err
	}
	if resp.Usage.OutputTokens, err = tokens(req, d.cols.OutputTokens); err != nil {
		return provider.Response{}, err
	}
	return resp, nil
}

func tokens(req provider.Request, col string) (int, error) {
	if col == "" {
		return 0, nil
	}
	v := strings.TrimSpace(req.Fields[col])
	if v == "" {
		return 0, nil
	}
	// Exported spreadsheets write counts as "412.0".
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || f != float64(int64(f)) {
		return 0, provider.Errorf(provider.KindInvalidRequest, Name,
			"sample %s: column %q is %q, not a whole number of tokens", req.SampleID, col, excerpt.Of(v, maxValue))
	}
	return int(f), nil
}
