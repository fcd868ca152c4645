package suite

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var defaultRoles = map[string]string{
	RoleID: FieldID, RoleInput: FieldQuestion, RoleReference: FieldReference, RoleContext: FieldContext,
}

// readAll opens body as a dataset of the given format and reads it to the end
// or the first error.
func readAll(t *testing.T, format, body string, roles map[string]string, maxRecord int) ([]Sample, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "data."+format)
	require.NoError(t, os.WriteFile(path, []byte(body), 0o644))
	if roles == nil {
		roles = defaultRoles
	}
	if maxRecord == 0 {
		maxRecord = MaxRecordBytes
	}
	d, err := openDataset(path, format, roles, 0, maxRecord)
	if err != nil {
		return nil, relErr(err, path)
	}
	defer d.Close()
	var out []Sample
	for {
		s, err := d.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			// A failed reader keeps failing: no hang, no half-read row.
			_, again := d.Next()
			require.Equal(t, err, again)
			return out, relErr(err, path)
		}
		out = append(out, s)
	}
}

// relErr replaces the temporary path in err with the file's base name.
func relErr(err error, path string) error {
	return errors.New(strings.ReplaceAll(err.Error(), path, filepath.Base(path)))
}

func TestJSONL(t *testing.T) {
	t.Parallel()
	body := `{"sample_id": "a", "question": "Q1", "answer_ground_truth": "R1", "n": 1.50, "big": 12345678901234567890, "ok": true, "none": null, "tags": ["x", "y"], "meta": {"k": [1, 2]}}` + "\r\n" +
		"\n" +
		`   {"question": "Q2", "context": "C\u00e9\n2"}` + "\n" +
		`{"sample_id": "c", "question": "Q3"}` // no final newline
	samples, err := readAll(t, "jsonl", body, nil, 0)
	require.NoError(t, err)
	require.Len(t, samples, 3)

	a := samples[0]
	assert.Equal(t, "a", a.ID)
	assert.Equal(t, 1, a.Line)
	assert.Equal(t, "Q1", a.Input)
	assert.Equal(t, "R1", a.Reference)
	assert.Equal(t, "1.50", a.Fields["n"], "numbers keep their JSON text")
	assert.Equal(t, "12345678901234567890", a.Fields["big"], "no float rounding")
	assert.Equal(t, "true", a.Fields["ok"])
	assert.Equal(t, "", a.Fields["none"])
	assert.Contains(t, a.Fields, "none")
	assert.Equal(t, `["x","y"]`, a.Fields["tags"])
	assert.Equal(t, `{"k":[1,2]}`, a.Fields["meta"])

	assert.Equal(t, "row-2", samples[1].ID, "rows without an id get one from their row number")
	assert.Equal(t, 3, samples[1].Line, "blank lines count as physical lines")
	assert.Equal(t, "Cé\n2", samples[1].Fields["context"])
	assert.Equal(t, "c", samples[2].ID)
	assert.Equal(t, 4, samples[2].Line)
}

func TestCSV(t *testing.T) {
	t.Parallel()
	body := "\xef\xbb\xbfsample_id,question,answer_ground_truth, context \r\n" +
		"1,\"Multi\r\nline, with \"\"quotes\"\"\",R1,C1\r\n" +
		"\r\n" +
		"2,Q2,,C2\r\n" +
		",Q3,R3,\r\n"
	samples, err := readAll(t, "csv", body, nil, 0)
	require.NoError(t, err)
	require.Len(t, samples, 3)
	assert.Equal(t, Sample{ID: "1", Line: 2, Input: "Multi\nline, with \"quotes\"", Reference: "R1",
		Fields: map[string]string{"sample_id": "1", "question": "Multi\nline, with \"quotes\"", "answer_ground_truth": "R1", "context": "C1"}}, samples[0])
	assert.Equal(t, 5, samples[1].Line, "a record spanning lines moves the next line number on; blank lines count")
	assert.Equal(t, "", samples[1].Reference)
	assert.Equal(t, "row-3", samples[2].ID)
	assert.Equal(t, 6, samples[2].Line)
}

