package shard

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/evalgate/evalgate/internal/results"
	"github.com/evalgate/evalgate/internal/run"
)

// ErrMismatch is wrapped by every refusal of Merge: files that are not the
// shards of one run, or records that do not belong where they are.
var ErrMismatch = errors.New("the files are not the shards of one run")

// ErrWrite is wrapped by Merge's failures to write the merged file: the
// machine's (permissions, disk), not the shards'.
var ErrWrite = errors.New("cannot write the merged results")

// Merge joins the results files of every shard of one run (in any order)
// into one results file at out, with the summary an unsharded run would
// have written. It streams: memory grows only with the records' keys (to
// find duplicates) and latencies (for the percentiles), never with their
// answers. Nothing is written to out unless every file checks out.
func Merge(ctx context.Context, out string, paths []string) (results.Summary, error) {
	if len(paths) == 0 {
		return results.Summary{}, fmt.Errorf("no shard results given; name every shard's results file")
	}
	// 1. Read every header and check that the files are the N shards of
	// one run before anything is written.
	readers := make([]*results.Reader, 0, len(paths))
	defer func() {
		for _, r := range readers {
			r.Close()
		}
	}()
	for _, p := range paths {
		r, err := results.Open(p)
		if err != nil {
			return results.Summary{}, err
		}
		readers = append(readers, r)
	}
	h, err := checkHeaders(paths, readers)
	if err != nil {
		return results.Summary{}, err
	}
	// 2. Stream the records into the merged file; a refusal on the way
	// discards it and leaves out as it was.
	w, err := results.Create(out, h)
	if err != nil {
		return results.Summary{}, fmt.Errorf("%w: %w", ErrWrite, err)
	}
	m := newMerger(h)
	for i, r := range readers {
		if err := m.copy(ctx, paths, i, r, w); err != nil {
			w.Discard()
			return results.Summary{}, err
		}
	}
	sum := m.summary()
	if err := w.Close(sum); err != nil {
		return results.Summary{}, fmt.Errorf("%w: %w", ErrWrite, err)
	}
	sum.Records = m.records
	return sum, nil
}

// checkHeaders returns the merged file's header: the first shard's, without
// the shard, started when the first shard started.
func checkHeaders(paths []string, readers []*results.Reader) (results.Header, error) {
	first := readers[0].Header()
	if first.Shard == nil {
		return results.Header{}, notAShard(paths[0])
	}
	byIndex := map[int]string{}
	h := first
	h.Shard = nil
	for i, r := range readers {
		x, p := r.Header(), paths[i]
		if x.Shard == nil {
			return results.Header{}, notAShard(p)
		}
		if x.Shard.Count != first.Shard.Count {
			return results.Header{}, fmt.Errorf("%s is shard %s but %s is shard %s: %w; run every shard with the same N", p, String(*x.Shard), paths[0], String(*first.Shard), ErrMismatch)
		}
		if other, ok := byIndex[x.Shard.Index]; ok {
			return results.Header{}, fmt.Errorf("%s and %s are both shard %s: %w; give each shard's results once", other, p, String(*x.Shard), ErrMismatch)
		}
		byIndex[x.Shard.Index] = p
		for _, d := range []struct{ what, a, b, hint string }{
			{"suite", first.Suite, x.Suite, "they are results of different suites"},
			{"suite hash", first.SuiteHash, x.SuiteHash, "the dataset or the metrics differ; run every shard on the same revision"},
			{"config hash", first.ConfigHash, x.ConfigHash, "the suite's config differs; run every shard on the same revision"},
			{"repeats", strconv.Itoa(first.Repeats), strconv.Itoa(x.Repeats), "run every shard with the same --repeats"},
			{"cluster field", first.Cluster, x.Cluster, "run every shard on the same revision"},
			{"targets", jsonText(first.Targets), jsonText(x.Targets), "run every shard with the same targets (--targets) on the same revision"},
			{"metrics", jsonText(first.Metrics), jsonText(x.Metrics), "run every shard on the same revision"},
		} {
			if d.a != d.b {
				return results.Header{}, fmt.Errorf("%s's %s (%s) differs from %s's (%s): %w: %s", p, d.what, short(d.b), paths[0], short(d.a), ErrMismatch, d.hint)
			}
		}
		if x.Started.Before(h.Started) {
			h.Started = x.Started
		}
	}
	var missing []string
	for i := 1; i <= first.Shard.Count; i++ {
		if _, ok := byIndex[i]; !ok {
			missing = append(missing, String(results.Shard{Index: i, Count: first.Shard.Count}))
		}
	}
	if len(missing) > 0 {
		return results.Header{}, fmt.Errorf("missing shard %s (got %d of %d files: %s): %w; give the results of every shard", strings.Join(missing, ", "), len(paths), first.Shard.Count, strings.Join(paths, ", "), ErrMismatch)
	}
	return h, nil
}

func notAShard(path string) error {
	return fmt.Errorf("%s is not a shard's results (its header names no shard): %w; write the shards with evalgate run --shard i/N", path, ErrMismatch)
}

// jsonText is v as JSON, to compare the header's lists field by field.
func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// short keeps a mismatch message readable when the values are long lists.
func short(s string) string {
	const max = 200
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}

