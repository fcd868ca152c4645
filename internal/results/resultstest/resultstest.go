// Package resultstest reads whole results files for tests; evalgate itself
// streams them (results.Reader). Only tests import it.
package resultstest

import (
	"io"

	"github.com/evalgate/evalgate/internal/results"
)

// ReadAll reads a whole results file: its header, every record and the
// summary (nil when the file has none, as a truncated file).
func ReadAll(path string) (results.Header, []results.Record, *results.Summary, error) {
	r, err := results.Open(path)
	if err != nil {
		return results.Header{}, nil, nil, err
	}
	defer r.Close()
	var recs []results.Record
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return r.Header(), recs, r.Summary(), nil
		}
		if err != nil {
			return r.Header(), recs, nil, err
		}
		recs = append(recs, rec)
	}
}
