package judge

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ErrRefused is wrapped by the error of a reply in which the judge declined
// to judge instead of answering with JSON.
var ErrRefused = errors.New("judge refused")

// Reply is a judge's parsed verdict on one answer.
type Reply struct {
	// Score is the raw score, within the scale.
	Score float64
	// Reasoning is the judge's explanation; empty when it gave none.
	Reasoning string
}

// Parsing limits. A judge reply is bounded by max_tokens, so these only stop
// a pathological reply (or a fuzzer) from costing quadratic time.
const (
	// maxReplyBytes is far above any max_tokens a judge is given (16k
	// tokens is about 64 KB).
	maxReplyBytes = 64 << 10
	// refusalBytes is where a refusal is looked for: judges decline up front.
	refusalBytes = 1 << 10
	// maxCandidates bounds the '{' positions tried as the start of an object.
	maxCandidates = 256
	// snippetRunes is how much of a bad reply an error message quotes.
	snippetRunes = 160
)

// ParseReply reads a judge's reply to a scoring request: a JSON object with
// "score" (a number, or a string holding one) and "reasoning", bare, fenced in
// a Markdown code block, or inside prose. A missing reasoning is allowed; a
// missing, non-numeric, ambiguous or out-of-scale score is an error, and so is
// a refusal (wrapping ErrRefused). It never panics, whatever the text.
func ParseReply(text string, scale Scale) (Reply, error) {
	v, obj, err := field(text, "score")
	if err != nil {
		return Reply{}, err
	}
	score, err := scoreOf(v, scale)
	if err != nil {
		return Reply{}, err
	}
	if math.IsNaN(score) || math.IsInf(score, 0) {
		return Reply{}, fmt.Errorf("score %v is not a number", score)
	}
	if score < scale.Min || score > scale.Max {
		return Reply{}, fmt.Errorf("score %g is outside the scale %s", score, scale)
	}
	return Reply{Score: score, Reasoning: reasoningOf(obj)}, nil
}

// scoreOf reads a score value: a number, a numeric string, or for a 0..1
// scale a boolean.
func scoreOf(v json.RawMessage, scale Scale) (float64, error) {
	var x any
	dec := json.NewDecoder(bytes.NewReader(v))
	dec.UseNumber()
	if err := dec.Decode(&x); err != nil {
		return 0, fmt.Errorf("score: %w", err)
	}
	switch s := x.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(s), 64)
		if err != nil {
			return 0, fmt.Errorf("score %s is not a number", s)
		}
		return f, nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return 0, fmt.Errorf("score %s is not a number", quote(s))
		}
		return f, nil
	case bool:
		if scale.Min == 0 && scale.Max == 1 {
			if s {
				return 1, nil
			}
			return 0, nil
		}
		return 0, fmt.Errorf("score %t is not a number on the scale %s", s, scale)
	case nil:
		return 0, errors.New("score is null")
	default:
		return 0, fmt.Errorf("score %s is not a number", quote(string(v)))
	}
}

// reasoningKeys are the names judges give their explanation, preferred first.
var reasoningKeys = []string{"reasoning", "reason", "explanation", "rationale"}

func reasoningOf(obj map[string]json.RawMessage) string {
	for _, k := range reasoningKeys {
		v, ok := obj[k]
		if !ok {
			continue
		}
		var s string
		if json.Unmarshal(v, &s) == nil {
			return strings.TrimSpace(s)
		}
		return strings.TrimSpace(string(v))
	}
	return ""
}

// refusalRE recognizes a judge that declined instead of answering.
var refusalRE = regexp.MustCompile(`(?i)\b(i\s*(can['’]?t|cannot|can not|won['’]?t|will not|am unable|['’]m unable|am not able|['’]m not able)|unable to (help|assist|comply|evaluate|provide)|as an ai\b|i must decline|i['’]m sorry|i apologi[sz]e)`)

// field finds key (case-insensitively) in the JSON objects of text. It
// returns the value and the object holding it. Several objects with the key
// must agree: a judge that gives two different verdicts gave none.
func field(text, key string) (json.RawMessage, map[string]json.RawMessage, error) {
	if strings.TrimSpace(text) == "" {
		return nil, nil, errors.New("empty reply")
	}
	if len(text) > maxReplyBytes {
		text = text[:maxReplyBytes]
	}
	objs := objects(text)
	if len(objs) == 0 {
		if refusalRE.MatchString(text[:min(len(text), refusalBytes)]) {
			return nil, nil, fmt.Errorf("%w: %s", ErrRefused, quote(text))
		}
		return nil, nil, fmt.Errorf("no JSON object in the reply %s", quote(text))
	}
	var (
		val json.RawMessage
		obj map[string]json.RawMessage
	)
	for _, o := range objs {
		v, ok := o[key]
		if !ok {
			continue
		}
		if val != nil && !jsonEqual(val, v) {
			return nil, nil, fmt.Errorf("the reply holds several different %q values (%s and %s)", key, quote(string(val)), quote(string(v)))
		}
		if val == nil {
			val, obj = v, o
		}
	}
	if val == nil {
		return nil, nil, fmt.Errorf("the reply's JSON has no %q field: %s", key, quote(text))
	}
	return val, obj, nil
}

// objects returns the top-level JSON objects found in text, with their keys
// lower-cased: a bare object, one in a ```json fence, or one inside prose.
// Nested objects are part of their parent, not found again.
func objects(text string) []map[string]json.RawMessage {
	var out []map[string]json.RawMessage
	tries := 0
	for i := 0; i < len(text) && tries < maxCandidates; {
		j := strings.IndexByte(text[i:], '{')
		if j < 0 {
			break
		}
		i += j
		tries++
		dec := json.NewDecoder(strings.NewReader(text[i:]))
		var m map[string]json.RawMessage
		if err := dec.Decode(&m); err != nil {
			i++
			continue
		}
		// Keys written in lower case win over "Score"-like variants; the
		// others are taken in sorted order so the result never depends on
		// map iteration.
		lower := make(map[string]json.RawMessage, len(m))
		for _, k := range slices.Sorted(maps.Keys(m)) {
			lk := strings.ToLower(strings.TrimSpace(k))
			if _, dup := lower[lk]; !dup || k == lk {
				lower[lk] = m[k]
			}
		}
		out = append(out, lower)
		i += int(dec.InputOffset())
	}
	return out
}

// jsonEqual compares two JSON values by meaning (7 and 7.0 are equal).
func jsonEqual(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return bytes.Equal(a, b)
	}
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return bytes.Equal(xb, yb)
}

// quote shortens model text and escapes it for an error message or a log
// line: newlines and control characters can never forge a line of output.
func quote(s string) string {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > snippetRunes {
		r := []rune(s)
		s = string(r[:snippetRunes]) + "…"
	}
	return strconv.Quote(s)
}
