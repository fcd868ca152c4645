package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"

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

// JSON renders the verdict for machines (NaN and infinite numbers as null)
// with the exit code the cli maps it to (cli/exit.go owns that mapping).
func JSON(v *gate.Verdict, exitCode int) ([]byte, error) {
	b, err := json.MarshalIndent(document{JSONSchema, JSONVersion, exitCode, v}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("json verdict: %w", err)
	}
	return append(escapeBidi(b), '\n'), nil
}

// escapeBidi writes the bidirectional controls of a JSON document as \u
// escapes: the data is the same, but a viewer no longer reorders the text
// around them. They can only be inside strings, where the escape is valid.
func escapeBidi(b []byte) []byte {
	if !bytes.ContainsFunc(b, IsBidiControl) {
		return b
	}
	out := make([]byte, 0, len(b)+32)
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if IsBidiControl(r) {
			out = fmt.Appendf(out, `\u%04x`, r)
		} else {
			out = append(out, b[:n]...)
		}
		b = b[n:]
	}
	return out
}
