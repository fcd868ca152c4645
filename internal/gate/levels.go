package gate

import (
	"context"

	"github.com/evalgate/evalgate/internal/results"
)

// TargetLevels is one target's metric means with their intervals.
type TargetLevels struct {
	Target string
	// Metrics are in the results header's order; each Interval's N is the
	// number of scored records.
	Metrics []MetricLevel
}

// MetricLevel is one metric's mean on one target.
type MetricLevel struct {
	Metric   string
	Interval Interval
}

// Levels reads a results file and returns, for every target, the mean of
// every metric with its interval at confidence conf, by the methods the
// criteria use (t with its range bound, Clopper-Pearson for pass/fail;
// clustered by the header's cluster field, or by sample with repeats). It is
// what a run without a baseline can say: how sure each mean is.
func Levels(ctx context.Context, path string, conf float64) ([]TargetLevels, error) {
	r, err := results.Open(path)
	if err != nil {
		return nil, err
	}
	h := r.Header()
	r.Close()
	var refs []Side
	var roles []string
	for _, t := range h.Targets {
		refs = append(refs, Side{Path: path, Target: t.ID})
		roles = append(roles, t.ID)
	}
	if len(refs) == 0 {
		return nil, nil
	}
	sides, err := readSides(ctx, newTables(), path, refs, roles)
	if err != nil {
		return nil, err
	}
	var out []TargetLevels
	for _, s := range sides {
		order := s.sorted()
		tl := TargetLevels{Target: s.info.Target}
		for _, info := range h.Metrics {
			col := s.column(info.Name)
			var vals []float64
			// A label is a cluster value's number, or -1 - the sample's
			// number (see pairUp).
			var cl []int64
			for _, i := range order {
				if v, ok := scoreAt(col, i); ok {
					vals = append(vals, v)
					c := -1 - int64(s.recs.sample[i])
					if h.Cluster != "" && s.recs.cluster[i] >= 0 {
						c = int64(s.recs.cluster[i])
					}
					cl = append(cl, c)
				}
			}
			if len(vals) == 0 {
				continue
			}
			var d design
			if h.Cluster != "" || h.Repeats > 1 {
				d = designOf(cl)
			}
			tl.Metrics = append(tl.Metrics, MetricLevel{Metric: info.Name, Interval: levelEstimate(info, vals, d).interval(conf)})
		}
		out = append(out, tl)
	}
	return out, nil
}

// designOf numbers cluster labels densely, in order of first appearance.
func designOf[L comparable](labels []L) design {
	ids := map[L]int{}
	cl := make([]int, len(labels))
	for i, l := range labels {
		id, ok := ids[l]
		if !ok {
			id = len(ids)
			ids[l] = id
		}
		cl[i] = id
	}
	return design{clusters: cl, g: len(ids)}
}
