package gate

import (
	"bytes"
	"strconv"
	"unicode/utf8"

	"github.com/evalgate/evalgate/internal/provider"
	"github.com/evalgate/evalgate/internal/results"
)

// DecodeRecord reads a record line as the results writer writes it into n,
// without encoding/json's reflection: decoding is most of the time of a large
// comparison, and this takes about a third of encoding/json's time (with
// 100,000 pairs, 0.35 s of the 0.9 s json.Unmarshal took). It checks the whole
// line as it goes, skipped values too, and reads only valid JSON. Anything it
// does not read exactly as encoding/json would (invalid JSON, an escape in a
// string, a key in other case, a null score, a value of another type, white
// space) it leaves to encoding/json: it then returns false with n as it found
// it, which must be zero but for an empty scores map. TestDecodeRecordIsUnmarshal
// and FuzzDecodeRecord hold the two to the same result.
func (n *numbers) DecodeRecord(line []byte) bool {
	scores := n.Scores
	d := lineDecoder{b: line}
	if d.record(n) {
		return true
	}
	clear(scores)
	*n = numbers{Scores: scores}
	return false
}

var _ results.RecordDecoder = (*numbers)(nil)

// The JSON names DecodeRecord reads: a key that differs from one of them only
// in case is one encoding/json would read as it, so DecodeRecord leaves it to
// encoding/json.
var (
	numbersKeys = []string{"sample_id", "target", "repeat", "cluster", "input_hash", "usage", "latency_ms",
		"ttft_ms", "cost_usd", "stop_reason", "error", "scores", "cache_saving_usd"}
	usageKeys       = []string{"input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens"}
	recordErrorKeys = []string{"kind", "message"}
)

// lineDecoder reads one line of JSON from b[i:]. Each method returns false
// on anything it does not read: invalid JSON, or JSON it leaves to
// encoding/json.
type lineDecoder struct {
	b []byte
	i int
}

func (d *lineDecoder) record(n *numbers) bool {
	return d.object(numbersKeys, func(key []byte) bool {
		switch string(key) {
		case "sample_id":
			return d.str(&n.SampleID)
		case "target":
			return d.str(&n.Target)
		case "repeat":
			return d.int(&n.Repeat)
		case "cluster":
			return d.str(&n.Cluster)
		case "input_hash":
			return d.str(&n.InputHash)
		case "usage":
			return d.usage(&n.Usage)
		case "latency_ms":
			return d.float(&n.LatencyMS)
		case "ttft_ms":
			return d.float(&n.TTFTMS)
		case "cost_usd":
			return d.floatPtr(&n.CostUSD)
		case "stop_reason":
			return d.str(&n.StopReason)
		case "error":
			return d.recordError(&n.Error)
		case "scores":
			return d.scores(&n.Scores)
		case "cache_saving_usd":
			return d.floatPtr(&n.CacheSavingUSD)
		}
		return false
	}) && d.i == len(d.b)
}

// object reads an object (or null), calling field for each key of known
// (positioned at its value) and skipping the values of other keys.
func (d *lineDecoder) object(known []string, field func(key []byte) bool) bool {
	if d.null() {
		return true
	}
	if !d.byte('{') {
		return false
	}
	if d.byte('}') {
		return true
	}
	for {
		key, ok := d.plainString()
		if !ok || !d.byte(':') {
			return false
		}
		switch {
		case isKey(key, known):
			ok = field(key)
		case foldsToKey(key, known):
			return false
		default:
			ok = d.value(0)
		}
		if !ok {
			return false
		}
		if d.byte('}') {
			return true
		}
		if !d.byte(',') {
			return false
		}
	}
}

func isKey(key []byte, known []string) bool {
	for _, k := range known {
		if string(key) == k {
			return true
		}
	}
	return false
}

func foldsToKey(key []byte, known []string) bool {
	for _, k := range known {
		if bytes.EqualFold(key, []byte(k)) {
			return true
		}
	}
	return false
}

