package recorded

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/evalgate/evalgate/internal/provider"
)

// Entry is one line of a cassette file (JSON Lines).
type Entry struct {
	// Key is provider.Hash of the request; the other request fields are there
	// for people reading the file.
	Key      string            `json:"key"`
	SampleID string            `json:"sample_id,omitempty"`
	Repeat   int               `json:"repeat"`
	Model    string            `json:"model"`
	Response provider.Response `json:"response"`
}

// Cassette replays responses by request hash. Only an index of offsets is kept
// in memory; responses are read from the file when asked for, so a large
// cassette does not hold every response in memory.
type Cassette struct {
	path string
	f    *os.File
	idx  map[string]span
}

type span struct{ off, n int64 }

// maxEntry bounds one cassette line: a response is text of a model's reply.
const maxEntry = 64 << 20

// OpenCassette indexes a cassette file.
func OpenCassette(path string) (*Cassette, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("cassette %s does not exist (record it with `evalgate run --record`)", path)
		}
		return nil, fmt.Errorf("cassette %s: %w", path, err)
	}
	c := &Cassette{path: path, f: f, idx: map[string]span{}}
	br := bufio.NewReaderSize(f, 64<<10)
	var off int64
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		if len(b) > maxEntry {
			f.Close()
			return nil, fmt.Errorf("cassette %s line %d: longer than %d MB", path, line, maxEntry>>20)
		}
		if len(b) == 0 && err == io.EOF {
			break
		}
		if err != nil && err != io.EOF {
			f.Close()
			return nil, fmt.Errorf("cassette %s line %d: %w", path, line, err)
		}
		n := int64(len(b))
		var head struct {
			Key string `json:"key"`
		}
		if trimmed := bytes.TrimRight(b, "\r\n "); len(trimmed) > 0 {
			if jerr := json.Unmarshal(trimmed, &head); jerr != nil || head.Key == "" {
				f.Close()
				return nil, fmt.Errorf("cassette %s line %d: not a cassette entry (want a JSON object with a \"key\")", path, line)
			}
			c.idx[head.Key] = span{off, n}
		}
		off += n
		if err == io.EOF {
			break
		}
	}
	return c, nil
}

// Len is the number of entries.
func (c *Cassette) Len() int { return len(c.idx) }

// Complete returns the recorded response for req; a miss is an error that
// says how to fix it.
func (c *Cassette) Complete(_ context.Context, req provider.Request) (provider.Response, error) {
	key := provider.Hash(req)
	sp, ok := c.idx[key]
	if !ok {
		return provider.Response{}, provider.Errorf(provider.KindInvalidRequest, Name,
			"cassette %s has no response for sample %s repeat %d (key %.12s): the prompt, model or params changed since it was recorded; re-record with `evalgate run --record`",
			c.path, req.SampleID, req.Repeat, key)
	}
	buf := make([]byte, sp.n)
	if _, err := c.f.ReadAt(buf, sp.off); err != nil && err != io.EOF {
		return provider.Response{}, provider.Errorf(provider.KindOther, Name, "cassette %s: %v", c.path, err)
	}
	var e Entry
	if err := json.Unmarshal(buf, &e); err != nil {
		return provider.Response{}, provider.Errorf(provider.KindOther, Name, "cassette %s entry %.12s: %v", c.path, key, err)
	}
	return e.Response, nil
}

// Close closes the file.
func (c *Cassette) Close() error { return c.f.Close() }

// Inner is what a Recorder calls.
type Inner interface {
	Complete(ctx context.Context, req provider.Request) (provider.Response, error)
}

// Recorder calls a real provider and appends each successful response to a
// cassette file, for offline replay later.
type Recorder struct {
	inner Inner
	// Redact, if set, removes credentials from an answer before it is
	// written: cassettes are committed to repositories.
	Redact func(string) string
	mu     sync.Mutex
	f      *os.File
	enc    *json.Encoder
}

// NewRecorder creates (truncating) the cassette at path.
func NewRecorder(path string, inner Inner) (*Recorder, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("cassette %s: %w", path, err)
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cassette %s: %w", path, err)
	}
	enc := json.NewEncoder(f)
	enc.SetEscapeHTML(false)
	return &Recorder{inner: inner, f: f, enc: enc}, nil
}

// Complete calls the real provider and records a successful response.
func (r *Recorder) Complete(ctx context.Context, req provider.Request) (provider.Response, error) {
	resp, err := r.inner.Complete(ctx, req)
	if err != nil {
		return resp, err
	}
	if r.Redact != nil {
		resp.Text = r.Redact(resp.Text)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if werr := r.enc.Encode(Entry{Key: provider.Hash(req), SampleID: req.SampleID, Repeat: req.Repeat, Model: req.Model, Response: resp}); werr != nil {
		return resp, provider.Errorf(provider.KindOther, Name, "write cassette %s: %v", r.f.Name(), werr)
	}
	return resp, nil
}

// Close closes the cassette file.
func (r *Recorder) Close() error { return r.f.Close() }
