package suite

import (
	"fmt"
	"sort"
	"strings"

	"github.com/evalgate/evalgate/internal/spelling"
)

// ConfigError is one mistake in evalgate.yaml (or a file it names), at a
// position a user can jump to.
type ConfigError struct {
	File   string
	Line   int
	Column int
	Msg    string
}

// Error formats the mistake as file:line:col: message.
func (e *ConfigError) Error() string {
	switch {
	case e.Line == 0:
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	case e.Column == 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
}

// ConfigErrors are all the mistakes Load found, sorted by file and position,
// so that one run of `evalgate validate` shows everything to fix.
type ConfigErrors []*ConfigError

// Error lists the mistakes one a line.
func (es ConfigErrors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As find one *ConfigError.
func (es ConfigErrors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

func (es ConfigErrors) sort() {
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i], es[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
}

// didYouMean formats spelling.Closest's answer as the tail of an error message.
func didYouMean(word string, candidates []string) string {
	if s := spelling.Closest(word, candidates); s != "" {
		return fmt.Sprintf(", did you mean '%s'?", s)
	}
	return ""
}
