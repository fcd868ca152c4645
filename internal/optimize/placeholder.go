package optimize

import (
	"errors"

	"github.com/evalgate/evalgate/internal/suite"
)

// Resolver maps a placeholder name as written in a source prompt to the
// dataset column that fills it (suite.PlaceholderResolver: the suite's
// prompts convert with the same rules).
type Resolver = suite.PlaceholderResolver

// UnknownPlaceholderError lists placeholders of a source prompt that no
// dataset column fills.
type UnknownPlaceholderError = suite.UnknownPlaceholderError

// ConvertPlaceholders rewrites a source prompt's foreign placeholders to
// evalgate's {{column}} (suite.ConvertPlaceholders); an unknown one is to be
// mapped in optimize.source.placeholders.
func ConvertPlaceholders(text string, r Resolver) (string, []string, error) {
	out, used, err := suite.ConvertPlaceholders(text, r)
	if ue := new(UnknownPlaceholderError); errors.As(err, &ue) {
		ue.Where = "optimize.source.placeholders"
	}
	return out, used, err
}
