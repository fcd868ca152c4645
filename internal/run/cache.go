package run

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/evalgate/evalgate/internal/provider"
)

// Key is the response cache's key for a call: what identifies the model
// service (the provider's name and its endpoint: a base URL, a region and
// endpoint, a program), whether the call streams (time to first token is
// only measured then) and provider.Hash of the request (model, system,
// messages, params, repeat). Credentials are never part of it: a rotated key
// still reads the cache, and no key can be recovered from a file name.
func Key(providerName, endpoint string, req provider.Request) string {
	// keyVersion changes when the key's parts change, so that entries keyed
	// the old way are never read as answers to the new question.
	const keyVersion = "2"
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%s\x00%s\x00%t\x00%s", keyVersion, providerName, endpoint, req.Stream, provider.Hash(req))))
	return hex.EncodeToString(sum[:])
}

// Endpointer is a provider that names the service it calls, for the cache
// key: two servers behind one provider name must not share answers.
type Endpointer interface {
	// Endpoint identifies the service (a base URL, a region, a program and
	// its directory) and never holds a credential.
	Endpoint() string
}

// endpointOf is p's Endpoint, or "" for providers that have none.
func endpointOf(p Provider) string {
	if e, ok := p.(Endpointer); ok {
		return e.Endpoint()
	}
	return ""
}

// Cache is the on-disk response cache: one JSON file per key, written
// atomically so that a killed run never leaves a half-written entry.
type Cache struct {
	dir string
}

// OpenCache opens (creating) the cache directory and checks that it can be
// written, so that a read-only directory is reported before any call is paid.
func OpenCache(dir string) (*Cache, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cache dir %s: %w (set run.cache_dir to a writable directory, or run with --no-cache)", dir, err)
	}
	probe, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return nil, fmt.Errorf("cache dir %s is not writable: %w (set run.cache_dir to a writable directory, or run with --no-cache)", dir, err)
	}
	probe.Close()
	os.Remove(probe.Name())
	return &Cache{dir: dir}, nil
}

func (c *Cache) path(key string) string {
	return filepath.Join(c.dir, key[:2], key+".json")
}

// Get returns the cached response for key. A missing or unreadable entry is a
// miss: the cache only ever saves calls, it never fails a run.
func (c *Cache) Get(key string) (provider.Response, bool) {
	b, err := os.ReadFile(c.path(key))
	if err != nil {
		return provider.Response{}, false
	}
	var r provider.Response
	if err := json.Unmarshal(b, &r); err != nil || r.Text == "" {
		return provider.Response{}, false
	}
	return r, true
}

// Put stores a successful, non-empty response. Errors and empty responses are
// never cached: a retry must be able to do better.
func (c *Cache) Put(key string, r provider.Response) error {
	if r.Text == "" {
		return nil
	}
	p := c.path(key)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("cache: %w", err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("cache: %w", err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil && !errors.Is(err, fs.ErrExist) {
		os.Remove(tmp.Name())
		return fmt.Errorf("cache: %w", err)
	}
	return nil
}