// merger totals the shards' records and summaries.
type merger struct {
	header results.Header
	// seen maps each record's key to the file it came from, to name both
	// files of a duplicate.
	seen   map[[16]byte]uint16
	lat    map[string][]float64
	sums   map[string]*results.TargetSummary
	totals map[string]map[string]float64
	// judgeUnpriced marks targets whose judge cost was unknown in some shard.
	judgeUnpriced map[string]bool
	records       int
	finished      time.Time
	status        results.Status
	reasons       []string
}

func newMerger(h results.Header) *merger {
	m := &merger{header: h, seen: map[[16]byte]uint16{}, lat: map[string][]float64{}, sums: map[string]*results.TargetSummary{},
		totals: map[string]map[string]float64{}, judgeUnpriced: map[string]bool{}, status: results.StatusComplete}
	for _, t := range h.Targets {
		ts := &results.TargetSummary{ID: t.ID, Means: map[string]float64{}, Scored: map[string]int{}}
		if t.Priced {
			ts.CostUSD = new(float64)
		}
		m.sums[t.ID] = ts
		m.totals[t.ID] = map[string]float64{}
	}
	return m
}

// copy streams file i's records to w, checking each.
func (m *merger) copy(ctx context.Context, paths []string, i int, r *results.Reader, w *results.Writer) error {
	sh := *r.Header().Shard
	for n := 0; ; n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if _, ok := m.sums[rec.Target]; !ok {
			return fmt.Errorf("%s: a record of target %q, which its header does not name: %w", paths[i], rec.Target, ErrMismatch)
		}
		if got := Of(rec.SampleID, sh.Count); got != sh.Index {
			return fmt.Errorf("%s is shard %s but holds sample %q of shard %d/%d: %w; the file was edited or written by another evalgate", paths[i], String(sh), rec.SampleID, got, sh.Count, ErrMismatch)
		}
		key := recordKey(rec)
		if j, dup := m.seen[key]; dup {
			where := paths[i]
			if int(j) != i {
				where = paths[j] + " and " + paths[i]
			}
			return fmt.Errorf("duplicate record (sample %q, target %q, repeat %d) in %s: %w", rec.SampleID, rec.Target, rec.Repeat, where, ErrMismatch)
		}
		m.seen[key] = uint16(i)
		if rec.Error == nil {
			m.lat[rec.Target] = append(m.lat[rec.Target], rec.LatencyMS)
		}
		if err := w.Write(rec); err != nil {
			return fmt.Errorf("%w: %w", ErrWrite, err)
		}
		m.records++
	}
	m.add(paths[i], *r.Summary())
	return nil
}

// recordKey identifies a (sample, target, repeat) in 16 bytes, whatever the
// length of the sample id.
func recordKey(rec results.Record) [16]byte {
	var b bytes.Buffer
	b.WriteString(rec.SampleID)
	b.WriteByte(0)
	b.WriteString(rec.Target)
	b.WriteByte(0)
	b.WriteString(strconv.Itoa(rec.Repeat))
	sum := sha256.Sum256(b.Bytes())
	return [16]byte(sum[:16])
}

// add totals one shard's summary: every count and cost adds up; the means
// are weighted by what each shard scored.
func (m *merger) add(path string, s results.Summary) {
	if s.Status != results.StatusComplete {
		m.status = results.StatusIncomplete
		m.reasons = append(m.reasons, path+": "+s.Reason)
	}
	for _, t := range s.Targets {
		ts, ok := m.sums[t.ID]
		if !ok {
			continue
		}
		ts.Records += t.Records
		ts.Errors += t.Errors
		ts.InfraErrors += t.InfraErrors
		ts.Skipped += t.Skipped
		ts.Usage = ts.Usage.Add(t.Usage)
		ts.Cached += t.Cached
		ts.Retries += t.Retries
		ts.MaxTokensStops += t.MaxTokensStops
		ts.JudgeUsage = ts.JudgeUsage.Add(t.JudgeUsage)
		if ts.CostUSD != nil && t.CostUSD != nil {
			*ts.CostUSD += *t.CostUSD
		}
		switch {
		case t.JudgeCostUSD != nil:
			if ts.JudgeCostUSD == nil {
				ts.JudgeCostUSD = new(float64)
			}
			*ts.JudgeCostUSD += *t.JudgeCostUSD
		case t.JudgeUsage != (results.TargetSummary{}).JudgeUsage:
			// Judged, at an unknown price: the total is unknown too.
			m.judgeUnpriced[t.ID] = true
		}
		for k, n := range t.Scored {
			ts.Scored[k] += n
			m.totals[t.ID][k] += t.Means[k] * float64(n)
		}
	}
	if s.Finished.After(m.finished) {
		m.finished = s.Finished
	}
}

// summary is the merged file's summary: finished when the last shard
// finished, incomplete when any shard was, with each shard's reason.
func (m *merger) summary() results.Summary {
	sum := results.Summary{Finished: m.finished, Status: m.status, Reason: strings.Join(m.reasons, "; ")}
	for _, t := range m.header.Targets {
		ts := m.sums[t.ID]
		for k, n := range ts.Scored {
			if n > 0 {
				ts.Means[k] = m.totals[t.ID][k] / float64(n)
			}
		}
		lat := m.lat[t.ID]
		slices.Sort(lat)
		ts.LatencyP50MS = run.Quantile(lat, 0.50)
		ts.LatencyP95MS = run.Quantile(lat, 0.95)
		if m.judgeUnpriced[t.ID] {
			ts.JudgeCostUSD = nil
		}
		sum.Targets = append(sum.Targets, *ts)
	}
	return sum
}
