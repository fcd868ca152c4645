package results

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/metric"
)

func writeFile(t *testing.T, recs []Record, sum *Summary) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sub", "results.jsonl")
	w, err := Create(path, Header{Suite: "s", SuiteHash: "h", Repeats: 1,
		Targets: []TargetInfo{{ID: "a", Provider: "recorded", Model: "m"}},
		Metrics: []metric.Info{{Name: "f1", Min: 0, Max: 1, Direction: metric.HigherIsBetter}}})
	require.NoError(t, err)
	for _, r := range recs {
		require.NoError(t, w.Write(r))
	}
	if sum != nil {
		require.NoError(t, w.Close(*sum))
	} else {
		require.NoError(t, w.Abort())
	}
	return path
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	cost := 0.25
	recs := []Record{
		{SampleID: "1", Target: "a", Output: "<b>@team</b> & \"quotes\"\nnew line", CostUSD: &cost, Scores: map[string]float64{"f1": 0.5}},
		{SampleID: "2", Target: "a", Error: &RecordError{Kind: "throttled", Message: "429"}},
	}
	path := writeFile(t, recs, &Summary{Status: StatusComplete, Finished: time.Unix(0, 0).UTC()})
	h, got, sum, err := ReadAll(path)
	require.NoError(t, err)
	assert.Equal(t, Format, h.Format)
	assert.Equal(t, Version, h.Version)
	assert.Equal(t, "s", h.Suite)
	require.Len(t, got, 2)
	assert.Equal(t, recs[0].Output, got[0].Output)
	assert.Equal(t, KindRecord, got[0].Kind)
	assert.Equal(t, 0.25, *got[0].CostUSD)
	assert.Nil(t, got[1].CostUSD)
	assert.Equal(t, "throttled", got[1].Error.Kind)
	require.NotNil(t, sum)
	assert.Equal(t, 2, sum.Records, "the writer counts the records it wrote")

	// Model output is stored as written, not HTML-escaped.
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Contains(t, string(raw), `<b>@team</b> & \"quotes\"`)
}

func TestTruncatedFile(t *testing.T) {
	t.Parallel()
	path := writeFile(t, []Record{{SampleID: "1", Target: "a"}}, nil)
	r, err := Open(path)
	require.NoError(t, err)
	defer r.Close()
	_, err = r.Next()
	require.NoError(t, err)
	_, err = r.Next()
	require.ErrorIs(t, err, ErrTruncated)
	assert.Nil(t, r.Summary())
}

func TestCutMidRecord(t *testing.T) {
	t.Parallel()
	path := writeFile(t, []Record{{SampleID: "1", Target: "a", Output: "a long answer"}}, &Summary{Status: StatusComplete})
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	cut := strings.Index(string(raw), "a long answer")
	require.NoError(t, os.WriteFile(path, raw[:cut], 0o644))
	_, _, _, err = ReadAll(path)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "line 2: invalid JSON")
	assert.Contains(t, err.Error(), "truncated mid-record")
}

func TestNotAResultsFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cases := map[string]string{
		"empty.jsonl":   "",
		"other.jsonl":   `{"kind":"header","format":"something.else","version":1}` + "\n",
		"garbage.jsonl": "\x00\x01binary",
		"future.jsonl":  `{"kind":"header","format":"evalgate.results","version":99}` + "\n",
	}
	want := map[string]string{
		"empty.jsonl":   "empty file",
		"other.jsonl":   "not an evalgate results file",
		"garbage.jsonl": "not an evalgate results file",
		"future.jsonl":  "format version 99, this evalgate reads version 1",
	}
	for name, body := range cases {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
		_, err := Open(p)
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), want[name], name)
	}
}

func TestLongRecordLine(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 3<<20) // longer than any bufio buffer
	path := writeFile(t, []Record{{SampleID: "1", Target: "a", Output: long}}, &Summary{Status: StatusComplete})
	r, err := Open(path)
	require.NoError(t, err)
	defer r.Close()
	rec, err := r.Next()
	require.NoError(t, err)
	assert.Len(t, rec.Output, len(long))
	_, err = r.Next()
	assert.True(t, errors.Is(err, io.EOF))
}

