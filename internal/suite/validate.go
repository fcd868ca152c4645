package suite

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/evalgate/evalgate/internal/metric"
	"github.com/evalgate/evalgate/internal/metric/judge"
)

// FindingSeverity says whether a finding stops a run (error) or is worth a look
// (warning).
type FindingSeverity string

// The two severities of a finding.
const (
	SevError   FindingSeverity = "error"
	SevWarning FindingSeverity = "warning"
)

// MaxFindingLines is how many offending line numbers a finding keeps: enough
// to find the pattern, few enough to read.
const MaxFindingLines = 5

// Finding is one kind of problem in the dataset, counted over all rows.
type Finding struct {
	Severity FindingSeverity
	// Code is a stable name for the kind of problem: duplicate_id,
	// empty_reference, missing_field, not_numeric, invalid_metric, unreadable,
	// cache_prompt (added by `evalgate validate`, which knows the prices).
	Code string
	// Column is the dataset column concerned, if any.
	Column string
	// Message says what is wrong and what to change.
	Message string
	// Count is the number of offending rows; Lines the first few of them.
	Count int
	Lines []int
}

// Report is what Validate found in a dataset.
type Report struct {
	Dataset  string
	Samples  int
	Findings []Finding
}

// Errors are the findings that make a run wrong or impossible.
func (r *Report) Errors() []Finding { return r.filter(SevError) }

// Warnings are the findings worth a look that do not stop a run.
func (r *Report) Warnings() []Finding { return r.filter(SevWarning) }

func (r *Report) filter(sev FindingSeverity) []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Severity == sev {
			out = append(out, f)
		}
	}
	return out
}

