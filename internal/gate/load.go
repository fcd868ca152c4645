package gate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/evalgate/evalgate/internal/metric"
	"github.com/evalgate/evalgate/internal/provider"
	"github.com/evalgate/evalgate/internal/results"
)

// key names a record of either side by its sample id and repeat (the
// samples a report shows are looked up by it).
type key struct {
	sample string
	repeat int
}

// recKey identifies a record within one target: its sample's number in the
// comparison's sample table and its repeat. Pairs are formed on it.
type recKey struct{ sample, repeat int32 }

// cmp orders keys by sample number, then repeat.
func (k recKey) cmp(o recKey) int {
	if c := cmp.Compare(k.sample, o.sample); c != 0 {
		return c
	}
	return cmp.Compare(k.repeat, o.repeat)
}

// nameTable numbers the strings of one comparison (sample ids, cluster values),
// shared by both sides: each distinct one is held once, and the records
// refer to it by a 4-byte number.
type nameTable struct {
	list []string
	// slots index list by hash, with open addressing: 0 is an empty slot,
	// i+1 the name list[i]. A Go map of the strings would take about 45
	// bytes a name, more than anything else a large comparison keeps but
	// its records; the slots take 4 to 8.
	slots []int32
	seed  maphash.Seed
	// rank is each name's place in sorted order, made once all are read.
	rank []int32
}

func newNames() *nameTable { return &nameTable{seed: maphash.MakeSeed()} }

// reserve makes room for k names in an empty table (a second file's samples
// are mostly the first's).
func (n *nameTable) reserve(k int) {
	if len(n.list) == 0 {
		n.list = make([]string, 0, k)
		n.rehash(k)
	}
}

// rehash makes the slots for k names, at most three quarters full.
func (n *nameTable) rehash(k int) {
	size := 64
	for size*3/4 < k {
		size *= 2
	}
	n.slots = make([]int32, size)
	for i, s := range n.list {
		j, _, _ := n.lookup(s)
		n.slots[j] = int32(i) + 1
	}
}

// lookup returns s's slot, and its number if it has one.
func (n *nameTable) lookup(s string) (slot int, id int32, ok bool) {
	mask := len(n.slots) - 1
	for j := int(maphash.String(n.seed, s)) & mask; ; j = (j + 1) & mask {
		v := n.slots[j]
		if v == 0 {
			return j, 0, false
		}
		if n.list[v-1] == s {
			return j, v - 1, true
		}
	}
}

// id numbers s, adding it if it is new.
func (n *nameTable) id(s string) int32 {
	if (len(n.list)+1)*4 > len(n.slots)*3 {
		n.rehash(2 * (len(n.list) + 1))
	}
	j, i, ok := n.lookup(s)
	if !ok {
		i = int32(len(n.list))
		n.list = append(n.list, s)
		n.slots[j] = i + 1
	}
	return i
}

// find returns s's number, if it has one.
func (n *nameTable) find(s string) (int32, bool) {
	if len(n.slots) == 0 {
		return 0, false
	}
	_, i, ok := n.lookup(s)
	return i, ok
}

// ranks returns each name's place in sorted order (computed on first use:
// call it only once every name is in).
func (n *nameTable) ranks() []int32 {
	if len(n.rank) == len(n.list) {
		return n.rank
	}
	order := make([]int32, len(n.list))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(x, y int32) int { return strings.Compare(n.list[x], n.list[y]) })
	n.rank = make([]int32, len(n.list))
	for r, i := range order {
		n.rank[i] = int32(r)
	}
	return n.rank
}

// records are one side's records as columns: record i is the i-th element of
// each. A large comparison holds hundreds of thousands of records, and a
// record is then 62 bytes and 8 a score, not a struct, a map entry and a
// slice of scores each (about 250 bytes).
type records struct {
	// sample numbers the record's sample id in the comparison's sample
	// table; cluster its cluster value in the cluster table (-1 for none).
	sample, repeat, cluster []int32
	// input is the record's InputHash as a number (0 when absent).
	input   []uint64
	errored []bool
	ops     operations
	// scores holds one column per metric, by the metric's number in the
	// comparison's metricIndex: NaN, or a column shorter than the records,
	// is a missing score (failed call, score error, NaN). A record's
	// scores are all finite when present.
	scores [][]float64
}

