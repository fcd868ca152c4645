package optimize

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/provider"
	"github.com/evalgate/evalgate/internal/provider/bedrock"
	"github.com/evalgate/evalgate/internal/provider/bedrock/bedrockfake"
	"github.com/evalgate/evalgate/internal/results"
	"github.com/evalgate/evalgate/internal/run"
)

// bedrockGenerator is the Bedrock generator with the real SDK client,
// through the run engine's caller, against a fake OptimizePrompt that
// throttles the first throttled calls (asking for a minute's wait) and then
// streams analysis and text. The caller waits on clk, and retries throttled
// calls for three minutes of it.
func bedrockGenerator(t *testing.T, clk *fakeClock, throttled int, analysis []string, text string) (Bedrock, *atomic.Int64) {
	t.Helper()
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		if r.URL.Path != "/prefix"+bedrockfake.OptimizePath {
			bedrockfake.WriteError(w, http.StatusNotFound, "UnknownOperationException", r.URL.Path)
			return
		}
		if n <= int64(throttled) {
			w.Header().Set("Retry-After", "60")
			bedrockfake.WriteError(w, http.StatusTooManyRequests, "ThrottlingException", "Rate exceeded")
			return
		}
		bedrockfake.StartStream(w)
		for _, ev := range bedrockfake.OptimizeEvents(analysis, text) {
			_ = bedrockfake.WriteEvent(w, ev)
		}
	}))
	t.Cleanup(srv.Close)
	opt, err := bedrock.NewOptimizer(t.Context(), bedrock.Options{
		Region: "us-west-2", Endpoint: srv.URL + "/prefix", HTTPClient: awshttp.NewBuildableClient(),
		Credentials:   credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		ConfigOptions: []func(*config.LoadOptions) error{config.WithSharedConfigFiles([]string{}), config.WithSharedCredentialsFiles([]string{})},
	})
	require.NoError(t, err)
	caller := run.NewCaller(run.Options{Retries: 2, RetryThrottledFor: 3 * time.Minute, BackoffBase: time.Nanosecond, BackoffMax: time.Nanosecond, Clock: clk})
	c := caller.Completer(run.Target{Info: results.TargetInfo{ID: "optimize-bedrock", Provider: "bedrock", Model: "amazon.nova-lite-v1:0"}, Provider: opt}, 1)
	return Bedrock{Completer: c, TargetModel: "amazon.nova-lite-v1:0"}, &calls
}

// fakeClock is the caller's clock: sleeping moves it on at once.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.slept = append(c.slept, d)
	return ctx.Err()
}

func (c *fakeClock) sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.slept)
}

func TestBedrockGeneratorRetriesThrottlingAndKeepsTheAnalysis(t *testing.T) {
	t.Parallel()
	clk := &fakeClock{}
	g, calls := bedrockGenerator(t, clk, 1, []string{"Instructions and data are mixed."}, "## Context\n{{context}}\n## Question\n{{question}}")
	src, k := questionSource(t)
	kept, dropped := Generate(t.Context(), []Generator{g}, src, provider.Params{}, k)
	require.Empty(t, dropped)
	require.Len(t, kept, 1)
	assert.Equal(t, int64(2), calls.Load(), "the throttled call was retried once")
	assert.Equal(t, []time.Duration{time.Minute}, clk.sleeps(), "after the wait the service asked for")
	assert.Equal(t, GenBedrock, kept[0].ID)
	assert.Equal(t, "## Context\n{{context}}\n## Question\n{{question}}", kept[0].User)
	assert.Equal(t, []string{"analysis: Instructions and data are mixed."}, kept[0].Notes)
}

func TestBedrockGeneratorBadResults(t *testing.T) {
	t.Parallel()
	const always = 1 << 30
	tests := []struct {
		name      string
		throttled int
		text      string
		want      string
		kind      string
	}{
		{"always throttled", always, "x", "bedrock prompt optimization for amazon.nova-lite-v1:0: still throttled after 3m0s of retries (run.retry_throttled_for): ", "throttled"},
		{"empty optimized prompt", 0, "  \n", "the prompt is empty: the service streamed no optimizedPromptEvent text", ""},
		{"placeholder dropped", 0, "Answer the question about the context.", "drops the source prompt's placeholders {{context}}, {{question}}", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clk := &fakeClock{}
			g, calls := bedrockGenerator(t, clk, tc.throttled, nil, tc.text)
			src, k := questionSource(t)
			kept, dropped := Generate(t.Context(), []Generator{g}, src, provider.Params{}, k)
			assert.Empty(t, kept)
			require.Len(t, dropped, 1)
			assert.Contains(t, dropped[0].Reason, tc.want)
			assert.Equal(t, tc.kind, dropped[0].Kind)
			if tc.throttled > 0 {
				// Retried, on the minute the service asked for, until the
				// three minutes of run.retry_throttled_for were spent, and
				// not after: run.retries counts only transient failures.
				assert.Equal(t, int64(4), calls.Load(), "a call at 0, 1, 2 and 3 minutes")
				assert.Equal(t, []time.Duration{time.Minute, time.Minute, time.Minute}, clk.sleeps())
			}
		})
	}
}
