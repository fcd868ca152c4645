package cli

import (
	"bytes"
	"io"

	"github.com/evalgate/evalgate/internal/report"
)

// bidiFree is standard output or error with the bidirectional controls of
// what is written removed: model output, dataset cells and servers' error
// messages reach the terminal and the CI log through error messages, the
// summary and workflow commands, and a control there would reorder what the
// reader sees (see report.IsBidiControl). Each write is filtered on its own;
// evalgate writes whole lines.
type bidiFree struct{ w io.Writer }

func (b bidiFree) Write(p []byte) (int, error) {
	if !bytes.ContainsFunc(p, report.IsBidiControl) {
		return b.w.Write(p)
	}
	if _, err := io.WriteString(b.w, report.DropBidi(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// underlying is the writer a bidiFree wraps, or w itself: for the terminal
// check.
func underlying(w io.Writer) io.Writer {
	if b, ok := w.(bidiFree); ok {
		return b.w
	}
	return w
}
