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

// Writer writes a results file line by line. The lines go to a partial file
// next to the results (PartialPath), flushed one by one so that a killed run
// leaves every finished record there; Close puts the whole file in place with
// a rename, so that readers never see a half-written file and the previous
// results stay until the new ones are complete. The partial file is locked
// while it is written: a second run on the same path fails at once instead of
// interleaving its lines with the first's.
type Writer struct {
	path   string
	f      *os.File
	w      *bufio.Writer
	enc    *json.Encoder
	n      int
	closed bool
}

// ErrInUse is returned (wrapped) by Create when another process is writing
// the same results file.
var ErrInUse = errors.New("another evalgate run is writing this results file (it holds the lock on its .partial file)")

// PartialPath is where the results for path are written until they are
// complete: the same directory, so that the final rename is atomic.
func PartialPath(path string) string { return path + ".partial" }

// Create starts the results file path (making its directory) and writes h.
// The file at path is replaced only when the Writer is closed.
func Create(path string, h Header) (*Writer, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("results %s: %w", path, err)
		}
	}
	// The rename at the end would fail on a directory, after the whole run:
	// say so now.
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("results %s is a directory; name a file", path)
	}
	f, err := lockPartial(PartialPath(path))
	if err != nil {
		return nil, fmt.Errorf("results %s: %w", path, err)
	}
	// A partial file left by a killed run is overwritten: its records
	// belong to that run.
	if err := f.Truncate(0); err != nil {
		f.Close()
		return nil, fmt.Errorf("results %s: %w", path, err)
	}
	w := &Writer{path: path, f: f, w: bufio.NewWriterSize(f, 64<<10)}
	w.enc = json.NewEncoder(w.w)
	// Model output is written as it is; HTML escaping would only obscure it.
	w.enc.SetEscapeHTML(false)
	h.Kind, h.Format, h.Version = KindHeader, Format, Version
	if err := w.line(h); err != nil {
		w.Discard()
		return nil, err
	}
	return w, nil
}

func (w *Writer) line(v any) error {
	if err := w.enc.Encode(v); err != nil {
		return fmt.Errorf("results %s: %w", w.path, err)
	}
	if err := w.w.Flush(); err != nil {
		return fmt.Errorf("results %s: %w", w.path, err)
	}
	return nil
}

// Write appends one record.
func (w *Writer) Write(r Record) error {
	r.Kind = KindRecord
	w.n++
	return w.line(r)
}

// Close writes the summary line and puts the file in place. Once the file is
// closed (by Close, Abort or Discard), Close does nothing: a deferred Close
// with an "incomplete" summary keeps a run's records when it panics.
func (w *Writer) Close(s Summary) error {
	if w.closed {
		return nil
	}
	s.Kind = KindSummary
	s.Records = w.n
	err := w.line(s)
	if perr := w.publish(); err == nil {
		err = perr
	}
	return err
}

// Abort puts the file in place without a summary line, as the file of a run
// cut short: readers report it as truncated.
func (w *Writer) Abort() error {
	if w.closed {
		return nil
	}
	return w.publish()
}

// Discard removes the partial file and leaves the results at Path as they
// were: for a run that stopped before anything was evaluated.
func (w *Writer) Discard() error {
	if w.closed {
		return nil
	}
	w.closed = true
	err := os.Remove(w.f.Name())
	w.f.Close()
	return err
}

// publish syncs the partial file, renames it onto the results and releases
// the lock. The rename comes before the close: the lock is held until the
// file is in place, so no second run can truncate it in between.
func (w *Writer) publish() error {
	w.closed = true
	err := w.f.Sync()
	if err == nil {
		err = os.Rename(w.f.Name(), w.path)
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("results %s: %w", w.path, err)
	}
	return nil
}

// Path is the results file being written.
func (w *Writer) Path() string { return w.path }

// Reader reads a results file as a stream.
type Reader struct {
	name    string
	br      *bufio.Reader
	closer  io.Closer
	line    int
	header  Header
	summary *Summary
	skip    func(line []byte) bool
	// long holds the current line when it is longer than br's buffer.
	long []byte
	// records counts the record lines read (skipped ones too), to check the
	// summary's count.
	records int
}

// SkipRecords makes Next pass over record lines for which skip returns true
// without decoding them: a reader that wants a few records of a large file
// (the samples a report shows) then costs a scan, not a decode, per line.
// The line given to skip is valid only during the call.
func (r *Reader) SkipRecords(skip func(line []byte) bool) { r.skip = skip }

// ErrTruncated is returned (wrapped) by Next when the file ends without its
// summary line: the run that wrote it was killed or the file was cut short.
var ErrTruncated = errors.New("file ends without a summary line (the run was cut short or the file truncated)")

// Open opens a results file and reads its header.
func Open(path string) (*Reader, error) {
	// A named pipe would block the open until something writes to it, a
	// device would never end.
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("results %s: not a regular file (mode %s); give the results file evalgate run wrote", path, fi.Mode().Type())
	}
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

