package gate

import (
	"bytes"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/evalgate/evalgate/internal/results"
)

// The second pass finds the shown samples' lines by the sample id the writer
// puts first, written as quoted writes it (escapes and all).
func TestLeadingSampleIDIsTheWrittenOne(t *testing.T) {
	t.Parallel()
	path := tmp(t, "r.jsonl")
	ids := []string{"s1", `say "hi"`, `back\slash`, "<tag>&", "ünïcode ✓", ""}
	var recs []results.Record
	for _, id := range ids {
		recs = append(recs, results.Record{SampleID: id, Target: "a", Output: `"sample_id":"decoy"`})
	}
	writeFile(t, path, header("h", defaultInfo, "a"), recs, true)
	r, err := results.Open(path)
	if !assert.NoError(t, err) {
		return
	}
	defer r.Close()
	var got [][]byte
	r.SkipRecords(func(line []byte) bool {
		id, ok := leadingSampleID(line)
		assert.True(t, ok, "%s", line)
		got = append(got, bytes.Clone(id))
		return true
	})
	_, err = r.Next()
	assert.ErrorIs(t, err, io.EOF, "every record skipped: the summary ends the file")
	if assert.Len(t, got, len(ids)) {
		for i, id := range ids {
			assert.Equal(t, string(quoted(id)), string(got[i]), id)
		}
	}

	for _, line := range []string{
		`{"sample_id":"s1","kind":"record"}`, // not the writer's order
		`{"kind":"record","sample_id":"s1`,   // cut short
		`{"kind":"record","sample_id":"s1\"`, // cut after an escaped quote
		`{"kind":"summary","records":3}`,
	} {
		_, ok := leadingSampleID([]byte(line))
		assert.False(t, ok, line)
	}
}
