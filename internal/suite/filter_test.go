package suite

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// variants is one outputs file holding two prompt variants under the same
// call ids, as the companion repository's call-summarization outputs do.
const variants = `call_id,variant,transcript,summary,region
c1,raw,t1,s1-raw,eu
c1,optimized,t1,s1-opt,us
c2,raw,t2,s2-raw,us
c2,optimized,t2,s2-opt,eu
,raw,t3,s3-raw,apac
`

func filterSuite(t *testing.T, filter, targets string) *Suite {
	t.Helper()
	cfg := `version: 1
name: t
dataset:
  path: data.csv
  fields: {id: call_id, input: transcript}
` + filter + `targets:
` + targets + `metrics: [f1]
`
	s, err := load(writeSuite(t, cfg, map[string]string{"data.csv": variants}), testMetrics)
	require.NoError(t, err)
	return s
}

func readIDs(t *testing.T, s *Suite) ([]string, error) {
	t.Helper()
	d, err := OpenDataset(s)
	require.NoError(t, err)
	defer d.Close()
	var ids []string
	for {
		smp, err := d.Next()
		if errors.Is(err, io.EOF) {
			return ids, nil
		}
		if err != nil {
			return ids, err
		}
		ids = append(ids, smp.ID+"/"+smp.Fields["summary"])
	}
}

func TestDatasetFilter(t *testing.T) {
	t.Parallel()
	one := "  - {id: a, provider: recorded, model: m}\n"
	tests := []struct {
		name, filter string
		want         []string
	}{
		{"equals", "  filter: [{column: variant, equals: raw}]\n", []string{"c1/s1-raw", "c2/s2-raw", "row-5/s3-raw"}},
		{"in", "  filter: [{column: region, in: [eu, apac]}]\n", []string{"c1/s1-raw", "c2/s2-opt", "row-5/s3-raw"}},
		{"regex", "  filter: [{column: summary, regex: '-opt$'}]\n", []string{"c1/s1-opt", "c2/s2-opt"}},
		{"all conditions hold", "  filter:\n    - {column: variant, equals: optimized}\n    - {column: region, in: [us]}\n", []string{"c1/s1-opt"}},
		{"equals the empty cell", "  filter: [{column: call_id, equals: ''}]\n", []string{"row-5/s3-raw"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ids, err := readIDs(t, filterSuite(t, tc.filter, one))
			require.NoError(t, err)
			// row-N counts the file's rows, kept or not: the id of an
			// unnamed row does not move when the filter changes.
			assert.Equal(t, tc.want, ids)
		})
	}
}

func TestDatasetFilterLimitCountsKeptRows(t *testing.T) {
	t.Parallel()
	s := filterSuite(t, "  limit: 2\n  filter: [{column: variant, equals: raw}]\n", "  - {id: a, provider: recorded, model: m}\n")
	ids, err := readIDs(t, s)
	require.NoError(t, err)
	assert.Equal(t, []string{"c1/s1-raw", "c2/s2-raw"}, ids)
}

func TestDatasetFilterMatchesNothing(t *testing.T) {
	t.Parallel()
	s := filterSuite(t, "  filter: [{column: variant, equals: Raw}]\n", "  - {id: a, provider: recorded, model: m}\n")
	_, err := readIDs(t, s)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `no row of 5 matches dataset.filter (variant = "Raw"); check the column names and values`)
}

func TestFilterErrors(t *testing.T) {
	t.Parallel()
	errs := loadErrors(t, `version: 1
name: t
dataset:
  path: data.jsonl
  filter:
    - {column: variant, equals: raw, in: [a]}
    - {equals: raw}
    - {column: x, regex: '(unclosed'}
    - {column: x, in: []}
    - {column: x}
targets:
  - {id: a, provider: recorded, model: m, filter: [{column: v, regex: '[z-a]'}]}
metrics: [f1]
`, nil)
	assert.Equal(t, []string{
		"evalgate.yaml:6:7: dataset.filter[0]: give exactly one of equals, in or regex (got 2)",
		"evalgate.yaml:7:7: missing required key 'column' in dataset.filter[1]; name the dataset column the condition tests",
		"evalgate.yaml:8:26: dataset.filter[2].regex: error parsing regexp: missing closing ): `(unclosed`; write a Go (RE2) regular expression",
		"evalgate.yaml:9:23: dataset.filter[3].in: list at least one value",
		"evalgate.yaml:10:7: dataset.filter[4]: give exactly one of equals, in or regex (got 0)",
		"evalgate.yaml:12:71: targets[0].filter[0].regex: error parsing regexp: invalid character class range: `z-a`; write a Go (RE2) regular expression",
	}, errs)
}

// TestTargetFiltersPairOneFile: two recorded systems in one file under the
// same ids; each target sees its own rows, so the ids repeat in the file but
// not for any target.
func TestTargetFiltersPairOneFile(t *testing.T) {
	t.Parallel()
	targets := `  - {id: raw, provider: recorded, model: m, fields: {output: summary}, filter: [{column: variant, equals: raw}]}
  - {id: opt, provider: recorded, model: m, fields: {output: summary}, filter: [{column: variant, equals: optimized}]}
`
	s := filterSuite(t, "", targets)
	r, err := Validate(context.Background(), s)
	require.NoError(t, err)
	for _, f := range r.Findings {
		assert.NotEqual(t, "duplicate_id", f.Code, "each target sees each id once: %+v", f)
	}
	assert.True(t, s.TargetFilter("raw").Match(map[string]string{"variant": "raw"}))
	assert.False(t, s.TargetFilter("raw").Match(map[string]string{"variant": "optimized"}))

	// A target without a filter sees every row: there the ids repeat.
	s = filterSuite(t, "", targets+"  - {id: all, provider: recorded, model: m, fields: {output: summary}}\n")
	ids, err := NewIDCheck(s, []*TargetConfig{&s.Config.Targets[0], &s.Config.Targets[2]})
	require.NoError(t, err)
	var got []string
	d, err := OpenDataset(s)
	require.NoError(t, err)
	defer d.Close()
	for {
		smp, err := d.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		for _, rep := range ids.Add(smp) {
			got = append(got, strings.TrimSpace(smp.ID+" "+rep.Where()))
		}
	}
	assert.Equal(t, []string{"c1", "c2"}, got)
}

func TestFilterChangesHash(t *testing.T) {
	t.Parallel()
	one := "  - {id: a, provider: recorded, model: m}\n"
	a := filterSuite(t, "", one)
	b := filterSuite(t, "  filter: [{column: variant, equals: raw}]\n", one)
	c := filterSuite(t, "  filter: [{column: variant, equals: optimized}]\n", one)
	assert.NotEqual(t, suiteHash(t, a), suiteHash(t, b), "runs over other rows must not pair")
	assert.NotEqual(t, suiteHash(t, b), suiteHash(t, c))
}

func TestOptimizeTargetMayNotHaveAFilter(t *testing.T) {
	t.Parallel()
	errs := loadErrors(t, `version: 1
name: t
dataset: {path: data.jsonl}
prompts: {p: {user: "{{question}}"}}
targets:
  - {id: a, provider: bedrock, model: m, prompt: p, filter: [{column: v, equals: x}]}
metrics: [f1]
optimize: {target: a}
`, nil)
	assert.Contains(t, errs, "evalgate.yaml:8:20: optimize: target 'a' has a filter, which optimize does not apply; move its conditions to dataset.filter")
}