// Lines are read in place from the reader's buffer, and a line longer than
// the buffer is gathered in a buffer of its own that the next long line
// reuses: records around and between long ones still read whole.
func TestLongAndShortLinesInTurn(t *testing.T) {
	t.Parallel()
	outputs := []string{"short", strings.Repeat("a", 200<<10), "", strings.Repeat("b", 100<<10), "tail"}
	var recs []Record
	for i, o := range outputs {
		recs = append(recs, Record{SampleID: strings.Repeat("s", i+1), Target: "a", Output: o})
	}
	r, err := Open(writeFile(t, recs, &Summary{Status: StatusComplete}))
	require.NoError(t, err)
	defer r.Close()
	for i, o := range outputs {
		rec, err := r.Next()
		require.NoError(t, err)
		assert.Equal(t, strings.Repeat("s", i+1), rec.SampleID)
		assert.Equal(t, o, rec.Output, "record %d", i)
	}
	_, err = r.Next()
	assert.True(t, errors.Is(err, io.EOF))
	assert.Equal(t, StatusComplete, r.Summary().Status)
}

// countingDecoder reads the valid records whose sample id is "mine" itself
// and leaves the others to encoding/json.
type countingDecoder struct {
	SampleID string `json:"sample_id"`
	lines    int
}

func (c *countingDecoder) DecodeRecord(line []byte) bool {
	c.lines++
	if json.Valid(line) && strings.Contains(string(line), `"sample_id":"mine"`) {
		c.SampleID = "read by DecodeRecord"
		return true
	}
	return false
}

// A record type that decodes its own lines gets every record line first; a
// line it declines is decoded by encoding/json, which reports an invalid one.
func TestNextIntoUsesARecordDecoder(t *testing.T) {
	t.Parallel()
	path := writeFile(t, []Record{{SampleID: "mine", Target: "a"}, {SampleID: "other", Target: "a"}}, &Summary{Status: StatusComplete})
	r, err := Open(path)
	require.NoError(t, err)
	defer r.Close()
	var c countingDecoder
	require.NoError(t, r.NextInto(&c))
	assert.Equal(t, "read by DecodeRecord", c.SampleID)
	c.SampleID = ""
	require.NoError(t, r.NextInto(&c))
	assert.Equal(t, "other", c.SampleID, "declined: encoding/json read it")
	assert.Equal(t, 2, c.lines)
	assert.ErrorIs(t, r.NextInto(&c), io.EOF)

	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := strings.SplitAfter(string(raw), "\n")
	broken := lines[0] + `{"kind":"record","sample_id":"mine",` + "\n" + strings.Join(lines[2:], "")
	require.NoError(t, os.WriteFile(path, []byte(broken), 0o644))
	r, err = Open(path)
	require.NoError(t, err)
	defer r.Close()
	c = countingDecoder{}
	err = r.NextInto(&c)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "line 2: invalid JSON")
	assert.Equal(t, 1, c.lines, "offered to the decoder, which declined it")
}

func TestCountLines(t *testing.T) {
	t.Parallel()
	path := writeFile(t, []Record{{SampleID: "1", Target: "a", Output: "two\nlines"}, {SampleID: "2", Target: "a"}}, &Summary{Status: StatusComplete})
	n, err := CountLines(path)
	require.NoError(t, err)
	assert.Equal(t, 4, n, "header, two records (a newline in a string is escaped), summary")
	_, err = CountLines(filepath.Join(t.TempDir(), "missing.jsonl"))
	assert.Error(t, err)
}

// Issue 10 item 13: a file whose summary disagrees with its records, that
// goes on after its summary, or that is two files joined, is rejected with
// the line to look at.
func TestPiecedTogetherFilesAreRejected(t *testing.T) {
	t.Parallel()
	one := writeFile(t, []Record{{SampleID: "1", Target: "a"}, {SampleID: "2", Target: "a"}}, &Summary{Status: StatusComplete})
	raw, err := os.ReadFile(one)
	require.NoError(t, err)
	lines := strings.SplitAfter(strings.TrimSuffix(string(raw), "\n"), "\n")
	require.Len(t, lines, 4, "header, two records, summary")
	truncated := writeFile(t, []Record{{SampleID: "1", Target: "a"}}, nil)
	cut, err := os.ReadFile(truncated)
	require.NoError(t, err)
	tests := []struct {
		name, body, want string
	}{
		{"a record removed", lines[0] + lines[1] + lines[3], "line 3: the summary counts 2 records but the file holds 1"},
		{"a record added", lines[0] + lines[1] + lines[2] + lines[2] + lines[3], "line 5: the summary counts 2 records but the file holds 3"},
		{"a record after the summary", string(raw) + lines[1], "line 5: content after the summary line (line 4)"},
		{"two files joined", string(raw) + string(raw), "line 5: content after the summary line (line 4)"},
		{"a cut file and another joined", string(cut) + string(raw), "line 3: a second header line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := filepath.Join(t.TempDir(), "results.jsonl")
			require.NoError(t, os.WriteFile(p, []byte(tt.body), 0o644))
			_, _, _, err := ReadAll(p)
			require.Error(t, err)
			assert.Contains(t, err.Error(), p+" "+tt.want)
		})
	}
	// Blank lines after the summary are not content.
	p := filepath.Join(t.TempDir(), "results.jsonl")
	require.NoError(t, os.WriteFile(p, append(raw, "\n\n"...), 0o644))
	_, recs, sum, err := ReadAll(p)
	require.NoError(t, err)
	assert.Len(t, recs, 2)
	assert.NotNil(t, sum)
}

