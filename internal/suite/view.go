package suite

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
)

// View is what one target sees of a sample: the dataset's row, merged with
// the target's own row (targets[].dataset) and its column mapping
// (targets[].columns), kept when its filter holds.
type View struct {
	filter  *Filter
	columns map[string]string
	// rows are the target's own rows by key; nil when it has no file.
	rows map[string]map[string]string
	path string
}

// Sees reports whether the target is evaluated on smp: its own file (if
// any) has a row for the sample's id, and its filter holds on the merged row.
func (v *View) Sees(smp Sample) bool {
	if v == nil {
		return true
	}
	if v.rows != nil {
		if _, ok := v.rows[smp.ID]; !ok {
			return false
		}
	}
	return v.filter.Match(v.Fields(smp))
}

// Fields are the sample's fields as the target sees them: the dataset's,
// overlaid with its own row's, then each mapped column copied to the name
// the suite uses. The sample's map is never changed.
func (v *View) Fields(smp Sample) map[string]string {
	if v == nil || (v.rows == nil && len(v.columns) == 0) {
		return smp.Fields
	}
	out := make(map[string]string, len(smp.Fields))
	for k, x := range smp.Fields {
		out[k] = x
	}
	for k, x := range v.rows[smp.ID] {
		out[k] = x
	}
	for name, col := range v.columns {
		if x, ok := out[col]; ok {
			out[name] = x
		} else {
			delete(out, name) // the target has no such column: not the dataset's
		}
	}
	return out
}

// views caches each target's View: its own file is read once per suite.
type views struct {
	mu sync.Mutex
	m  map[string]*View
}

// TargetView returns target t's view. A target without its own file, column
// mapping or filter sees the dataset as it is (a nil *View). Its own file is
// read whole into memory on first use (the suite's dataset still streams);
// a key that repeats or is empty is an error naming the line.
func (s *Suite) TargetView(t *TargetConfig) (*View, error) {
	f := s.TargetFilter(t.ID)
	if t.Dataset == nil && len(t.Columns) == 0 && f == nil {
		return nil, nil
	}
	s.views.mu.Lock()
	defer s.views.mu.Unlock()
	if v, ok := s.views.m[t.ID]; ok {
		return v, nil
	}
	v := &View{filter: f, columns: t.Columns}
	if d := t.Dataset; d != nil {
		path := s.resolve(d.Path)
		format := d.Format
		if format == "" {
			format = formatOf(path)
		}
		key := d.Key
		if key == "" {
			key = s.Field(RoleID)
		}
		ds, err := openDataset(path, format, map[string]string{RoleID: key}, 0, MaxRecordBytes)
		if err != nil {
			return nil, fmt.Errorf("target %s: %w", t.ID, err)
		}
		defer ds.Close()
		v.rows, v.path = map[string]map[string]string{}, path
		lines := map[string]int{}
		for {
			smp, err := ds.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("target %s: %w", t.ID, err)
			}
			id := smp.Fields[key]
			switch first, dup := lines[id]; {
			case id == "":
				return nil, fmt.Errorf("target %s: dataset %s line %d: no key (column %s); every row of a target's file names the sample it answers", t.ID, path, smp.Line, key)
			case dup:
				return nil, fmt.Errorf("target %s: dataset %s lines %d and %d both have key %q; keep one row per sample (or filter the file with the target's filter)", t.ID, path, first, smp.Line, id)
			}
			lines[id] = smp.Line
			v.rows[id] = smp.Fields
		}
	}
	if s.views.m == nil {
		s.views.m = map[string]*View{}
	}
	s.views.m[t.ID] = v
	return v, nil
}

// formatOf is a dataset format from a file extension ("" when unknown).
func formatOf(path string) string {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".jsonl", ".ndjson":
		return "jsonl"
	case ".csv":
		return "csv"
	}
	return ""
}

// checkTargetDataset checks a target's own file and column mapping.
func (c *checker) checkTargetDataset(t *TargetConfig, path string) {
	for name, col := range t.Columns {
		if name == "" || col == "" {
			c.errorf(c.at(path+".columns"), "%s.columns: map a column name the suite uses to this target's column, e.g. {alignment: alignment_tgt}", path)
		}
	}
	d := t.Dataset
	if d == nil {
		return
	}
	p := path + ".dataset"
	if !c.require(p+".path", "; give the target's .jsonl or .csv file") {
		return
	}
	switch d.Format {
	case "", "jsonl", "csv":
	default:
		c.errorf(c.at(p+".format"), "%s.format must be 'jsonl' or 'csv', got '%s'", p, d.Format)
		return
	}
	if d.Format == "" && formatOf(d.Path) == "" {
		c.errorf(c.at(p+".path"), "cannot tell the format of %s from its extension; name it .jsonl or .csv, or set %s.format", d.Path, p)
		return
	}
	if c.refused[p+".path"] {
		return
	}
	switch err := notRegular(c.s.resolve(d.Path)); {
	case errors.Is(err, fs.ErrNotExist):
		c.errorf(c.at(p+".path"), "%s: file %s does not exist (relative paths start at the directory of %s)", p, c.s.resolve(d.Path), filepath.Base(c.file))
	case err != nil:
		c.errorf(c.at(p+".path"), "%s.path: %v", p, err)
	}
}
