package cli

import (
	"context"

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
	reg         *throttle.Registry
	concurrency int
}

func newLimiters(concurrency int) *limiters {
	return &limiters{reg: throttle.NewRegistry(), concurrency: concurrency}
}

// forTarget returns the limiter of a live target, nil for local providers
// (recorded, command, cassettes), which have no quota to respect.
func (l *limiters) forTarget(tc *suite.TargetConfig, replay bool) run.Limiter {
	if replay || (tc.Provider != suite.ProviderBedrock && tc.Provider != suite.ProviderOpenAI) {
		return nil
	}
	rpm, tpm := 0, 0
	if tc.RateLimit != nil {
		rpm, tpm = tc.RateLimit.RPM, tc.RateLimit.TPM
	}
	k := throttle.Key{Provider: tc.Provider + "/" + tc.Region + tc.Endpoint + tc.BaseURL, Model: tc.Model}
	return l.reg.Get(k, func() *throttle.Limiter { return throttle.New(rpm, tpm, l.concurrency) })
}
