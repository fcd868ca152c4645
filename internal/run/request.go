package run

import (
	"fmt"

	"github.com/evalgate/evalgate/internal/provider"
	"github.com/evalgate/evalgate/internal/suite"
)

// Request is the call t makes for sample s at the given repeat, exactly as
// the engine makes it: the sample's fields as t sees them, its prompt
// rendered, its params. A Bedrock batch job is built from these requests
// before the run, so that the engine's calls find the job's answers (and
// the cache the same entries) under the same keys.
func (t *Target) Request(s suite.Sample, repeat int) (provider.Request, error) {
	if t.Fields != nil {
		s.Fields = t.Fields(s)
	}
	return t.request(s, repeat)
}

// request builds the call from a sample whose fields are already t's. Its
// error is a template error naming the dataset line.
func (t *Target) request(s suite.Sample, repeat int) (provider.Request, error) {
	system, user, err := t.Render(s.Fields)
	if err != nil {
		return provider.Request{}, fmt.Errorf("dataset line %d: %w", s.Line, err)
	}
	params := t.Info.Params
	if t.ParamsFor != nil {
		if params, err = t.ParamsFor(s.Fields); err != nil {
			return provider.Request{}, fmt.Errorf("dataset line %d: %w", s.Line, err)
		}
	}
	return provider.Request{
		Model:       t.Info.Model,
		System:      system,
		Messages:    []provider.Message{{Role: provider.RoleUser, Content: user}},
		Params:      params,
		Stream:      t.Stream,
		SampleID:    s.ID,
		Fields:      s.Fields,
		Repeat:      repeat,
		CacheSystem: t.CacheSystem,
		CacheUser:   t.CacheUser,
	}, nil
}
