package suite

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func viewSuite(t *testing.T, target string, files map[string]string) (*Suite, error) {
	t.Helper()
	if files == nil {
		files = map[string]string{}
	}
	files["data.jsonl"] = `{"sample_id": "1", "question": "q1", "alignment": "0.1"}
{"sample_id": "2", "question": "q2", "alignment": "0.2"}
`
	return load(writeSuite(t, "version: 1\nname: t\ndataset: {path: data.jsonl}\ntargets:\n"+target+"metrics: [f1]\n", files), testMetrics)
}

func TestTargetViewOwnDatasetPairedByKey(t *testing.T) {
	t.Parallel()
	s, err := viewSuite(t, "  - {id: b, provider: recorded, model: m, dataset: {path: b.csv, key: call}, fields: {output: summary}}\n",
		map[string]string{"b.csv": "call,summary,alignment\n2,the second,0.9\n"})
	require.NoError(t, err)
	v, err := s.TargetView(&s.Config.Targets[0])
	require.NoError(t, err)
	one := Sample{ID: "1", Fields: map[string]string{"sample_id": "1", "alignment": "0.1"}}
	two := Sample{ID: "2", Fields: map[string]string{"sample_id": "2", "alignment": "0.2", "question": "q2"}}
	assert.False(t, v.Sees(one), "its file has no row for sample 1")
	require.True(t, v.Sees(two))
	f := v.Fields(two)
	assert.Equal(t, "the second", f["summary"])
	assert.Equal(t, "0.9", f["alignment"], "its own score, not the dataset's")
	assert.Equal(t, "q2", f["question"], "the dataset's columns are still there")
	assert.Equal(t, "0.2", two.Fields["alignment"], "the sample itself is not changed")
}

func TestTargetViewColumnsCreditAMergedFile(t *testing.T) {
	t.Parallel()
	s, err := viewSuite(t, "  - {id: b, provider: recorded, model: m, columns: {alignment: alignment_tgt}}\n", nil)
	require.NoError(t, err)
	v, err := s.TargetView(&s.Config.Targets[0])
	require.NoError(t, err)
	f := v.Fields(Sample{ID: "1", Fields: map[string]string{"alignment": "0.1", "alignment_tgt": "0.7"}})
	assert.Equal(t, "0.7", f["alignment"])
	f = v.Fields(Sample{ID: "1", Fields: map[string]string{"alignment": "0.1"}})
	assert.NotContains(t, f, "alignment", "a target without the column has no score, not the source's")
}

func TestTargetViewErrors(t *testing.T) {
	t.Parallel()
	s, err := viewSuite(t, "  - {id: b, provider: recorded, model: m, dataset: {path: b.csv}}\n",
		map[string]string{"b.csv": "sample_id,answer_source_llm\n1,a\n1,b\n"})
	require.NoError(t, err)
	_, err = s.TargetView(&s.Config.Targets[0])
	assert.ErrorContains(t, err, "lines 2 and 3 both have key \"1\"; keep one row per sample")

	s, err = viewSuite(t, "  - {id: b, provider: recorded, model: m, dataset: {path: b.csv}}\n",
		map[string]string{"b.csv": "sample_id,answer_source_llm\n,a\n"})
	require.NoError(t, err)
	_, err = s.TargetView(&s.Config.Targets[0])
	assert.ErrorContains(t, err, "line 2: no key (column sample_id)")

	errs := loadErrors(t, "version: 1\nname: t\ndataset: {path: data.jsonl}\ntargets:\n  - {id: b, provider: recorded, model: m, dataset: {path: missing.csv}}\n  - {id: c, provider: recorded, model: m, dataset: {path: out.txt}}\nmetrics: [f1]\n", nil)
	require.Len(t, errs, 2)
	assert.Contains(t, errs[0], "targets[0].dataset: file")
	assert.Contains(t, errs[0], "missing.csv does not exist")
	assert.Contains(t, errs[1], "cannot tell the format of out.txt from its extension")
}