// String renders the report as text, one finding a line, errors first.
func (r *Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "dataset %s: %d samples, %d errors, %d warnings\n", r.Dataset, r.Samples, len(r.Errors()), len(r.Warnings()))
	for _, f := range r.Findings {
		fmt.Fprintf(&b, "%s: %s", f.Severity, f.Message)
		if f.Count > 0 {
			fmt.Fprintf(&b, " (%d %s, %s)", f.Count, plural(f.Count, "row", "rows"), linesText(f))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func linesText(f Finding) string {
	s := make([]string, len(f.Lines))
	for i, l := range f.Lines {
		s[i] = strconv.Itoa(l)
	}
	text := plural(len(s), "line ", "lines ") + strings.Join(s, ", ")
	if f.Count > len(f.Lines) {
		text += ", ..."
	}
	return text
}

// check is one per-row test: it returns true when the row offends.
type check struct {
	finding Finding
	test    func(Sample) bool
}

// Validate streams the dataset and reports what the AWS migration guide warns
// about: duplicate ids, empty ground truths where a metric needs one, rows
// missing fields that prompts or recorded targets use, and logged numbers
// (latency, tokens, scores) that are not numbers. An unreadable row ends the
// scan and becomes an error finding; the error return is for cancellation.
func Validate(ctx context.Context, s *Suite) (*Report, error) {
	r := &Report{Dataset: s.DatasetPath}
	checks := plan(s, r)
	ds, err := OpenDataset(s)
	if err != nil {
		r.add(Finding{Severity: SevError, Code: "unreadable", Message: err.Error()})
		return r, nil
	}
	defer ds.Close()
	var all []*TargetConfig
	for i := range s.Config.Targets {
		all = append(all, &s.Config.Targets[i])
	}
	ids, err := NewIDCheck(s, all)
	if err != nil {
		r.add(Finding{Severity: SevError, Code: "unreadable", Message: err.Error()})
		return r, nil
	}
	var columns []string
	dup := &Finding{Severity: SevError, Code: "duplicate_id", Column: s.Field(RoleID),
		Message: fmt.Sprintf("sample id repeated (column %s); ids must be unique so that runs pair up sample by sample", s.Field(RoleID))}
	for {
		if r.Samples%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		sample, err := ds.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			r.add(Finding{Severity: SevError, Code: "unreadable", Message: err.Error()})
			break
		}
		r.Samples++
		if columns == nil {
			columns = slices.Sorted(maps.Keys(sample.Fields))
		}
		if len(ids.Add(sample)) > 0 {
			hit(dup, sample.Line)
		}
		for i := range checks {
			if checks[i].test(sample) {
				hit(&checks[i].finding, sample.Line)
			}
		}
	}
	r.add(*dup)
	for _, c := range checks {
		r.add(c.finding)
	}
	r.Findings = append(r.Findings, singleBraceFindings(s, columns)...)
	slices.SortStableFunc(r.Findings, func(a, b Finding) int {
		if a.Severity != b.Severity {
			return strings.Compare(string(a.Severity), string(b.Severity))
		}
		return 0
	})
	return r, nil
}

func hit(f *Finding, line int) {
	f.Count++
	if len(f.Lines) < MaxFindingLines {
		f.Lines = append(f.Lines, line)
	}
}

// add keeps findings that apply: row findings with at least one row.
func (r *Report) add(f Finding) {
	if f.Count == 0 && f.Code != "unreadable" && f.Code != "invalid_metric" {
		return
	}
	r.Findings = append(r.Findings, f)
}

// plan lists the per-row checks the suite calls for. Metrics that cannot be
// built are reported at once.
func plan(s *Suite, r *Report) []check {
	var checks []check
	// A field is checked once, for its first user; uses lists them all.
	required := map[string][]string{}
	var requiredOrder []string
	need := func(col, user string) {
		if _, ok := required[col]; !ok {
			requiredOrder = append(requiredOrder, col)
		}
		if !slices.Contains(required[col], user) {
			required[col] = append(required[col], user)
		}
	}
	numeric := map[string]FindingSeverity{}
	var numericOrder []string
	wantNumber := func(col string, sev FindingSeverity) {
		if col == "" {
			return
		}
		if old, ok := numeric[col]; !ok {
			numericOrder = append(numericOrder, col)
		} else if old == SevError {
			return
		}
		numeric[col] = sev
	}
	for i := range s.Config.Targets {
		t := &s.Config.Targets[i]
		switch {
		case t.Provider == ProviderRecorded && (t.Dataset != nil || len(t.Columns) > 0):
			// Its columns are in its own file or mapped: checked when its
			// records are made, not on the dataset's rows.
		case t.Provider == ProviderRecorded && t.Cassette == "":
			need(s.RecordedField(t, RecordedOutput), "target "+t.ID)
			for _, role := range []string{RecordedLatency, RecordedInputTokens, RecordedOutputTokens} {
				wantNumber(s.RecordedField(t, role), SevError)
			}
			// The invocation config is read only by targets that inherit it.
			sev := SevWarning
			for _, o := range s.Config.Targets {
				if o.ParamsFrom == t.ID {
					sev = SevError
				}
			}
			for _, role := range sourceParamRoles {
				wantNumber(s.RecordedField(t, role), sev)
			}
		case t.Prompt != "":
			if tpl := s.Templates[t.Prompt]; tpl != nil {
				for _, f := range tpl.Fields() {
					need(f, "prompt "+t.Prompt)
				}
			}
		case t.Provider != ProviderRecorded:
			need(s.Field(RoleInput), "target "+t.ID+" (no prompt: the input column is sent as is)")
		}
	}
	needsRef := false
	for _, spec := range s.Metrics {
		if judge.IsJudge(spec) {
			// A judge is built with its provider at run time; here only its
			// settings are checked. Judges never need a reference.
			if _, err := judge.Config(spec); err != nil {
				r.add(Finding{Severity: SevError, Code: "invalid_metric", Message: err.Error()})
			}
			continue
		}
		m, err := metric.New(spec)
		if err != nil {
			r.add(Finding{Severity: SevError, Code: "invalid_metric", Message: err.Error()})
			continue
		}
		needsRef = needsRef || m.Info().NeedsReference
		if spec.Type == "imported" {
			if col, ok := spec.Options["field"].(string); ok {
				wantNumber(col, SevError)
			}
		}
	}
	for _, col := range []string{FieldSourceLatency, FieldSourceInTokens, FieldSourceOutTokens, FieldSourceJudge, FieldSourceHuman} {
		wantNumber(col, SevWarning)
	}

	for _, col := range requiredOrder {
		col := col
		checks = append(checks, check{
			finding: Finding{Severity: SevError, Code: "missing_field", Column: col,
				Message: fmt.Sprintf("rows without column %s, which %s uses; add it to every row or change the placeholder or fields mapping", col, strings.Join(required[col], ", "))},
			test: func(s Sample) bool { _, ok := s.Fields[col]; return !ok },
		})
	}
	if needsRef {
		col := s.Field(RoleReference)
		var users []string
		for _, spec := range s.Metrics {
			if judge.IsJudge(spec) {
				continue
			}
			if m, err := metric.New(spec); err == nil && m.Info().NeedsReference {
				users = append(users, spec.Name)
			}
		}
		checks = append(checks, check{
			finding: Finding{Severity: SevWarning, Code: "empty_reference", Column: col,
				Message: fmt.Sprintf("empty ground truth (column %s), which metrics %s need; these records will be scored as errors: fill the column or drop the rows", col, strings.Join(users, ", "))},
			test: func(s Sample) bool { return strings.TrimSpace(s.Reference) == "" },
		})
	}
	for _, col := range numericOrder {
		col, sev := col, numeric[col]
		what := "a logged number"
		if sev == SevError {
			what = "a number the suite reads"
		}
		checks = append(checks, check{
			finding: Finding{Severity: sev, Code: "not_numeric", Column: col,
				Message: fmt.Sprintf("column %s is not a number but should be %s; write plain numbers like 1.25 (no units) or leave it empty", col, what)},
			test: func(s Sample) bool {
				v := strings.TrimSpace(s.Fields[col])
				if v == "" {
					return false
				}
				_, err := strconv.ParseFloat(v, 64)
				return err != nil
			},
		})
	}
	return checks
}
