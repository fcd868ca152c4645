package results

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Writer writes a results file line by line. Each record is flushed as it is
// written so that a run that is killed keeps every finished record.
type Writer struct {
	f   *os.File
	w   *bufio.Writer
	enc *json.Encoder
	n   int
}

// Create creates (or truncates) path, making its directory, and writes h.
func Create(path string, h Header) (*Writer, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("results %s: %w", path, err)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("results %s: %w", path, err)
	}
	w := &Writer{f: f, w: bufio.NewWriterSize(f, 64<<10)}
	w.enc = json.NewEncoder(w.w)
	// Model output is written as it is; HTML escaping would only obscure it.
	w.enc.SetEscapeHTML(false)
	h.Kind, h.Format, h.Version = KindHeader, Format, Version
	if err := w.line(h); err != nil {
		f.Close()
		return nil, err
	}
	return w, nil
}

func (w *Writer) line(v any) error {
	if err := w.enc.Encode(v); err != nil {
		return fmt.Errorf("results %s: %w", w.f.Name(), err)
	}
	if err := w.w.Flush(); err != nil {
		return fmt.Errorf("results %s: %w", w.f.Name(), err)
	}
	return nil
}

// Write appends one record.
func (w *Writer) Write(r Record) error {
	r.Kind = KindRecord
	w.n++
	return w.line(r)
}

// Close writes the summary line and closes the file.
func (w *Writer) Close(s Summary) error {
	s.Kind = KindSummary
	s.Records = w.n
	err := w.line(s)
	if cerr := w.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("results %s: %w", w.f.Name(), cerr)
	}
	return err
}

// Abort closes the file without a summary, as a killed run would leave it.
func (w *Writer) Abort() error { return w.f.Close() }

// Path is the file being written.
func (w *Writer) Path() string { return w.f.Name() }

// Reader reads a results file as a stream.
type Reader struct {
	name    string
	br      *bufio.Reader
	closer  io.Closer
	line    int
	header  Header
	summary *Summary
	skip    func(line []byte) bool
}

// SkipRecords makes Next pass over record lines for which skip returns true
// without decoding them: a reader that wants a few records of a large file
// (the samples a report shows) then costs a scan, not a decode, per line.
func (r *Reader) SkipRecords(skip func(line []byte) bool) { r.skip = skip }

// ErrTruncated is returned (wrapped) by Next when the file ends without its
// summary line: the run that wrote it was killed or the file was cut short.
var ErrTruncated = errors.New("file ends without a summary line (the run was cut short or the file truncated)")

// Open opens a results file and reads its header.
func Open(path string) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	r, err := NewReader(f, path)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.closer = f
	return r, nil
}

// NewReader reads the header of a results stream; name is used in errors.
func NewReader(rd io.Reader, name string) (*Reader, error) {
	r := &Reader{name: name, br: bufio.NewReaderSize(rd, 64<<10)}
	b, err := r.next()
	if err == io.EOF {
		return nil, fmt.Errorf("results %s: empty file, not an evalgate results file", name)
	}
	if err != nil {
		return nil, err
	}
	var h Header
	if err := json.Unmarshal(b, &h); err != nil || h.Kind != KindHeader || h.Format != Format {
		return nil, fmt.Errorf("results %s line 1: not an evalgate results file (want a %q header line)", name, Format)
	}
	if h.Version != Version {
		return nil, fmt.Errorf("results %s: format version %d, this evalgate reads version %d; re-run the suite with this version", name, h.Version, Version)
	}
	r.header = h
	return r, nil
}

// next returns the next non-empty line, of any length.
func (r *Reader) next() ([]byte, error) {
	for {
		b, err := r.br.ReadBytes('\n')
		if len(b) == 0 && err != nil {
			if err == io.EOF {
				return nil, io.EOF
			}
			return nil, fmt.Errorf("results %s line %d: %w", r.name, r.line+1, err)
		}
		r.line++
		b = bytes.TrimSpace(b)
		if len(b) > 0 {
			return b, nil
		}
	}
}

// Header is the file's header line.
func (r *Reader) Header() Header { return r.header }

// Next returns the next record, io.EOF after the summary line, or an error
// wrapping ErrTruncated when the file ends without one.
func (r *Reader) Next() (Record, error) {
	if r.summary != nil {
		return Record{}, io.EOF
	}
	b, err := r.next()
	for err == nil && r.skip != nil && bytes.HasPrefix(b, recordPrefix) && r.skip(b) {
		b, err = r.next()
	}
	if err == io.EOF {
		return Record{}, fmt.Errorf("results %s: %w", r.name, ErrTruncated)
	}
	if err != nil {
		return Record{}, err
	}
	// The writer puts the kind first: a record line then decodes in one pass
	// (half the time of reading a large file); any other line is read
	// generally.
	if bytes.HasPrefix(b, recordPrefix) {
		var rec Record
		if err := json.Unmarshal(b, &rec); err != nil {
			return Record{}, fmt.Errorf("results %s line %d: invalid JSON (%v); the file may be truncated mid-record", r.name, r.line, err)
		}
		if rec.Kind == KindRecord {
			return rec, nil
		}
	}
	var kind struct {
		Kind string `json:"kind"`
	}
	if err := json.Unmarshal(b, &kind); err != nil {
		return Record{}, fmt.Errorf("results %s line %d: invalid JSON (%v); the file may be truncated mid-record", r.name, r.line, err)
	}
	switch kind.Kind {
	case KindRecord:
		var rec Record
		if err := json.Unmarshal(b, &rec); err != nil {
			return Record{}, fmt.Errorf("results %s line %d: %w", r.name, r.line, err)
		}
		return rec, nil
	case KindSummary:
		var s Summary
		if err := json.Unmarshal(b, &s); err != nil {
			return Record{}, fmt.Errorf("results %s line %d: %w", r.name, r.line, err)
		}
		r.summary = &s
		return Record{}, io.EOF
	default:
		return Record{}, fmt.Errorf("results %s line %d: unexpected line kind %q", r.name, r.line, kind.Kind)
	}
}

// recordPrefix starts every line Writer.Write writes.
var recordPrefix = []byte(`{"kind":"record"`)

// Summary is the summary line; nil until Next has returned io.EOF.
func (r *Reader) Summary() *Summary { return r.summary }

// Close closes the underlying file, if Open opened it.
func (r *Reader) Close() error {
	if r.closer != nil {
		return r.closer.Close()
	}
	return nil
}

// ReadAll reads a whole results file: for tests and small files only; the
// gate streams.
func ReadAll(path string) (Header, []Record, *Summary, error) {
	r, err := Open(path)
	if err != nil {
		return Header{}, nil, nil, err
	}
	defer r.Close()
	var recs []Record
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return r.Header(), recs, r.Summary(), nil
		}
		if err != nil {
			return r.Header(), recs, nil, err
		}
		recs = append(recs, rec)
	}
}