// byte consumes c if it is next.
func (d *lineDecoder) byte(c byte) bool {
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

// null consumes a null if it is next.
func (d *lineDecoder) null() bool { return d.literal("null") }

// plainString reads a string that encoding/json would take byte for byte:
// no escape, valid UTF-8.
func (d *lineDecoder) plainString() ([]byte, bool) {
	if !d.byte('"') {
		return nil, false
	}
	start := d.i
	ascii := true
	for ; d.i < len(d.b); d.i++ {
		switch c := d.b[d.i]; {
		case c == '"':
			s := d.b[start:d.i]
			d.i++
			return s, ascii || utf8.Valid(s)
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, false
}

// str reads a string (null leaves dst as it is).
func (d *lineDecoder) str(dst *string) bool {
	if d.null() {
		return true
	}
	s, ok := d.plainString()
	if ok {
		*dst = string(s)
	}
	return ok
}

// number reads a number in JSON's grammar and returns it:
// -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (d *lineDecoder) number() ([]byte, bool) {
	start := d.i
	d.byte('-')
	switch {
	case d.byte('0'):
	case d.i < len(d.b) && '1' <= d.b[d.i] && d.b[d.i] <= '9':
		d.digits()
	default:
		return nil, false
	}
	if d.byte('.') && !d.digits() {
		return nil, false
	}
	if d.byte('e') || d.byte('E') {
		_ = d.byte('+') || d.byte('-')
		if !d.digits() {
			return nil, false
		}
	}
	return d.b[start:d.i], true
}

// digits reads one digit or more.
func (d *lineDecoder) digits() bool {
	start := d.i
	for d.i < len(d.b) && '0' <= d.b[d.i] && d.b[d.i] <= '9' {
		d.i++
	}
	return d.i > start
}

// int reads an integer as encoding/json does (null leaves dst as it is).
func (d *lineDecoder) int(dst *int) bool {
	if d.null() {
		return true
	}
	lit, ok := d.number()
	if !ok {
		return false
	}
	v, err := strconv.ParseInt(string(lit), 10, 64)
	if err != nil {
		return false
	}
	*dst = int(v)
	return true
}

// float reads a number as encoding/json does (null leaves dst as it is).
func (d *lineDecoder) float(dst *float64) bool {
	if d.null() {
		return true
	}
	lit, ok := d.number()
	if !ok {
		return false
	}
	v, err := strconv.ParseFloat(string(lit), 64)
	if err != nil {
		return false
	}
	*dst = v
	return true
}

// floatPtr reads a number or null (nil).
func (d *lineDecoder) floatPtr(dst **float64) bool {
	if d.null() {
		*dst = nil
		return true
	}
	var v float64
	if !d.float(&v) {
		return false
	}
	*dst = &v
	return true
}

func (d *lineDecoder) usage(u *provider.Usage) bool {
	return d.object(usageKeys, func(key []byte) bool {
		switch string(key) {
		case "input_tokens":
			return d.int(&u.InputTokens)
		case "output_tokens":
			return d.int(&u.OutputTokens)
		case "cache_read_tokens":
			return d.int(&u.CacheReadTokens)
		case "cache_write_tokens":
			return d.int(&u.CacheWriteTokens)
		}
		return false
	})
}

func (d *lineDecoder) recordError(dst **results.RecordError) bool {
	if d.null() {
		*dst = nil
		return true
	}
	if *dst == nil {
		*dst = &results.RecordError{}
	}
	e := *dst
	return d.object(recordErrorKeys, func(key []byte) bool {
		if string(key) == "kind" {
			return d.str(&e.Kind)
		}
		return d.str(&e.Message)
	})
}

// scores reads an object of numbers; a null among them (which encoding/json
// stores as 0) is left to encoding/json.
func (d *lineDecoder) scores(dst *map[string]float64) bool {
	if d.null() {
		*dst = nil
		return true
	}
	if !d.byte('{') {
		return false
	}
	if *dst == nil {
		*dst = map[string]float64{}
	}
	if d.byte('}') {
		return true
	}
	for {
		key, ok := d.plainString()
		if !ok || !d.byte(':') {
			return false
		}
		if d.i < len(d.b) && d.b[d.i] == 'n' {
			return false
		}
		var v float64
		if !d.float(&v) {
			return false
		}
		(*dst)[string(key)] = v
		if d.byte('}') {
			return true
		}
		if !d.byte(',') {
			return false
		}
	}
}

// maxDepth bounds the nesting the decoder reads itself; deeper values (no
// writer makes them) go to encoding/json.
const maxDepth = 64

// value passes over one value.
func (d *lineDecoder) value(depth int) bool {
	if depth > maxDepth || d.i >= len(d.b) {
		return false
	}
	switch d.b[d.i] {
	case '"':
		return d.skipString()
	case '{':
		d.i++
		if d.byte('}') {
			return true
		}
		for {
			if !d.skipString() || !d.byte(':') || !d.value(depth+1) {
				return false
			}
			if d.byte('}') {
				return true
			}
			if !d.byte(',') {
				return false
			}
		}
	case '[':
		d.i++
		if d.byte(']') {
			return true
		}
		for {
			if !d.value(depth + 1) {
				return false
			}
			if d.byte(']') {
				return true
			}
			if !d.byte(',') {
				return false
			}
		}
	case 't':
		return d.literal("true")
	case 'f':
		return d.literal("false")
	case 'n':
		return d.literal("null")
	}
	_, ok := d.number()
	return ok
}

func (d *lineDecoder) literal(w string) bool {
	if bytes.HasPrefix(d.b[d.i:], []byte(w)) {
		d.i += len(w)
		return true
	}
	return false
}

// skipString passes over a string, escapes and all.
func (d *lineDecoder) skipString() bool {
	if !d.byte('"') {
		return false
	}
	for d.i < len(d.b) {
		switch c := d.b[d.i]; {
		case c == '"':
			d.i++
			return true
		case c < 0x20:
			return false
		case c == '\\':
			if d.i+1 >= len(d.b) {
				return false
			}
			switch d.b[d.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				d.i += 2
			case 'u':
				if d.i+6 > len(d.b) || !isHex(d.b[d.i+2:d.i+6]) {
					return false
				}
				d.i += 6
			default:
				return false
			}
		default:
			d.i++
		}
	}
	return false
}

func isHex(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
