package suite

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/evalgate/evalgate/internal/excerpt"
)

// MaxRecordBytes bounds one JSONL line or one CSV record. A dataset is read one
// record at a time, so memory stays near this bound however long the file is;
// a longer record is an error naming its line rather than an out-of-memory
// crash. 64 MiB holds a long-context sample (a 1M-token context is about 4 MB
// of text) with a wide margin.
const MaxRecordBytes = 64 << 20

// sniffBytes is how much of the file is checked for binary content: enough to
// catch a spreadsheet saved as .xlsx or a UTF-16 export, cheap to peek.
const sniffBytes = 1024

// Sample is one row of the dataset.
type Sample struct {
	// ID is the id column's value, or "row-N" (N counting the file's data
	// rows from 1, filtered out or not) when the row has none.
	ID string
	// Line is the physical line the row starts on (1-based), for messages.
	Line int
	// Fields are all the row's columns. JSON numbers and booleans are their
	// JSON text, nested values compact JSON, null the empty string.
	Fields map[string]string
	// Input, Reference and Cluster are the values of the input, reference and
	// cluster columns ("" when the row lacks them).
	Input     string
	Reference string
	Cluster   string
}

// DatasetReader streams the samples of a dataset file, one at a time.
type DatasetReader struct {
	path  string
	f     *os.File
	src   recordSource
	roles map[string]string
	limit int
	rows  int
	// filter skips rows (dataset.filter); read counts every data row, kept
	// or not, so that row-N ids do not move when the filter changes.
	filter     *Filter
	filterText string
	read       int
	err        error // sticky: once a read fails, every later read fails the same way
	// sum hashes every byte read from the file; done receives the digest
	// when the reader reaches the end, so that a read to the end (the
	// pre-flight check) also gives the suite its dataset hash.
	sum  hash.Hash
	done func(digest []byte)
}

// recordSource yields a file's rows as raw fields with their start line.
type recordSource interface {
	next() (fields map[string]string, line int, err error)
}

// OpenDataset opens the suite's dataset for streaming. Close it when done.
func OpenDataset(s *Suite) (*DatasetReader, error) {
	roles := map[string]string{}
	for _, r := range roles0 {
		roles[r] = s.Field(r)
	}
	d, err := openDataset(s.DatasetPath, s.DatasetFormat, roles, s.Config.Dataset.Limit, MaxRecordBytes)
	if err != nil {
		return nil, err
	}
	d.filter, d.filterText = s.DatasetFilter, filterText(s.Config.Dataset.Filter)
	d.done = s.setDatasetSum
	return d, nil
}

var roles0 = []string{RoleID, RoleInput, RoleReference, RoleContext, RoleCluster}

// openDataset opens a dataset; maxRecord is MaxRecordBytes except in tests.
func openDataset(path, format string, roles map[string]string, limit, maxRecord int) (*DatasetReader, error) {
	// Opening a named pipe blocks until something writes to it: check first.
	if err := notRegular(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("dataset %s: %w", path, err)
	}
	sum := sha256.New()
	br := bufio.NewReaderSize(io.TeeReader(f, sum), 64<<10)
	if err := sniff(br); err != nil {
		f.Close()
		return nil, datasetError(path, err)
	}
	d := &DatasetReader{path: path, f: f, roles: roles, limit: limit, sum: sum}
	switch format {
	case "jsonl":
		d.src = &jsonlSource{r: br, max: maxRecord}
	case "csv":
		src, err := newCSVSource(br, maxRecord)
		if err != nil {
			f.Close()
			return nil, datasetError(path, err)
		}
		d.src = src
	default:
		f.Close()
		return nil, fmt.Errorf("dataset %s: unknown format %q; use jsonl or csv", path, format)
	}
	return d, nil
}

