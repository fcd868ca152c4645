// Package shard splits a suite's dataset across runners and joins their
// results: `evalgate run --shard i/N` evaluates the samples whose id hashes to
// shard i, and Merge joins the N results files into one that the gate reads
// like any other.
package shard

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	"github.com/evalgate/evalgate/internal/results"
	"github.com/evalgate/evalgate/internal/suite"
)

// MaxCount bounds N: GitHub Actions runs at most 256 jobs of one matrix, and
// more shards than that only multiply the per-runner start-up cost.
const MaxCount = 256

// Parse reads "i/N" (1 <= i <= N <= MaxCount).
func Parse(s string) (results.Shard, error) {
	idx, count, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return results.Shard{}, fmt.Errorf("%q: write the shard as i/N, e.g. 2/4 for the second of four", s)
	}
	i, err1 := strconv.Atoi(idx)
	n, err2 := strconv.Atoi(count)
	if err1 != nil || err2 != nil {
		return results.Shard{}, fmt.Errorf("%q: i and N must be whole numbers, as in 2/4", s)
	}
	if n < 1 || n > MaxCount {
		return results.Shard{}, fmt.Errorf("%q: N must be between 1 and %d", s, MaxCount)
	}
	if i < 1 || i > n {
		return results.Shard{}, fmt.Errorf("%q: i must be between 1 and %d (shards count from 1)", s, n)
	}
	return results.Shard{Index: i, Count: n}, nil
}

// Of returns the shard (1 to count) that holds the sample with this id. It
// depends on the id alone, never on the dataset's order, so a sample stays
// in its shard when rows are added, removed or reordered.
func Of(id string, count int) int {
	h := sha256.Sum256([]byte(id))
	return int(binary.BigEndian.Uint64(h[:8])%uint64(count)) + 1
}

// Holds reports whether shard sh holds the sample with this id.
func Holds(sh results.Shard, id string) bool { return Of(id, sh.Count) == sh.Index }

// Samples yields only the samples of one shard.
type Samples struct {
	Shard results.Shard
	From  interface {
		Next() (suite.Sample, error)
	}
}

// Next returns the next sample of the shard; the source's io.EOF and errors
// pass through.
func (s Samples) Next() (suite.Sample, error) {
	for {
		smp, err := s.From.Next()
		if err != nil || Holds(s.Shard, smp.ID) {
			return smp, err
		}
	}
}

// String is "i/N", as --shard takes it.
func String(sh results.Shard) string { return fmt.Sprintf("%d/%d", sh.Index, sh.Count) }
