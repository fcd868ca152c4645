package gate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/evalgate/evalgate/internal/metric"
	"github.com/evalgate/evalgate/internal/provider"
	"github.com/evalgate/evalgate/internal/results"
)

// key identifies a record within one target: pairs are formed on it.
type key struct {
	sample string
	repeat int
}

// obs is what the gate keeps of one record: numbers, not outputs.
type obs struct {
	cluster string
	// input is the record's InputHash as a number (0 when absent).
	input   uint64
	errored bool
	// scores holds the record's finite scores by their number in ix; NaN
	// (or a number past the end) is a missing score (failed call, score
	// error, NaN). A slice, not a map: a large comparison holds hundreds of
	// thousands of records.
	ix      *metricIndex
	scores  []float64
	latency float64
	ttft    float64 // 0 when unknown
	cost    float64
	hasCost bool
	inTok   float64
	outTok  float64
}

// metricIndex numbers the metric names of one comparison, shared by both
// sides' records.
type metricIndex struct{ ids map[string]int }

func (ix *metricIndex) id(name string) int {
	i, ok := ix.ids[name]
	if !ok {
		i = len(ix.ids)
		ix.ids[name] = i
	}
	return i
}

// score is the record's score for a metric, if it has one.
func (o *obs) score(name string) (float64, bool) {
	i, ok := o.ix.ids[name]
	if !ok || i >= len(o.scores) || math.IsNaN(o.scores[i]) {
		return 0, false
	}
	return o.scores[i], true
}

// setScore sets the record's score for a metric.
func (o *obs) setScore(name string, v float64) {
	i := o.ix.id(name)
	for len(o.scores) <= i {
		o.scores = append(o.scores, math.NaN())
	}
	o.scores[i] = v
}

// side is one side's records, read from its results file.
type side struct {
	ref     Side
	header  results.Header
	info    SideInfo
	metrics map[string]metric.Info
	recs    map[key]*obs
	ix      *metricIndex
	// dropped counts non-finite scores left out.
	dropped int
	// unevaluated counts records left out because their call failed for
	// the service's reasons (results.RecordError.Infrastructure).
	unevaluated int
}

// sortedKeys returns the side's record keys by sample id, then repeat.
func (s *side) sortedKeys() []key {
	keys := make([]key, 0, len(s.recs))
	for k := range s.recs {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y key) int {
		if c := strings.Compare(x.sample, y.sample); c != 0 {
			return c
		}
		return x.repeat - y.repeat
	})
	return keys
}

// load reads both sides, in one pass when they are two targets of one file.
func load(ctx context.Context, baseline, target Side) (*side, *side, error) {
	ix := &metricIndex{ids: map[string]int{}}
	if baseline.Path == target.Path {
		sides, err := readSides(ctx, ix, baseline.Path, []Side{baseline, target}, []string{"baseline", "target"})
		if err != nil {
			return nil, nil, err
		}
		if sides[0].info.Target == sides[1].info.Target {
			return nil, nil, fmt.Errorf("baseline and target are both %s: name two targets (FILE#target) or two files", baseline.Path+"#"+sides[0].info.Target)
		}
		return sides[0], sides[1], nil
	}
	b, err := readSides(ctx, ix, baseline.Path, []Side{baseline}, []string{"baseline"})
	if err != nil {
		return nil, nil, err
	}
	t, err := readSides(ctx, ix, target.Path, []Side{target}, []string{"target"})
	if err != nil {
		return nil, nil, err
	}
	return b[0], t[0], nil
}

