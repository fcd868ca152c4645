package openai

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// eventReader reads the data of server-sent events, the framing of a
// streamed chat completion.
//
// Format: https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
type eventReader struct {
	lines *bufio.Scanner
}

func newEventReader(r io.Reader) *eventReader {
	lines := bufio.NewScanner(r)
	// One event is one chunk of the reply; the bound keeps a server that
	// never ends a line from exhausting memory.
	lines.Buffer(nil, maxResponseBytes)
	return &eventReader{lines: lines}
}

// next returns the data of the next event, its "data:" lines joined by
// newlines, or io.EOF when the stream ended cleanly. Event names, ids,
// comments (": keep-alive") and events without data are skipped: the data
// says everything OpenAI's protocol needs. An event cut by the end of the
// stream, with no blank line after it, is dropped as the format requires.
func (r *eventReader) next() ([]byte, error) {
	var data []byte
	for r.lines.Scan() {
		line := r.lines.Bytes()
		if len(line) == 0 {
			if len(data) == 0 {
				continue
			}
			data = data[:len(data)-1]
			if len(data) == 0 {
				continue // "data:" alone, a keep-alive some servers send
			}
			return data, nil
		}
		field, value, _ := bytes.Cut(line, []byte(":"))
		if string(field) != "data" {
			continue
		}
		data = append(data, bytes.TrimPrefix(value, []byte(" "))...)
		data = append(data, '\n')
	}
	if err := r.lines.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("an event of the response stream exceeds %d MB", maxResponseBytes>>20)
		}
		return nil, err
	}
	return nil, io.EOF
}