// Issue 10 item 6: the results appear at their path only when closed; until
// then the previous results stay readable and the records go to the locked
// partial file, which a second writer cannot take.
func TestWriterReplacesResultsOnlyWhenClosed(t *testing.T) {
	t.Parallel()
	h := Header{Suite: "s", Targets: []TargetInfo{{ID: "a"}}}
	path := filepath.Join(t.TempDir(), "results.jsonl")
	w, err := Create(path, h)
	require.NoError(t, err)
	require.NoError(t, w.Write(Record{SampleID: "old", Target: "a"}))
	require.NoError(t, w.Close(Summary{Status: StatusComplete}))
	_, err = os.Stat(PartialPath(path))
	require.ErrorIs(t, err, os.ErrNotExist, "the partial file becomes the results")

	w, err = Create(path, h)
	require.NoError(t, err)
	require.NoError(t, w.Write(Record{SampleID: "new", Target: "a"}))
	_, recs, _, err := ReadAll(path)
	require.NoError(t, err, "the previous results stay whole while the new ones are written")
	require.Len(t, recs, 1)
	assert.Equal(t, "old", recs[0].SampleID)
	partial, err := os.ReadFile(PartialPath(path))
	require.NoError(t, err)
	assert.Contains(t, string(partial), `"sample_id":"new"`, "each finished record is on disk at once")

	_, err = Create(path, h)
	require.ErrorIs(t, err, ErrInUse, "a second run on the same path fails at once")
	assert.Contains(t, err.Error(), path)
	_, err = Create(filepath.Dir(path), h)
	require.ErrorContains(t, err, "is a directory", "found before the run, not at the rename after it")

	require.NoError(t, w.Close(Summary{Status: StatusIncomplete, Reason: "cancelled"}))
	require.NoError(t, w.Close(Summary{Status: StatusComplete}), "a second Close does nothing")
	_, recs, sum, err := ReadAll(path)
	require.NoError(t, err)
	require.Len(t, recs, 1)
	assert.Equal(t, "new", recs[0].SampleID)
	assert.Equal(t, StatusIncomplete, sum.Status, "the first Close wins")

	// Once the first run is done, the path is free again; a run that
	// evaluated nothing discards its file and leaves the results alone.
	w, err = Create(path, h)
	require.NoError(t, err)
	require.NoError(t, w.Discard())
	_, recs, _, err = ReadAll(path)
	require.NoError(t, err)
	assert.Equal(t, "new", recs[0].SampleID)
	_, err = os.Stat(PartialPath(path))
	require.ErrorIs(t, err, os.ErrNotExist)
}

// Issue 10 item 8: a device or a named pipe given as a results file is
// refused at once instead of read without end or waited on.
func TestOpenRefusesFilesThatAreNotRegular(t *testing.T) {
	t.Parallel()
	pipe := filepath.Join(t.TempDir(), "results.jsonl")
	require.NoError(t, syscall.Mkfifo(pipe, 0o644))
	for _, p := range []string{pipe, "/dev/zero", t.TempDir()} {
		_, err := Open(p)
		require.ErrorContains(t, err, "results "+p+": not a regular file")
	}
}

// A partial file planted as a link is not followed: the file it points to
// is neither truncated nor written.
func TestCreateDoesNotFollowAPlantedPartialLink(t *testing.T) {
	t.Parallel()
	victim := filepath.Join(t.TempDir(), "victim")
	require.NoError(t, os.WriteFile(victim, []byte("keep me"), 0o644))
	path := filepath.Join(t.TempDir(), "results.jsonl")
	require.NoError(t, os.Symlink(victim, PartialPath(path)))
	_, err := Create(path, Header{Suite: "s"})
	require.Error(t, err)
	b, err := os.ReadFile(victim)
	require.NoError(t, err)
	assert.Equal(t, "keep me", string(b))
}