// readSides streams one results file into the sides that read it.
func readSides(ctx context.Context, ix *metricIndex, path string, refs []Side, roles []string) ([]*side, error) {
	r, err := results.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s results: %w", roles[0], err)
	}
	defer r.Close()
	h := r.Header()
	out := make([]*side, len(refs))
	byTarget := map[string]*side{}
	for i, ref := range refs {
		ti, err := pickTarget(h, ref)
		if err != nil {
			return nil, fmt.Errorf("%s results %s: %w", roles[i], path, err)
		}
		s := &side{ref: ref, header: h, recs: map[key]*obs{}, ix: ix, metrics: map[string]metric.Info{}}
		s.info = SideInfo{Path: path, Target: ti.ID, Provider: ti.Provider, Model: ti.Model, Suite: h.Suite, SuiteHash: h.SuiteHash}
		for _, m := range h.Metrics {
			s.metrics[m.Name] = m
		}
		out[i] = s
		if _, dup := byTarget[ti.ID]; !dup {
			byTarget[ti.ID] = s
		}
	}
	for n := 0; ; n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		var rec numbers
		err := r.NextInto(&rec)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s results: %w%s", strings.Join(roles, "/"), err, truncatedHint(err))
		}
		s, ok := byTarget[rec.Target]
		if !ok {
			continue
		}
		if rec.Error.Infrastructure() {
			// The service failed, not the model: the sample was not
			// evaluated, like a call the run never made. Pairing it would
			// count an outage in error_rate as the target's quality.
			s.unevaluated++
			continue
		}
		k := key{rec.SampleID, rec.Repeat}
		if _, dup := s.recs[k]; dup {
			return nil, fmt.Errorf("results %s: target %s has two records for sample %q repeat %d; merge shards without overlap", path, rec.Target, rec.SampleID, rec.Repeat)
		}
		s.recs[k] = s.observe(rec)
	}
	sum := r.Summary()
	for _, s := range out {
		s.info.Records = len(s.recs)
		s.info.Status = results.StatusComplete
		if sum != nil {
			s.info.Status, s.info.Reason = sum.Status, sum.Reason
		}
	}
	return out, nil
}

// truncatedHint tells the user what to do about a file cut short, whether it
// ends at a line boundary (ErrTruncated) or mid-record (invalid JSON).
func truncatedHint(err error) string {
	if errors.Is(err, results.ErrTruncated) || strings.Contains(err.Error(), "truncated") {
		return "; re-run the suite or fetch the complete file (a partial baseline would bias the comparison)"
	}
	return ""
}

// pickTarget finds the side's target in the header.
func pickTarget(h results.Header, ref Side) (results.TargetInfo, error) {
	var ids []string
	for _, t := range h.Targets {
		ids = append(ids, t.ID)
		if t.ID == ref.Target {
			return t, nil
		}
	}
	switch {
	case ref.Target != "":
		return results.TargetInfo{}, fmt.Errorf("no target %q (targets: %s)", ref.Target, strings.Join(ids, ", "))
	case len(h.Targets) == 1:
		return h.Targets[0], nil
	case len(h.Targets) == 0:
		return results.TargetInfo{}, fmt.Errorf("the header lists no targets")
	}
	return results.TargetInfo{}, fmt.Errorf("the file has targets %s: name one as FILE#target", strings.Join(ids, ", "))
}

// numbers is the part of a results record the gate keeps: no answers, inputs
// or references, so that reading a large file allocates none of them. Its
// JSON names are Record's (TestNumbersAreFieldsOfARecord).
type numbers struct {
	SampleID   string               `json:"sample_id"`
	Target     string               `json:"target"`
	Repeat     int                  `json:"repeat"`
	Cluster    string               `json:"cluster,omitempty"`
	InputHash  string               `json:"input_hash,omitempty"`
	Usage      provider.Usage       `json:"usage"`
	LatencyMS  float64              `json:"latency_ms"`
	TTFTMS     float64              `json:"ttft_ms,omitempty"`
	CostUSD    *float64             `json:"cost_usd"`
	StopReason string               `json:"stop_reason,omitempty"`
	Error      *results.RecordError `json:"error,omitempty"`
	Scores     map[string]float64   `json:"scores,omitempty"`
	// CacheSavingUSD is what prompt caching saved on the call.
	CacheSavingUSD *float64 `json:"cache_saving_usd,omitempty"`
}

// inputHash reads a record's input hash; a missing or foreign one is 0,
// which pairs with anything (results written before the hash existed).
func inputHash(h string) uint64 {
	v, err := strconv.ParseUint(h, 16, 64)
	if err != nil {
		return 0
	}
	return v
}

func (s *side) observe(rec numbers) *obs {
	o := &obs{
		ix:      s.ix,
		cluster: rec.Cluster,
		input:   inputHash(rec.InputHash),
		errored: rec.Error != nil,
		latency: rec.LatencyMS,
		ttft:    rec.TTFTMS,
		inTok:   float64(rec.Usage.InputTokens),
		outTok:  float64(rec.Usage.OutputTokens),
	}
	if rec.CostUSD != nil && !math.IsNaN(*rec.CostUSD) {
		o.cost, o.hasCost = *rec.CostUSD, true
	}
	if rec.StopReason == provider.StopMaxTokens {
		s.info.MaxTokensStops++
	}
	s.info.CacheReadTokens += rec.Usage.CacheReadTokens
	s.info.CacheWriteTokens += rec.Usage.CacheWriteTokens
	if rec.CacheSavingUSD != nil && !math.IsNaN(*rec.CacheSavingUSD) {
		s.info.CacheSavingUSD += *rec.CacheSavingUSD
	}
	if !o.errored && len(rec.Scores) > 0 {
		o.scores = make([]float64, 0, len(rec.Scores))
		for m, v := range rec.Scores {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				s.dropped++
				continue
			}
			o.setScore(m, v)
		}
	}
	return o
}