func TestCSVWithoutIDColumn(t *testing.T) {
	t.Parallel()
	samples, err := readAll(t, "csv", "question\nQ1\nQ2\n", nil, 0)
	require.NoError(t, err)
	require.Len(t, samples, 2)
	assert.Equal(t, []string{"row-1", "row-2"}, []string{samples[0].ID, samples[1].ID})
}

func TestFieldMapping(t *testing.T) {
	t.Parallel()
	roles := map[string]string{RoleID: "qid", RoleInput: "prompt", RoleReference: "gold", RoleCluster: "doc"}
	samples, err := readAll(t, "jsonl", `{"qid": "x", "prompt": "p", "gold": "g", "doc": "d1", "sample_id": "ignored"}`+"\n", roles, 0)
	require.NoError(t, err)
	require.Len(t, samples, 1)
	s := samples[0]
	assert.Equal(t, []string{"x", "p", "g", "d1"}, []string{s.ID, s.Input, s.Reference, s.Cluster})
}

func TestDatasetErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, format, body string
		maxRecord          int
		wantRows           int
		want               string
	}{
		{"empty jsonl", "jsonl", "", 0, 0, "dataset data.jsonl: no samples; add at least one row"},
		{"blank jsonl", "jsonl", "\n\n  \n", 0, 0, "dataset data.jsonl: no samples; add at least one row"},
		{"empty csv", "csv", "", 0, 0, "dataset data.csv: no samples; the first row must name the columns"},
		{"header only", "csv", "sample_id,question\r\n", 0, 0, "dataset data.csv: no samples; add at least one row"},
		{"array line", "jsonl", `{"a": "1"}` + "\n" + `["a", "b"]` + "\n", 0, 1, `dataset data.jsonl line 2: not a JSON object (starts with "[\"a\", \"b\"]"); each line must be one object`},
		{"string line", "jsonl", `"just text"`, 0, 0, "dataset data.jsonl line 1: not a JSON object"},
		{"broken json", "jsonl", `{"a": "1"}` + "\n\n" + `{"a": }` + "\n", 0, 1, "dataset data.jsonl line 3: invalid JSON: invalid character '}'"},
		{"NUL bytes", "jsonl", "{\"a\": \"1\"}\n{\"a\x00\": 1}\n", 0, 0, "dataset data.jsonl line 2: the file looks binary or UTF-16 (a NUL byte at offset 14)"},
		{"UTF-16", "csv", "\xff\xfeq\x00,\x00", 0, 0, "dataset data.csv line 1: the file looks binary or UTF-16"},
		{"latin-1", "csv", "question\nna\xefve\n", 0, 0, "dataset data.csv line 2: the file is not UTF-8 text (invalid byte 0xef at offset 11); save it as UTF-8"},
		{"field count", "csv", "sample_id,question\n1,a\n2,b,c\n", 0, 1, "dataset data.csv line 3: the row has a different number of fields than the header's 2; quote fields that contain commas"},
		{"bare quote", "csv", "sample_id,question\n1,say \"hi\"\n", 0, 0, `dataset data.csv line 2: bare " in non-quoted-field (line 2 column 7); quote the whole field`},
		{"unclosed quote", "csv", "sample_id,question\n1,ok\n2,\"never\nclosed\n", 0, 1, `dataset data.csv line 3: extraneous or missing " in quoted-field`},
		{"duplicate column", "csv", "sample_id,question,question\n1,a,b\n", 0, 0, `dataset data.csv line 1: columns 2 and 3 of the header row are both named "question"; rename one`},
		{"unnamed column", "csv", "sample_id,,question\n1,a,b\n", 0, 0, "dataset data.csv line 1: column 2 of the header row has no name"},
		{"long jsonl line", "jsonl", `{"a": "1"}` + "\n" + `{"a": "` + strings.Repeat("x", 5000) + `"}` + "\n" + `{"a": "3"}`, 1024, 1, "dataset data.jsonl line 2: the line is longer than 1024 bytes, evalgate's limit for one sample; shorten it"},
		{"runaway quoted field", "csv", "sample_id,question\n1,ok\n2,\"" + strings.Repeat("x\n", 20000), 1024, 1, "dataset data.csv line 3: the record is longer than 1024 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rows, err := readAll(t, tt.format, tt.body, nil, tt.maxRecord)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Len(t, rows, tt.wantRows)
		})
	}
}