// sniff skips a UTF-8 byte order mark and rejects files that are not UTF-8
// text.
func sniff(br *bufio.Reader) error {
	head, _ := br.Peek(sniffBytes)
	truncated := len(head) == sniffBytes
	if bytes.HasPrefix(head, []byte("\xef\xbb\xbf")) {
		_, _ = br.Discard(3)
		head = head[3:]
	}
	if len(head) == 0 {
		return nil
	}
	lineOf := func(off int) int { return 1 + bytes.Count(head[:off], []byte("\n")) }
	if i := bytes.IndexByte(head, 0); i >= 0 {
		return &lineError{lineOf(i), fmt.Errorf("the file looks binary or UTF-16 (a NUL byte at offset %d); give a UTF-8 .jsonl or .csv file", i)}
	}
	// The peek may cut the last character in two: an incomplete character
	// at the end of a full peek is not an error.
	for i := 0; i < len(head); {
		r, size := utf8.DecodeRune(head[i:])
		if r == utf8.RuneError && size == 1 {
			if truncated && !utf8.FullRune(head[i:]) {
				break
			}
			return &lineError{lineOf(i), fmt.Errorf("the file is not UTF-8 text (invalid byte 0x%02x at offset %d); save it as UTF-8", head[i], i)}
		}
		i += size
	}
	return nil
}

// Next returns the next sample, or io.EOF after the last. A dataset without
// any sample is an error, not an empty stream: a gate over nothing must not pass.
func (d *DatasetReader) Next() (Sample, error) {
	if d.err != nil {
		return Sample{}, d.err
	}
	if d.limit > 0 && d.rows >= d.limit {
		d.err = io.EOF
		return Sample{}, d.err
	}
	fields, line, err := d.src.next()
	for err == nil {
		d.read++
		if d.filter.Match(fields) {
			break
		}
		fields, line, err = d.src.next()
	}
	switch {
	case err == io.EOF && d.rows == 0 && d.read > 0:
		d.err = fmt.Errorf("dataset %s: no row of %d matches dataset.filter (%s); check the column names and values", d.path, d.read, d.filterText)
		return Sample{}, d.err
	case err == io.EOF && d.rows == 0:
		d.err = fmt.Errorf("dataset %s: no samples; add at least one row", d.path)
		return Sample{}, d.err
	case err == io.EOF:
		d.err = io.EOF
		if d.done != nil {
			// Every byte has passed through the hash: the file's digest.
			d.done(d.sum.Sum(nil))
		}
		return Sample{}, d.err
	case err != nil:
		d.err = datasetError(d.path, &lineError{line, err})
		return Sample{}, d.err
	}
	d.rows++
	s := Sample{
		ID:        fields[d.roles[RoleID]],
		Line:      line,
		Fields:    fields,
		Input:     fields[d.roles[RoleInput]],
		Reference: fields[d.roles[RoleReference]],
	}
	if c := d.roles[RoleCluster]; c != "" {
		s.Cluster = fields[c]
	}
	if s.ID == "" {
		s.ID = fmt.Sprintf("row-%d", d.read)
	}
	return s, nil
}

// Close closes the file.
func (d *DatasetReader) Close() error { return d.f.Close() }

// jsonlSource reads JSON Lines: one object per line, blank lines skipped.
type jsonlSource struct {
	r    *bufio.Reader
	max  int
	line int
	buf  []byte
}

func (j *jsonlSource) next() (map[string]string, int, error) {
	for {
		raw, err := j.readLine()
		if err != nil {
			return nil, j.line, err
		}
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 {
			continue
		}
		fields, err := parseObject(raw)
		return fields, j.line, err
	}
}

// readLine returns the next physical line without its end, at most
// MaxRecordBytes long, or io.EOF.
func (j *jsonlSource) readLine() ([]byte, error) {
	j.buf = j.buf[:0]
	for {
		chunk, err := j.r.ReadSlice('\n')
		if len(j.buf)+len(chunk) > j.max {
			j.line++
			j.buf = nil
			return nil, fmt.Errorf("the line is longer than %s, evalgate's limit for one sample; shorten it", sizeText(j.max))
		}
		switch {
		case err == nil:
			j.line++
			if len(j.buf) == 0 {
				return chunk, nil // no copy: parsed before the next read
			}
			j.buf = append(j.buf, chunk...)
			return j.buf, nil
		case errors.Is(err, bufio.ErrBufferFull):
			j.buf = append(j.buf, chunk...)
		case err == io.EOF:
			j.buf = append(j.buf, chunk...)
			if len(j.buf) == 0 {
				return nil, io.EOF
			}
			j.line++
			return j.buf, nil
		default:
			return nil, err
		}
	}
}