// checkComparable refuses results of different suites (unless allowed) and
// warns when the suite's definition changed between the runs.
func checkComparable(b, t *side, cfg Config, v *Verdict) error {
	bh, th := b.header, t.header
	if bh.Suite != th.Suite {
		if !cfg.AllowSuiteMismatch {
			return fmt.Errorf("baseline is suite %q and target is suite %q: results of different suites are not comparable (pass --allow-suite-mismatch to compare them anyway)", bh.Suite, th.Suite)
		}
		v.warn("baseline is suite %q and target suite %q; compared anyway as asked", bh.Suite, th.Suite)
	}
	if bh.SuiteHash != th.SuiteHash && b.ref.Path != t.ref.Path {
		// A pull request that edits the dataset or a metric changes the hash;
		// pairing on sample ids still compares like with like for the
		// dataset, so this warns instead of failing every such PR.
		v.warn("the suite changed between the runs (suite_hash %s vs %s): the dataset or metric definitions differ; pairs are formed on shared sample ids, and a metric whose definition changed is not comparable", short(bh.SuiteHash), short(th.SuiteHash))
	}
	for name, ti := range t.metrics {
		bi, ok := b.metrics[name]
		if !ok {
			continue
		}
		if bi.Direction != ti.Direction || bi.PassFail != ti.PassFail {
			return fmt.Errorf("metric %s is defined differently in the baseline (direction %s, pass/fail %v) and the target (direction %s, pass/fail %v): rename one or re-run the baseline", name, bi.Direction, bi.PassFail, ti.Direction, ti.PassFail)
		}
	}
	for _, s := range []*side{b, t} {
		if s.dropped > 0 {
			v.warn("%s: %d non-finite scores (NaN or infinite) were left out as missing", s.info.Target, s.dropped)
		}
		if s.unevaluated > 0 {
			v.warn("%s: %d records were not evaluated because the model service failed (unreachable, 5xx, timeouts, throttling past the retries); they are left out of the pairs and of error_rate", s.info.Target, s.unevaluated)
		}
	}
	if b.info.Status == results.StatusIncomplete {
		v.warn("the baseline's run is incomplete (%s): only the samples it reached are compared", orUnknown(b.info.Reason))
	}
	return nil
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	if h == "" {
		return "none"
	}
	return h
}

func orUnknown(s string) string {
	if s == "" {
		return "reason not recorded"
	}
	return s
}

// pair is one (sample, repeat) on both sides.
type pair struct {
	key
	b, t *obs
}

// paired is the paired set with its dependence structure.
type paired struct {
	pairs []pair
	d     design
	// samples are the paired sample ids, sorted.
	samples []string
	repeats int
	// metrics and aggs hold the inference of each comparison for the
	// criteria.
	metrics map[string]*metricInf
	aggs    map[string]*aggInf
	// unscored are the metrics no pair has a score for on either side.
	unscored []string
	// mismatched are the paired samples whose input or reference differs
	// between the two sides (sorted, each once).
	mismatched []string
}