func TestDatasetLimit(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "d.jsonl")
	require.NoError(t, os.WriteFile(path, []byte("{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n"), 0o644))
	d, err := openDataset(path, "jsonl", defaultRoles, 2, MaxRecordBytes)
	require.NoError(t, err)
	defer d.Close()
	for range 2 {
		_, err := d.Next()
		require.NoError(t, err)
	}
	_, err = d.Next()
	assert.ErrorIs(t, err, io.EOF)
}

func TestOpenDatasetFromSuite(t *testing.T) {
	t.Parallel()
	s, err := load("testdata/examples/minimal.yaml", testMetrics)
	require.NoError(t, err)
	d, err := OpenDataset(s)
	require.NoError(t, err)
	defer d.Close()
	first, err := d.Next()
	require.NoError(t, err)
	assert.Equal(t, "q1", first.ID, "the UTF-8 byte order mark is not part of the first column's name")
	assert.Equal(t, "Refunds are possible\nwithin 30 days, \"no questions asked\".", first.Fields["context"])
}

// TestFiftyMegabyteLine reads a 50 MB line: under the limit, it is read, not
// rejected, and does not hang.
func TestFiftyMegabyteLine(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 50 MB file")
	}
	t.Parallel()
	path := filepath.Join(t.TempDir(), "big.jsonl")
	f, err := os.Create(path)
	require.NoError(t, err)
	w := bufio.NewWriter(f)
	fmt.Fprint(w, `{"sample_id": "big", "context": "`)
	chunk := strings.Repeat("abcdefghij", 1000)
	for range 50 << 20 / len(chunk) {
		w.WriteString(chunk)
	}
	fmt.Fprint(w, "\"}\n{\"sample_id\": \"next\"}\n")
	require.NoError(t, w.Flush())
	require.NoError(t, f.Close())

	d, err := openDataset(path, "jsonl", defaultRoles, 0, MaxRecordBytes)
	require.NoError(t, err)
	defer d.Close()
	s, err := d.Next()
	require.NoError(t, err)
	assert.Equal(t, "big", s.ID)
	assert.Greater(t, len(s.Fields["context"]), 50<<20-len(chunk))
	s, err = d.Next()
	require.NoError(t, err)
	assert.Equal(t, "next", s.ID)
	assert.Equal(t, 2, s.Line)
}

// BenchmarkDatasetStream reads a generated 100,000-row dataset. Its bytes/op
// stay a small multiple of one row per row read (see -benchmem): the reader
// never holds the file.
func BenchmarkDatasetStream(b *testing.B) {
	for _, format := range []string{"jsonl", "csv"} {
		b.Run(format, func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "big."+format)
			f, err := os.Create(path)
			require.NoError(b, err)
			w := bufio.NewWriter(f)
			const rows = 100_000
			if format == "csv" {
				fmt.Fprintln(w, "sample_id,question,answer_ground_truth,context")
			}
			for i := range rows {
				if format == "csv" {
					fmt.Fprintf(w, "s%d,\"What is %d?\",%d,\"Some context, with a comma\"\n", i, i, i)
				} else {
					fmt.Fprintf(w, `{"sample_id": "s%d", "question": "What is %d?", "answer_ground_truth": "%d", "context": "Some context"}`+"\n", i, i, i)
				}
			}
			require.NoError(b, w.Flush())
			require.NoError(b, f.Close())
			b.ResetTimer()
			for b.Loop() {
				d, err := openDataset(path, format, defaultRoles, 0, MaxRecordBytes)
				require.NoError(b, err)
				n := 0
				for {
					_, err := d.Next()
					if errors.Is(err, io.EOF) {
						break
					}
					require.NoError(b, err)
					n++
				}
				d.Close()
				require.Equal(b, rows, n)
			}
		})
	}
}

func TestSniffCharacterAcrossPeek(t *testing.T) {
	t.Parallel()
	// "é" starts at byte 1023: the binary check sees half of it.
	body := "question\n" + strings.Repeat("a", sniffBytes-1-len("question\n")) + "é\n"
	samples, err := readAll(t, "csv", body, nil, 0)
	require.NoError(t, err)
	require.Len(t, samples, 1)
	assert.True(t, strings.HasSuffix(samples[0].Input, "é"))
}
