package cli

import (
	"context"
	"sync"

	"github.com/evalgate/evalgate/internal/provider/bedrock"
	"github.com/evalgate/evalgate/internal/provider/openai"
	"github.com/evalgate/evalgate/internal/run"
	"github.com/evalgate/evalgate/internal/suite"
	"github.com/evalgate/evalgate/internal/throttle"
)

// newLiveProvider builds a provider that calls a hosted model.
func newLiveProvider(ctx context.Context, e *Env, tc *suite.TargetConfig) (run.Provider, error) {
	switch tc.Provider {
	case suite.ProviderBedrock:
		// Credentials and region come from the AWS SDK's default chain (env,
		// profile, web identity), so OIDC in GitHub Actions works unchanged.
		c, err := bedrock.New(ctx, bedrock.Options{Region: tc.Region, Endpoint: tc.Endpoint})
		if err != nil {
			return nil, providerErr(err)
		}
		return c, nil
	case suite.ProviderOpenAI:
		c, err := openai.New(openai.Options{BaseURL: tc.BaseURL, APIKeyEnv: tc.APIKeyEnv, Getenv: e.Getenv})
		if err != nil {
			return nil, usageErr(err)
		}
		return c, nil
	}
	return nil, usagef("target %q: unknown provider %q", tc.ID, tc.Provider)
}

// limiters hands out one adaptive limiter per provider, endpoint and model,
// so that targets (and judges) calling the same model share its quota. The
// first target naming a model sets its rate limits.
type limiters struct {
	mu          sync.Mutex
	concurrency int
	m           map[throttle.Key]*throttle.Limiter
}

func newLimiters(concurrency int) *limiters {
	return &limiters{concurrency: concurrency, m: map[throttle.Key]*throttle.Limiter{}}
}

// forTarget returns the limiter of a live target, nil for local providers
// (recorded, command, cassettes), which have no quota to respect.
func (l *limiters) forTarget(tc *suite.TargetConfig, replay bool) run.Limiter {
	if replay || (tc.Provider != suite.ProviderBedrock && tc.Provider != suite.ProviderOpenAI) {
		return nil
	}
	k := throttle.Key{Provider: tc.Provider + "/" + tc.Region + tc.Endpoint + tc.BaseURL, Model: tc.Model}
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.m[k]
	if !ok {
		rpm, tpm := 0, 0
		if tc.RateLimit != nil {
			rpm, tpm = tc.RateLimit.RPM, tc.RateLimit.TPM
		}
		lim = throttle.New(rpm, tpm, l.concurrency)
		l.m[k] = lim
	}
	return lim
}
