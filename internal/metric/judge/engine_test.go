package judge_test

import (
	"context"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/metric"
	"github.com/evalgate/evalgate/internal/metric/judge"
	"github.com/evalgate/evalgate/internal/pricing"
	"github.com/evalgate/evalgate/internal/provider"
	"github.com/evalgate/evalgate/internal/results"
	"github.com/evalgate/evalgate/internal/run"
	"github.com/evalgate/evalgate/internal/suite"
)

type samples struct{ list []suite.Sample }

func (s *samples) Next() (suite.Sample, error) {
	if len(s.list) == 0 {
		return suite.Sample{}, io.EOF
	}
	x := s.list[0]
	s.list = s.list[1:]
	return x, nil
}

type recordSink struct {
	mu   sync.Mutex
	recs map[string]results.Record
}

func (w *recordSink) Write(r results.Record) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.recs[r.SampleID] = r
	return nil
}

// echoTarget answers with the sample's input, reversed in meaning by nothing.
type echoTarget struct{}

func (echoTarget) Complete(_ context.Context, req provider.Request) (provider.Response, error) {
	return provider.Response{Text: "answer to " + req.Messages[0].Content, Usage: provider.Usage{InputTokens: 10, OutputTokens: 5}}, nil
}

// byAnswerJudge grades by the answer: a good verdict for "answer to good",
// an out-of-range one for anything else.
type byAnswerJudge struct{}

func (byAnswerJudge) Complete(_ context.Context, req provider.Request) (provider.Response, error) {
	text := `{"reasoning": "out of range", "score": 42}`
	if strings.Contains(req.Messages[0].Content, "<answer>\nanswer to good\n</answer>") {
		text = "```json\n{\"reasoning\": \"Right.\", \"score\": 9}\n```"
	}
	return provider.Response{Text: text, Usage: provider.Usage{InputTokens: 1000, OutputTokens: 100}}, nil
}

func TestJudgeInsideTheEngine(t *testing.T) {
	t.Parallel()
	caller := run.NewCaller(run.Options{Concurrency: 2})
	c := caller.Completer(run.Target{
		Info:     results.TargetInfo{ID: "judge:quality", Provider: "fake", Model: "judge-model"},
		Provider: byAnswerJudge{},
		Price:    &pricing.Price{InputPerMTok: 3, OutputPerMTok: 15},
	}, 1)
	m, err := judge.New(metric.Spec{Name: "quality", Type: "rubric", Options: map[string]any{
		"rubric": "Is it right?", "judge": map[string]any{"provider": "bedrock", "model": "judge-model"},
	}}, c, nil)
	require.NoError(t, err)
	target := run.Target{
		Info:     results.TargetInfo{ID: "t", Provider: "fake", Model: "m"},
		Provider: echoTarget{},
		Render:   func(f map[string]string) (string, string, error) { return "", f["question"], nil },
	}
	sink := &recordSink{recs: map[string]results.Record{}}
	sum, err := run.New([]run.Target{target}, []metric.Metric{m}, run.Options{Caller: caller}).Run(t.Context(),
		&samples{list: []suite.Sample{
			{ID: "s1", Fields: map[string]string{"question": "good"}},
			{ID: "s2", Fields: map[string]string{"question": "bad"}},
		}}, sink)
	require.NoError(t, err)

	good := sink.recs["s1"]
	assert.InDelta(t, 8.0/9, good.Scores["quality"], 1e-9)
	assert.Equal(t, 9.0, good.Raw["quality"])
	assert.Equal(t, "Right.", good.Details["quality"])
	require.NotNil(t, good.JudgeUsage)
	assert.Equal(t, provider.Usage{InputTokens: 1000, OutputTokens: 100}, *good.JudgeUsage)
	assert.InDelta(t, 0.0045, *good.JudgeCostUSD, 1e-12)
	assert.Equal(t, provider.Usage{InputTokens: 10, OutputTokens: 5}, good.Usage, "the target's usage is its own")

	bad := sink.recs["s2"]
	assert.NotContains(t, bad.Scores, "quality", "a judge error is never a zero")
	assert.Contains(t, bad.ScoreErrors["quality"], "score 42 is outside the scale 1 to 10")
	assert.Contains(t, bad.ScoreErrors["quality"], "judge reply unusable twice")

	// What the failed judging cost is in the Score returned with the error
	// (see TestJudgeErrorsAreErrorsNeverZero) and in the Caller's spending;
	// the record itself carries the judge usage of successful scores only.
	assert.InDelta(t, 3*0.0045, caller.Spent(), 1e-12, "every judge call counts against the budget")
	require.Len(t, sum.Targets, 1)
	require.NotNil(t, sum.Targets[0].JudgeCostUSD)
	assert.GreaterOrEqual(t, sum.Targets[0].JudgeUsage.InputTokens, 1000)
}