// operations are the columns of the operational values (cost, latency,
// tokens): only the aggregates read them, and free them once compared.
type operations struct {
	latency []float64
	ttft    []float64 // 0 when unknown
	cost    []float64
	hasCost []bool
	inTok   []float64
	outTok  []float64
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

// tables are what both sides of a comparison number alike.
type tables struct {
	ix       *metricIndex
	samples  *nameTable
	clusters *nameTable
}

func newTables() *tables {
	return &tables{ix: &metricIndex{ids: map[string]int{}}, samples: newNames(), clusters: newNames()}
}

// side is one side's records, read from its results file.
type side struct {
	ref     Side
	header  results.Header
	info    SideInfo
	metrics map[string]metric.Info
	recs    records
	// byKey lists the records by key (sample number, then repeat), to find
	// and pair them: a 4-byte entry per record, where a map would take
	// twenty.
	byKey []int32
	// hint is the number of records the storage was made for.
	hint int
	*tables
	// dropped counts non-finite scores left out.
	dropped int
	// unevaluated counts records left out because their call failed for
	// the service's reasons (results.RecordError.Infrastructure).
	unevaluated int
	// seq is the summary of a sequential run (nil for others).
	seq *results.Sequential
}

// reserve makes room for n records.
func (s *side) reserve(n int) {
	s.hint = n
	c := &s.recs
	c.sample, c.repeat, c.cluster = make([]int32, 0, n), make([]int32, 0, n), make([]int32, 0, n)
	c.input, c.errored = make([]uint64, 0, n), make([]bool, 0, n)
	c.ops = operations{
		latency: make([]float64, 0, n), ttft: make([]float64, 0, n), cost: make([]float64, 0, n),
		hasCost: make([]bool, 0, n), inTok: make([]float64, 0, n), outTok: make([]float64, 0, n),
	}
}

// index lists the records by key, and refuses two records with one key.
func (s *side) index() error {
	c := &s.recs
	s.byKey = make([]int32, s.len())
	for i := range s.byKey {
		s.byKey[i] = int32(i)
	}
	slices.SortFunc(s.byKey, func(x, y int32) int { return s.key(x).cmp(s.key(y)) })
	for j := 1; j < len(s.byKey); j++ {
		if i := s.byKey[j]; s.key(i) == s.key(s.byKey[j-1]) {
			return fmt.Errorf("target %s has two records for sample %q repeat %d; merge shards without overlap", s.info.Target, s.sample(i), c.repeat[i])
		}
	}
	return nil
}

// key is record i's key.
func (s *side) key(i int32) recKey { return recKey{s.recs.sample[i], s.recs.repeat[i]} }

// find returns the number of the record with key k, if there is one.
func (s *side) find(k recKey) (int32, bool) {
	j, ok := slices.BinarySearchFunc(s.byKey, k, func(i int32, k recKey) int { return s.key(i).cmp(k) })
	if !ok {
		return 0, false
	}
	return s.byKey[j], true
}

// len is the number of records.
func (s *side) len() int { return len(s.recs.sample) }

// column returns the side's scores of a metric by record, to be read with
// scoreAt; nil when no record has one.
func (s *side) column(name string) []float64 {
	i, ok := s.ix.ids[name]
	if !ok || i >= len(s.recs.scores) {
		return nil
	}
	return s.recs.scores[i]
}

// scoreAt is record i's score in a column, if it has one.
func scoreAt(col []float64, i int32) (float64, bool) {
	if int(i) >= len(col) || math.IsNaN(col[i]) {
		return 0, false
	}
	return col[i], true
}

// setScore sets record i's score for a metric.
func (s *side) setScore(i int32, name string, v float64) {
	m := s.ix.id(name)
	for len(s.recs.scores) <= m {
		s.recs.scores = append(s.recs.scores, nil)
	}
	col := s.recs.scores[m]
	if col == nil {
		col = make([]float64, 0, max(s.hint, int(i)+1))
	}
	for len(col) <= int(i) {
		col = append(col, math.NaN())
	}
	col[i] = v
	s.recs.scores[m] = col
}

// sample is record i's sample id.
func (s *side) sample(i int32) string { return s.samples.list[s.recs.sample[i]] }

// sorted returns the side's record numbers by sample id, then repeat.
func (s *side) sorted() []int32 {
	rank := s.samples.ranks()
	out := make([]int32, s.len())
	for i := range out {
		out[i] = int32(i)
	}
	slices.SortFunc(out, func(x, y int32) int {
		return cmpRecords(rank, s.recs.sample[x], s.recs.repeat[x], s.recs.sample[y], s.recs.repeat[y])
	})
	return out
}

// cmpRecords orders records by sample id (by its rank), then repeat.
func cmpRecords(rank []int32, xs, xr, ys, yr int32) int {
	if c := cmp.Compare(rank[xs], rank[ys]); c != 0 {
		return c
	}
	return cmp.Compare(xr, yr)
}

// load reads both sides, in one pass when they are two targets of one file.
func load(ctx context.Context, baseline, target Side) (*side, *side, error) {
	tab := newTables()
	if baseline.Path == target.Path {
		sides, err := readSides(ctx, tab, baseline.Path, []Side{baseline, target}, []string{"baseline", "target"})
		if err != nil {
			return nil, nil, err
		}
		if sides[0].info.Target == sides[1].info.Target {
			return nil, nil, fmt.Errorf("baseline and target are both %s: name two targets (FILE#target) or two files", baseline.Path+"#"+sides[0].info.Target)
		}
		return sides[0], sides[1], nil
	}
	b, err := readSides(ctx, tab, baseline.Path, []Side{baseline}, []string{"baseline"})
	if err != nil {
		return nil, nil, err
	}
	t, err := readSides(ctx, tab, target.Path, []Side{target}, []string{"target"})
	if err != nil {
		return nil, nil, err
	}
	return b[0], t[0], nil
}

// readSides streams one results file into the sides that read it.
func readSides(ctx context.Context, tab *tables, path string, refs []Side, roles []string) ([]*side, error) {
	r, err := results.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s results: %w", roles[0], err)
	}
	defer r.Close()
	h := r.Header()
	// A target's records are about an even share of the file's lines:
	// storage sized from a count of them (a fast scan) is not grown record
	// by record, which would copy it and leave a quarter of it unused. A
	// count that fails only loses that (the read reports the error).
	lines, _ := results.CountLines(path)
	per := lines / max(1, len(h.Targets))
	tab.samples.reserve(per / max(1, h.Repeats))
	out := make([]*side, len(refs))
	byTarget := map[string]*side{}
	for i, ref := range refs {
		ti, err := pickTarget(h, ref)
		if err != nil {
			return nil, fmt.Errorf("%s results %s: %w", roles[i], path, err)
		}
		s := &side{ref: ref, header: h, tables: tab, metrics: map[string]metric.Info{}}
		s.reserve(per)
		s.info = SideInfo{Path: path, Target: ti.ID, Provider: ti.Provider, Model: ti.Model, Suite: h.Suite, SuiteHash: h.SuiteHash}
		for _, m := range h.Metrics {
			s.metrics[m.Name] = m
		}
		out[i] = s
		if _, dup := byTarget[ti.ID]; !dup {
			byTarget[ti.ID] = s
		}
	}
	// One record is decoded over the last: its scores map is reused, so
	// that reading a large file leaves little garbage for the collector
	// (whose heap grows to twice what is live).
	var rec numbers
	for n := 0; ; n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		scores := rec.Scores
		clear(scores)
		rec = numbers{Scores: scores}
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
		if int(int32(rec.Repeat)) != rec.Repeat {
			return nil, fmt.Errorf("results %s: target %s sample %q has repeat %d, which no run writes (repeats count from 0); write the file again with evalgate run", path, rec.Target, rec.SampleID, rec.Repeat)
		}
		s.observe(recKey{tab.samples.id(rec.SampleID), int32(rec.Repeat)}, &rec)
	}
	sum := r.Summary()
	for _, s := range out {
		if err := s.index(); err != nil {
			return nil, fmt.Errorf("results %s: %w", path, err)
		}
		s.info.Records = s.len()
		s.info.Status = results.StatusComplete
		if sum != nil {
			s.info.Status, s.info.Reason = sum.Status, sum.Reason
			s.seq = sum.Sequential
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
	if h == "" {
		return 0
	}
	v, err := strconv.ParseUint(h, 16, 64)
	if err != nil {
		return 0
	}
	return v
}

// observe appends the record rec, keyed k, to the side's columns.
func (s *side) observe(k recKey, rec *numbers) {
	c := &s.recs
	i := int32(s.len())
	cluster := int32(-1)
	if rec.Cluster != "" {
		cluster = s.clusters.id(rec.Cluster)
	}
	cost, hasCost := 0.0, false
	if rec.CostUSD != nil && !math.IsNaN(*rec.CostUSD) {
		cost, hasCost = *rec.CostUSD, true
	}
	c.sample = append(c.sample, k.sample)
	c.repeat = append(c.repeat, k.repeat)
	c.cluster = append(c.cluster, cluster)
	c.input = append(c.input, inputHash(rec.InputHash))
	c.errored = append(c.errored, rec.Error != nil)
	o := &c.ops
	o.latency = append(o.latency, rec.LatencyMS)
	o.ttft = append(o.ttft, rec.TTFTMS)
	o.cost = append(o.cost, cost)
	o.hasCost = append(o.hasCost, hasCost)
	o.inTok = append(o.inTok, float64(rec.Usage.InputTokens))
	o.outTok = append(o.outTok, float64(rec.Usage.OutputTokens))
	if rec.StopReason == provider.StopMaxTokens {
		s.info.MaxTokensStops++
	}
	s.info.CacheReadTokens += rec.Usage.CacheReadTokens
	s.info.CacheWriteTokens += rec.Usage.CacheWriteTokens
	if rec.CacheSavingUSD != nil && !math.IsNaN(*rec.CacheSavingUSD) {
		s.info.CacheSavingUSD += *rec.CacheSavingUSD
	}
	if rec.Error != nil {
		return
	}
	for m, v := range rec.Scores {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			s.dropped++
			continue
		}
		s.setScore(i, m, v)
	}
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

// pair is one (sample, repeat) on both sides: the numbers of its two
// records.
type pair struct{ b, t int32 }

// paired is the paired set with its dependence structure.
type paired struct {
	b, t  *side
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

// sample is pair i's sample id.
func (p *paired) sample(i int) string { return p.t.sample(p.pairs[i].t) }

// repeat is pair i's repeat.
func (p *paired) repeat(i int) int { return int(p.t.recs.repeat[p.pairs[i].t]) }

// pairUp pairs records on (sample id, repeat) in a fixed order (so that
// every statistic is reproducible whatever the order of the files), lists
// samples on one side only, and sets the clusters: the cluster field when the
// suite names one, else the sample when there are repeats (a sample's repeats
// are correlated), else none.
func pairUp(b, t *side, cfg Config, v *Verdict) *paired {
	p := &paired{b: b, t: t, pairs: make([]pair, 0, min(b.len(), t.len()))}
	ns := len(t.samples.list)
	inB, inT := make([]bool, ns), make([]bool, ns)
	for _, id := range b.recs.sample {
		inB[id] = true
	}
	for _, id := range t.recs.sample {
		inT[id] = true
	}
	// Both sides' records are listed by key: pair them in one merge.
	for x, y := 0, 0; x < len(b.byKey) && y < len(t.byKey); {
		j, i := b.byKey[x], t.byKey[y]
		switch c := b.key(j).cmp(t.key(i)); {
		case c < 0:
			x++
			continue
		case c > 0:
			y++
			continue
		}
		x, y = x+1, y+1
		p.pairs = append(p.pairs, pair{b: j, t: i})
		if bi, ti := b.recs.input[j], t.recs.input[i]; bi != 0 && ti != 0 && bi != ti {
			p.mismatched = append(p.mismatched, t.sample(i))
		}
	}
	slices.Sort(p.mismatched)
	p.mismatched = slices.Compact(p.mismatched)
	rank := t.samples.ranks()
	slices.SortFunc(p.pairs, func(x, y pair) int {
		return cmpRecords(rank, t.recs.sample[x.t], t.recs.repeat[x.t], t.recs.sample[y.t], t.recs.repeat[y.t])
	})
	// Pairs are sorted by sample: a sample's repeats are one run of them.
	for i, run := 0, 0; i < len(p.pairs); i++ {
		if i == 0 || t.recs.sample[p.pairs[i].t] != t.recs.sample[p.pairs[i-1].t] {
			p.samples = append(p.samples, p.sample(i))
			run = 0
		}
		run++
		p.repeats = max(p.repeats, run)
	}
	v.Pairs, v.Samples, v.Repeats = len(p.pairs), len(p.samples), p.repeats
	for _, pr := range p.pairs {
		if !b.recs.errored[pr.b] && !t.recs.errored[pr.t] {
			v.Evaluated++
		}
	}
	v.BaselineOnly, v.BaselineOnlyCount = oneSide(inB, inT, t.samples)
	v.TargetOnly, v.TargetOnlyCount = oneSide(inT, inB, t.samples)

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
		// A label is a cluster value's number, or for a sample without one
		// (and when clustering by sample) -1 - the sample's number: a
		// sample without a cluster value is its own cluster.
		labels := make([]int64, len(p.pairs))
		for i, pr := range p.pairs {
			c := -1 - int64(t.recs.sample[pr.t])
			if field != "" {
				if tc, bc := t.recs.cluster[pr.t], b.recs.cluster[pr.b]; tc >= 0 {
					c = int64(tc)
				} else if bc >= 0 {
					c = int64(bc)
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

// oneSide returns (up to MaxListed, sorted) the samples in a and not in b
// (both by sample number), and their number.
func oneSide(a, b []bool, samples *nameTable) ([]string, int) {
	var ids []string
	for id, in := range a {
		if in && !b[id] {
			ids = append(ids, samples.list[id])
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