// parseObject renders a JSON object's members as strings.
func parseObject(raw []byte) (map[string]string, error) {
	if raw[0] != '{' {
		return nil, fmt.Errorf("not a JSON object (starts with %q); each line must be one object like {\"question\": \"...\"}", excerpt.Of(string(raw), 20))
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	fields := make(map[string]string, len(members))
	for k, v := range members {
		switch v[0] {
		case '"':
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return nil, fmt.Errorf("field %q: %w", k, err)
			}
			fields[k] = s
		case 'n':
			fields[k] = ""
		case '{', '[':
			var b bytes.Buffer
			if err := json.Compact(&b, v); err != nil {
				return nil, fmt.Errorf("field %q: %w", k, err)
			}
			fields[k] = b.String()
		default:
			fields[k] = string(v)
		}
	}
	return fields, nil
}

// csvSource reads RFC 4180 CSV with a header row.
type csvSource struct {
	r      *csv.Reader
	budget *budgetReader
	header []string
}

func newCSVSource(br *bufio.Reader, maxRecord int) (*csvSource, error) {
	budget := &budgetReader{r: br, max: int64(maxRecord)}
	cr := csv.NewReader(budget)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, errors.New("no samples; the first row must name the columns (sample_id,question,answer_ground_truth,...)")
	}
	if err != nil {
		return nil, csvError(err, 0)
	}
	c := &csvSource{r: cr, budget: budget, header: make([]string, len(header))}
	line, _ := cr.FieldPos(0)
	seen := map[string]int{}
	for i, h := range header {
		h = strings.TrimSpace(h)
		if h == "" {
			return nil, &lineError{line, fmt.Errorf("column %d of the header row has no name; name every column", i+1)}
		}
		if first, dup := seen[h]; dup {
			return nil, &lineError{line, fmt.Errorf("columns %d and %d of the header row are both named %q; rename one", first+1, i+1, h)}
		}
		seen[h] = i
		c.header[i] = h
	}
	budget.mark = cr.InputOffset()
	return c, nil
}

func (c *csvSource) next() (map[string]string, int, error) {
	rec, err := c.r.Read()
	if err == io.EOF {
		return nil, 0, io.EOF
	}
	if err != nil {
		line, _ := c.r.FieldPos(0)
		if le := new(lineError); errors.As(csvError(err, len(c.header)), &le) {
			return nil, le.line, le.err
		}
		return nil, line, err
	}
	c.budget.mark = c.r.InputOffset()
	line, _ := c.r.FieldPos(0)
	fields := make(map[string]string, len(rec))
	for i, v := range rec {
		fields[c.header[i]] = v
	}
	return fields, line, nil
}

// csvError explains a CSV parse error in terms of what to fix, at the line
// its record starts on.
func csvError(err error, columns int) error {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return err
	}
	switch {
	case errors.Is(pe.Err, csv.ErrFieldCount):
		err = fmt.Errorf("the row has a different number of fields than the header's %d; quote fields that contain commas", columns)
	case errors.Is(pe.Err, csv.ErrBareQuote), errors.Is(pe.Err, csv.ErrQuote):
		err = fmt.Errorf("%w (line %d column %d); quote the whole field and double the quotes inside it (\"\")", pe.Err, pe.Line, pe.Column)
	default:
		err = pe.Err
	}
	return &lineError{pe.StartLine, err}
}

// lineError is a dataset error at a line.
type lineError struct {
	line int
	err  error
}

func (e *lineError) Error() string { return fmt.Sprintf("line %d: %v", e.line, e.err) }
func (e *lineError) Unwrap() error { return e.err }

// datasetError names the file, and the line when err has one.
func datasetError(path string, err error) error {
	if le := new(lineError); errors.As(err, &le) && le.line > 0 {
		return fmt.Errorf("dataset %s line %d: %w", path, le.line, le.err)
	}
	return fmt.Errorf("dataset %s: %w", path, err)
}

// budgetReader fails once more than max bytes were read past mark, the
// end of the last record: a runaway quoted field then stops with an error
// instead of reading the rest of the file into memory.
type budgetReader struct {
	r     io.Reader
	max   int64
	total int64
	mark  int64
}

func (b *budgetReader) Read(p []byte) (int, error) {
	if b.total-b.mark > b.max {
		return 0, fmt.Errorf("the record is longer than %s, evalgate's limit for one sample (an unclosed quote makes the rest of the file one field)", sizeText(int(b.max)))
	}
	n, err := b.r.Read(p)
	b.total += int64(n)
	return n, err
}

// sizeText writes a byte limit for a message.
func sizeText(n int) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}
