package results

import (
	"crypto/sha256"
	"encoding/binary"
	"strconv"
)

// Sequential says how a sequential run (run.sequential) used its samples: it
// called them in a random order fixed by Seed, looked at the evidence once
// the first Looks[k] samples of that order were evaluated, and stopped
// calling once every fail-severity criterion was settled. The verdict is
// taken at the last look, on the samples it used: a reader of the file (the
// gate) judges the first Samples samples of the order at the level the
// design allots to that look, not every record the file holds (calls in
// flight when the run stopped finished and were kept).
type Sequential struct {
	// Seed fixes the order: samples are called by OrderKey(Seed, id).
	Seed uint64 `json:"seed"`
	// Total is the number of samples the run set out to evaluate.
	Total int `json:"total"`
	// Planned are the sample counts of the design's looks, the last one
	// Total.
	Planned []int `json:"planned"`
	// Looks are the sample counts of the looks taken, in order; the last
	// is the look the verdict is taken at.
	Looks []int `json:"looks"`
	// Stopped is set when the run stopped at an interim look because
	// every fail-severity criterion was settled; Reason says so. Otherwise
	// the last look is the final analysis, on every record of the run.
	Stopped bool   `json:"stopped"`
	Reason  string `json:"reason,omitempty"`
	// Cutoff is the OrderKey of the last sample a stopped run used, in
	// hex: the samples used are those whose key is at most Cutoff.
	Cutoff string `json:"cutoff,omitempty"`
}

// OrderKey places a sample in a sequential run's order: samples are called by
// increasing key. It is a hash of the seed and the sample id, so the order is
// random (a dataset sorted by topic or difficulty would otherwise bias the
// early looks), the same on every run with that seed, and the same for both
// sides of a pair.
func OrderKey(seed uint64, id string) uint64 {
	h := sha256.New()
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], seed)
	h.Write(b[:])
	h.Write([]byte(id))
	return binary.BigEndian.Uint64(h.Sum(nil)[:8])
}

// FormatKey writes an OrderKey as Cutoff holds it.
func FormatKey(k uint64) string { return strconv.FormatUint(k, 16) }

// Uses reports whether the verdict counts the sample with this id: every
// sample of a run that was not stopped, else those up to the cutoff.
func (s *Sequential) Uses(id string) bool {
	if s == nil || !s.Stopped || s.Cutoff == "" {
		return true
	}
	cut, err := strconv.ParseUint(s.Cutoff, 16, 64)
	if err != nil {
		// An edited cutoff cannot say which samples were used: count none,
		// so the verdict is incomplete rather than judged on the wrong set.
		return false
	}
	return OrderKey(s.Seed, id) <= cut
}
