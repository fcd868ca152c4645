package report

import (
	"encoding/json"
	"fmt"

	"github.com/evalgate/evalgate/internal/gate"
)

// JSONSchema names the JSON verdict's format; JSONVersion changes when a
// field changes meaning or goes away (adding fields keeps it).
const (
	JSONSchema  = "evalgate.verdict"
	JSONVersion = 1
)

// document is the JSON verdict: the verdict's fields with the format, its
// version and the exit code, so that a machine needs no mapping of its own.
type document struct {
	Schema   string `json:"schema"`
	Version  int    `json:"version"`
	ExitCode int    `json:"exit_code"`
	*gate.Verdict
}

// JSON renders the verdict for machines (NaN and infinite numbers as null).
func JSON(v *gate.Verdict) ([]byte, error) {
	b, err := json.MarshalIndent(document{JSONSchema, JSONVersion, v.ExitCode(), v}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("json verdict: %w", err)
	}
	return append(b, '\n'), nil
}
