package optimize

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/evalgate/evalgate/internal/suite"
)

// Unit is what the split needs of a sample: its id and its cluster.
type Unit struct {
	ID      string
	Cluster string
}

// Split divides samples into a dev part (a fraction frac of them) and a
// held-out part. It is stratified by cluster: each cluster gives the same
// share of its samples to dev, so that neither part is missing a kind of
// question. Within a cluster, samples are ordered by a hash of the seed and
// their id, so the split depends only on (seed, ids, clusters): the same on
// every run and machine, whatever the file order.
func Split(units []Unit, frac float64, seed int64) (dev, heldOut map[string]bool, err error) {
	if frac <= 0 || frac >= 1 {
		return nil, nil, fmt.Errorf("split %g: the dev fraction must be between 0 and 1", frac)
	}
	if len(units) < 2 {
		return nil, nil, fmt.Errorf("split: %d sample(s); a dev and a held-out part need at least 2", len(units))
	}
	strata := map[string][]string{}
	for _, u := range units {
		strata[u.Cluster] = append(strata[u.Cluster], u.ID)
	}
	dev, heldOut = map[string]bool{}, map[string]bool{}
	// Rounding each stratum alone can leave one part short when clusters are
	// small; carrying the remainder keeps the total at frac of all samples.
	carry := 0.0
	for _, c := range slices.Sorted(maps.Keys(strata)) {
		ids := strata[c]
		slices.SortFunc(ids, func(a, b string) int { return cmp.Or(cmp.Compare(rank(seed, a), rank(seed, b)), cmp.Compare(a, b)) })
		want := frac*float64(len(ids)) + carry
		n := int(math.Round(want))
		carry = want - float64(n)
		for i, id := range ids {
			if i < n {
				dev[id] = true
			} else {
				heldOut[id] = true
			}
		}
	}
	if len(dev) == 0 || len(heldOut) == 0 {
		return nil, nil, fmt.Errorf("split %g of %d samples leaves a part empty; use a fraction nearer 0.5 or more samples", frac, len(units))
	}
	return dev, heldOut, nil
}

func rank(seed int64, id string) uint64 {
	h := sha256.New()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(seed))
	h.Write(b[:])
	h.Write([]byte(id))
	return binary.LittleEndian.Uint64(h.Sum(nil)[:8])
}

// Samples yields samples one at a time; io.EOF ends it (a *suite.DatasetReader).
type Samples interface {
	Next() (suite.Sample, error)
}

// Only passes on the samples of r whose ids are in ids, and no other: what
// a phase's engine reads, so that the dev phase cannot see a held-out sample.
func Only(r Samples, ids map[string]bool) Samples { return only{r, ids} }

type only struct {
	r   Samples
	ids map[string]bool
}

func (o only) Next() (suite.Sample, error) {
	for {
		s, err := o.r.Next()
		if err != nil || o.ids[s.ID] {
			return s, err
		}
	}
}
