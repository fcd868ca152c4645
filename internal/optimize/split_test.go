package optimize

import (
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/suite"
)

func units(n int, clusters ...string) []Unit {
	var out []Unit
	for i := range n {
		c := ""
		if len(clusters) > 0 {
			c = clusters[i%len(clusters)]
		}
		out = append(out, Unit{ID: fmt.Sprintf("s%03d", i), Cluster: c})
	}
	return out
}

func TestSplitIsStableAcrossRunsAndFileOrder(t *testing.T) {
	t.Parallel()
	u := units(40, "a", "b", "c")
	dev1, held1, err := Split(u, 0.5, 7)
	require.NoError(t, err)
	shuffled := append([]Unit(nil), u...)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	dev2, held2, err := Split(shuffled, 0.5, 7)
	require.NoError(t, err)
	assert.Equal(t, dev1, dev2)
	assert.Equal(t, held1, held2)
	assert.Len(t, dev1, 20)
	assert.Len(t, held1, 20)
	for id := range dev1 {
		assert.False(t, held1[id], "%s is in both parts", id)
	}

	dev3, _, err := Split(u, 0.5, 8)
	require.NoError(t, err)
	assert.NotEqual(t, dev1, dev3, "another seed gives another split")
}

func TestSplitStratifiesByCluster(t *testing.T) {
	t.Parallel()
	u := append(units(30, "big"), units(0)...)
	for i := range 10 {
		u = append(u, Unit{ID: fmt.Sprintf("x%02d", i), Cluster: "small"})
	}
	dev, _, err := Split(u, 0.3, 1)
	require.NoError(t, err)
	perCluster := map[string]int{}
	for _, x := range u {
		if dev[x.ID] {
			perCluster[x.Cluster]++
		}
	}
	assert.Equal(t, map[string]int{"big": 9, "small": 3}, perCluster)
}

func TestSplitRejectsDegenerateInput(t *testing.T) {
	t.Parallel()
	_, _, err := Split(units(10), 1, 1)
	assert.ErrorContains(t, err, "between 0 and 1")
	_, _, err = Split(units(1), 0.5, 1)
	assert.ErrorContains(t, err, "at least 2")
	_, _, err = Split(units(3), 0.05, 1)
	assert.ErrorContains(t, err, "leaves a part empty")
}

type listSamples struct{ s []suite.Sample }

func (l *listSamples) Next() (suite.Sample, error) {
	if len(l.s) == 0 {
		return suite.Sample{}, io.EOF
	}
	s := l.s[0]
	l.s = l.s[1:]
	return s, nil
}

func TestOnlyPassesNoOtherSample(t *testing.T) {
	t.Parallel()
	src := &listSamples{s: []suite.Sample{{ID: "a"}, {ID: "b"}, {ID: "c"}, {ID: "d"}}}
	r := Only(src, map[string]bool{"b": true, "d": true})
	var got []string
	for {
		s, err := r.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		got = append(got, s.ID)
	}
	assert.Equal(t, []string{"b", "d"}, got)
}