// pairUp pairs records on (sample id, repeat) in a fixed order (so that the
// bootstrap is reproducible whatever the order of the files), lists samples
// on one side only, and sets the clusters: the cluster field when the suite
// names one, else the sample when there are repeats (a sample's repeats are
// correlated), else none.
func pairUp(b, t *side, cfg Config, v *Verdict) *paired {
	p := &paired{}
	bSamples, tSamples := map[string]bool{}, map[string]bool{}
	for k := range b.recs {
		bSamples[k.sample] = true
	}
	for k, o := range t.recs {
		tSamples[k.sample] = true
		if bo, ok := b.recs[k]; ok {
			p.pairs = append(p.pairs, pair{k, bo, o})
			if bo.input != 0 && o.input != 0 && bo.input != o.input {
				p.mismatched = append(p.mismatched, k.sample)
			}
		}
	}
	slices.Sort(p.mismatched)
	p.mismatched = slices.Compact(p.mismatched)
	slices.SortFunc(p.pairs, func(x, y pair) int {
		if c := strings.Compare(x.sample, y.sample); c != 0 {
			return c
		}
		return x.repeat - y.repeat
	})
	reps := map[string]int{}
	for _, pr := range p.pairs {
		if reps[pr.sample] == 0 {
			p.samples = append(p.samples, pr.sample)
		}
		reps[pr.sample]++
		p.repeats = max(p.repeats, reps[pr.sample])
	}
	v.Pairs, v.Samples, v.Repeats = len(p.pairs), len(p.samples), p.repeats
	for _, pr := range p.pairs {
		if !pr.b.errored && !pr.t.errored {
			v.Evaluated++
		}
	}
	v.BaselineOnly, v.BaselineOnlyCount = oneSide(bSamples, tSamples)
	v.TargetOnly, v.TargetOnlyCount = oneSide(tSamples, bSamples)

	field := cfg.Cluster
	if field == "" && !cfg.NoCluster {
		field = t.header.Cluster
	}
	if field == "" && !cfg.NoCluster {
		field = b.header.Cluster
	}
	switch {
	case field != "":
		v.Cluster = field
	case p.repeats > 1:
		v.Cluster = "sample_id"
	}
	if v.Cluster != "" {
		labels := make([]string, len(p.pairs))
		for i, pr := range p.pairs {
			c := pr.sample
			if field != "" {
				c = pr.t.cluster
				if c == "" {
					c = pr.b.cluster
				}
				if c == "" {
					// A sample without a cluster value is its own cluster.
					c = "\x00" + pr.sample
				}
			}
			labels[i] = c
		}
		p.d = designOf(labels)
		v.Clusters = p.d.g
	}
	if v.BaselineOnlyCount > 0 || v.TargetOnlyCount > 0 {
		v.warn("%d samples are only in the baseline and %d only in the target; the comparison uses the %d pairs on both", v.BaselineOnlyCount, v.TargetOnlyCount, len(p.pairs))
	}
	return p
}

// oneSide returns (up to MaxListed, sorted) the samples of a not in b, and
// their number.
func oneSide(a, b map[string]bool) ([]string, int) {
	var ids []string
	for id := range a {
		if !b[id] {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	n := len(ids)
	if n > MaxListed {
		ids = ids[:MaxListed]
	}
	return ids, n
}

// newVerdict starts a verdict with what the headers say.
func newVerdict(b, t *side, cfg Config) *Verdict {
	v := &Verdict{
		Baseline:   b.info,
		Target:     t.info,
		Mode:       cfg.Mode,
		Confidence: cfg.Confidence,
		metricInfo: map[string]metric.Info{},
	}
	for _, s := range []*side{b, t} {
		for n, i := range s.metrics {
			v.metricInfo[n] = i
		}
	}
	for n, i := range aggregateInfo {
		v.metricInfo[n] = i
	}
	for _, s := range []SideInfo{b.info, t.info} {
		if s.MaxTokensStops > 0 {
			v.warn("%s: %d of %d answers were cut at max_tokens; their scores judge a truncated answer (raise params.max_tokens)", s.Target, s.MaxTokensStops, s.Records)
		}
	}
	return v
}

// checkSameSamples refuses a comparison whose pairs are not the same
// samples: records with one id whose inputs or references differ (a dataset
// reordered without an id column, another dataset under the same suite name).
// Pairing them would compare answers to different questions. It also says
// when samples were paired on row numbers only.
func checkSameSamples(p *paired, cfg Config, v *Verdict) error {
	if n := len(p.mismatched); n > 0 {
		ids := p.mismatched[:min(n, 5)]
		what := fmt.Sprintf("%d paired samples have a different input or reference in the baseline and the target (%s", n, strings.Join(ids, ", "))
		if n > len(ids) {
			what += ", ..."
		}
		what += ")"
		if !cfg.AllowInputMismatch {
			return fmt.Errorf("%s: they are not the same samples, so their answers are not comparable. Give the dataset an id column (dataset.fields.id) so that rows pair by id, or compare them anyway with --allow-input-mismatch", what)
		}
		v.warn("%s; compared anyway as asked", what)
	}
	if len(p.samples) > 0 && slices.IndexFunc(p.samples, func(id string) bool { return !rowID(id) }) < 0 {
		v.warn("the samples have no id column: they were paired on their row numbers (row-N), so a reordered or filtered dataset pairs other rows; add an id column (dataset.fields.id)")
	}
	return nil
}

// rowID reports whether id is one the dataset reader made from a row number.
func rowID(id string) bool {
	n, ok := strings.CutPrefix(id, "row-")
	if !ok || n == "" {
		return false
	}
	_, err := strconv.Atoi(n)
	return err == nil
}
