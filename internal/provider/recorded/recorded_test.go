package recorded

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/provider"
)

func sourceColumns() Columns {
	return Columns{Output: "answer_source_llm", Latency: "latency_source_llm",
		InputTokens: "input_token_source_llm", OutputTokens: "output_token_source_llm"}
}

func TestDatasetReplaysLoggedCall(t *testing.T) {
	t.Parallel()
	d, err := NewDataset(sourceColumns())
	require.NoError(t, err)
	resp, err := d.Complete(context.Background(), provider.Request{SampleID: "s1", Fields: map[string]string{
		"answer_source_llm": "Reset it from Settings.", "latency_source_llm": "1.25",
		"input_token_source_llm": "412.0", "output_token_source_llm": "37",
	}})
	require.NoError(t, err)
	assert.Equal(t, "Reset it from Settings.", resp.Text)
	assert.Equal(t, 1250*time.Millisecond, resp.Latency)
	assert.Equal(t, provider.Usage{InputTokens: 412, OutputTokens: 37}, resp.Usage)
}

func TestDatasetLatencyInMilliseconds(t *testing.T) {
	t.Parallel()
	cols := sourceColumns()
	cols.LatencyUnit = "ms"
	d, err := NewDataset(cols)
	require.NoError(t, err)
	resp, err := d.Complete(context.Background(), provider.Request{Fields: map[string]string{"answer_source_llm": "x", "latency_source_llm": "830"}})
	require.NoError(t, err)
	assert.Equal(t, 830*time.Millisecond, resp.Latency)
}

func TestDatasetBadRows(t *testing.T) {
	t.Parallel()
	d, err := NewDataset(sourceColumns())
	require.NoError(t, err)
	cases := []struct {
		name   string
		fields map[string]string
		want   string
	}{
		{"missing output", map[string]string{}, `no logged output in column "answer_source_llm"`},
		{"blank output", map[string]string{"answer_source_llm": "  "}, "no logged output"},
		{"latency not a number", map[string]string{"answer_source_llm": "a", "latency_source_llm": "fast"}, `"latency_source_llm" is "fast", not a non-negative number`},
		{"negative latency", map[string]string{"answer_source_llm": "a", "latency_source_llm": "-1"}, "not a non-negative number"},
		{"fractional tokens", map[string]string{"answer_source_llm": "a", "input_token_source_llm": "1.5"}, "not a whole number of tokens"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := d.Complete(context.Background(), provider.Request{SampleID: "s9", Fields: tc.fields})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Equal(t, provider.KindInvalidRequest, provider.KindOf(err))
		})
	}
}

func TestNewDatasetRejectsUnknownUnit(t *testing.T) {
	t.Parallel()
	_, err := NewDataset(Columns{Output: "o", LatencyUnit: "minutes"})
	require.ErrorContains(t, err, `latency_unit "minutes"`)
}

type echo struct{ calls int }

func (e *echo) Complete(_ context.Context, req provider.Request) (provider.Response, error) {
	e.calls++
	return provider.Response{Text: "answer to " + req.Messages[0].Content, Usage: provider.Usage{InputTokens: 3, OutputTokens: 4}}, nil
}

func TestCassetteRecordsThenReplays(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "c", "target.jsonl")
	inner := &echo{}
	rec, err := NewRecorder(path, inner)
	require.NoError(t, err)
	reqs := []provider.Request{
		{Model: "m", Messages: []provider.Message{{Role: provider.RoleUser, Content: "q1"}}, SampleID: "1"},
		{Model: "m", Messages: []provider.Message{{Role: provider.RoleUser, Content: "q2 <b>&</b>"}}, SampleID: "2"},
		{Model: "m", Messages: []provider.Message{{Role: provider.RoleUser, Content: "q1"}}, SampleID: "1", Repeat: 1},
	}
	for _, r := range reqs {
		_, err := rec.Complete(context.Background(), r)
		require.NoError(t, err)
	}
	require.NoError(t, rec.Close())

	c, err := OpenCassette(path)
	require.NoError(t, err)
	defer c.Close()
	assert.Equal(t, 3, c.Len())
	for _, r := range reqs {
		// Sample fields are context, not identity: replay ignores them.
		r.Fields = map[string]string{"anything": "else"}
		resp, err := c.Complete(context.Background(), r)
		require.NoError(t, err)
		assert.Equal(t, "answer to "+r.Messages[0].Content, resp.Text)
		assert.Equal(t, 4, resp.Usage.OutputTokens)
	}
	assert.Equal(t, 3, inner.calls)

	// A changed prompt misses, with an error that says what to do.
	_, err = c.Complete(context.Background(), provider.Request{Model: "m", SampleID: "1",
		Messages: []provider.Message{{Role: provider.RoleUser, Content: "q1 (reworded)"}}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no response for sample 1 repeat 0")
	assert.Contains(t, err.Error(), "evalgate run --record")
}

func TestOpenCassetteErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, err := OpenCassette(filepath.Join(dir, "missing.jsonl"))
	require.ErrorContains(t, err, "does not exist (record it with `evalgate run --record`)")

	bad := filepath.Join(dir, "bad.jsonl")
	require.NoError(t, os.WriteFile(bad, []byte("{\"key\":\"a\",\"response\":{\"text\":\"x\"}}\nnot json\n"), 0o644))
	_, err = OpenCassette(bad)
	require.ErrorContains(t, err, "bad.jsonl line 2: not a cassette entry")
}

// Issue 10, item 9: an answer that echoes a credential is redacted before it
// is written to a cassette, which is committed to the repository.
func TestRecorderRedactsAnswers(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "c.jsonl")
	rec, err := NewRecorder(path, &echo{})
	require.NoError(t, err)
	rec.Redact = func(s string) string { return strings.ReplaceAll(s, "sk-secret", "[redacted]") }
	resp, err := rec.Complete(context.Background(), provider.Request{Model: "m", Messages: []provider.Message{{Role: provider.RoleUser, Content: "sk-secret"}}})
	require.NoError(t, err)
	assert.Equal(t, "answer to [redacted]", resp.Text)
	require.NoError(t, rec.Close())
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.NotContains(t, string(b), "sk-secret")
	assert.Contains(t, string(b), "answer to [redacted]")
}