// next returns the next non-empty line, of any length, valid until the next
// call: a line that fits in the reader's buffer is not copied, so that
// reading a large file allocates nothing per line.
func (r *Reader) next() ([]byte, error) {
	for {
		b, err := r.br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			// A line longer than the buffer is gathered in long.
			r.long = append(r.long[:0], b...)
			for err == bufio.ErrBufferFull {
				b, err = r.br.ReadSlice('\n')
				r.long = append(r.long, b...)
			}
			b = r.long
		}
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
	var rec Record
	err := r.NextInto(&rec)
	return rec, err
}

// NextInto is Next decoding the record into dst, a pointer to a zero struct
// whose JSON fields are some of Record's: a reader that keeps a few fields of
// each record (the gate keeps numbers, not answers) then allocates none of
// the others, which is most of a large file's reading time and memory.
func (r *Reader) NextInto(dst any) error {
	if r.summary != nil {
		return io.EOF
	}
	b, err := r.next()
	for err == nil && r.skip != nil && bytes.HasPrefix(b, recordPrefix) && r.skip(b) {
		r.records++
		b, err = r.next()
	}
	if err == io.EOF {
		return fmt.Errorf("results %s: %w", r.name, ErrTruncated)
	}
	if err != nil {
		return err
	}
	// The writer puts the kind first: a record line then decodes in one pass
	// (half the time of reading a large file); any other line is read
	// generally.
	if bytes.HasPrefix(b, recordPrefix) {
		if rd, ok := dst.(RecordDecoder); ok && rd.DecodeRecord(b) {
			r.records++
			return nil
		}
		if err := json.Unmarshal(b, dst); err != nil {
			return fmt.Errorf("results %s line %d: invalid JSON (%v); the file may be truncated mid-record", r.name, r.line, err)
		}
		r.records++
		return nil
	}
	var kind struct {
		Kind string `json:"kind"`
	}
	if err := json.Unmarshal(b, &kind); err != nil {
		return fmt.Errorf("results %s line %d: invalid JSON (%v); the file may be truncated mid-record", r.name, r.line, err)
	}
	switch kind.Kind {
	case KindRecord:
		if err := json.Unmarshal(b, dst); err != nil {
			return fmt.Errorf("results %s line %d: %w", r.name, r.line, err)
		}
		r.records++
		return nil
	case KindSummary:
		var s Summary
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("results %s line %d: %w", r.name, r.line, err)
		}
		if err := r.checkEnd(s); err != nil {
			return err
		}
		r.summary = &s
		return io.EOF
	case KindHeader:
		return fmt.Errorf("results %s line %d: a second header line: two results files were joined into one; keep one file per run (evalgate merges nothing by concatenation)", r.name, r.line)
	default:
		return fmt.Errorf("results %s line %d: unexpected line kind %q", r.name, r.line, kind.Kind)
	}
}

// RecordDecoder is a record type that decodes its own lines, faster than
// encoding/json's reflection: a reader of a large file (the gate reads
// hundreds of thousands of records) spends most of its time decoding.
// NextInto hands DecodeRecord each record line; a line it returns false for
// is decoded by encoding/json, as for any other type. DecodeRecord must
// return false for a line that is not valid JSON, or that it does not read
// exactly as encoding/json would: encoding/json then gives the error.
type RecordDecoder interface {
	DecodeRecord(line []byte) bool
}

// recordPrefix starts every line Writer.Write writes.
var recordPrefix = []byte(`{"kind":"record"`)

// checkEnd checks the summary line s against what was read, and that nothing
// follows it: a count that disagrees, or a line after the summary, means
// the file was edited or two files were joined, and its records cannot be
// trusted to be one run's.
func (r *Reader) checkEnd(s Summary) error {
	at := r.line
	if s.Records != r.records {
		return fmt.Errorf("results %s line %d: the summary counts %d records but the file holds %d before it; the file was edited or pieced together, so write it again with evalgate run", r.name, at, s.Records, r.records)
	}
	switch _, err := r.next(); {
	case err == io.EOF:
		return nil
	case err != nil:
		return err
	}
	return fmt.Errorf("results %s line %d: content after the summary line (line %d); a results file holds one run: were two files joined?", r.name, r.line, at)
}

// Summary is the summary line; nil until Next has returned io.EOF.
func (r *Reader) Summary() *Summary { return r.summary }

// Close closes the underlying file, if Open opened it.
func (r *Reader) Close() error {
	if r.closer != nil {
		return r.closer.Close()
	}
	return nil
}

// CountLines counts the lines of a results file by scanning for line ends,
// without decoding anything: a reader that keeps every record of a large
// file sizes its storage once from it instead of growing it.
func CountLines(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("results: %w", err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	n := 0
	for {
		k, err := f.Read(buf)
		n += bytes.Count(buf[:k], []byte{'\n'})
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, fmt.Errorf("results %s: %w", path, err)
		}
	}
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
