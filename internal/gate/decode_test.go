package gate

import (
	"bufio"
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/provider"
	"github.com/evalgate/evalgate/internal/results"
)

// decodeBoth decodes a line with DecodeRecord and with encoding/json. When
// DecodeRecord reads it, it must be valid JSON that encoding/json reads the
// same; when it does not, it must leave the record as it found it.
func decodeBoth(t *testing.T, line []byte) (fast bool) {
	t.Helper()
	var got, want numbers
	fast = got.DecodeRecord(line)
	err := json.Unmarshal(line, &want)
	if !fast {
		assert.Equal(t, numbers{}, got, "left as found: %s", line)
		return false
	}
	require.True(t, json.Valid(line), "read invalid JSON: %s", line)
	require.NoError(t, err, "%s", line)
	assert.Equal(t, want, got, "%s", line)
	return true
}

// DecodeRecord reads every record the writer writes as encoding/json does:
// records of every shape, with strings that need escapes, other scripts,
// failed calls, unknown prices, any scores.
func TestDecodeRecordIsUnmarshal(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(9, 9))
	texts := []string{"", "plain", `say "hi"`, "line\nbreak", "tab\there", "ünïcode ✓", "<b>&amp;</b>", `back\slash`, "{not: json}", "null", "1e5"}
	text := func() string { return texts[rng.IntN(len(texts))] }
	var recs []results.Record
	for i := range 2000 {
		r := results.Record{SampleID: "s" + strconv.Itoa(i), Target: "t" + strconv.Itoa(i%3), Repeat: rng.IntN(4),
			Output: text(), Input: text(), Reference: text(),
			Usage:     provider.Usage{InputTokens: rng.IntN(5000), OutputTokens: rng.IntN(900), CacheReadTokens: rng.IntN(3) * 100, CacheWriteTokens: rng.IntN(2) * 50},
			LatencyMS: rng.ExpFloat64() * 800, Attempts: rng.IntN(3), Cached: rng.IntN(2) == 0}
		if i%5 == 0 {
			r.SampleID = text() + strconv.Itoa(i)
		}
		if i%4 == 0 {
			r.Cluster, r.InputHash = "doc "+text(), strconv.FormatUint(rng.Uint64(), 16)
		}
		if rng.IntN(3) > 0 {
			c := rng.Float64() / 1000
			r.CostUSD = &c
		}
		if i%7 == 0 {
			s := rng.Float64() / 1e4
			r.CacheSavingUSD = &s
		}
		if i%3 == 0 {
			r.TTFTMS, r.ServiceLatencyMS = rng.Float64()*200, rng.Float64()*700
		}
		switch i % 11 {
		case 0:
			r.Error = &results.RecordError{Kind: "invalid_request", Message: text()}
		case 1:
			r.StopReason = provider.StopMaxTokens
		default:
			r.Scores = map[string]float64{"f1": rng.Float64(), "exact_match": float64(rng.IntN(2)), "big": rng.NormFloat64() * 1e12, "tiny": 1e-300 * rng.Float64()}
			if i%6 == 0 {
				r.Scores[text()+" metric"] = -rng.Float64()
			}
			if i%9 == 0 {
				r.ScoreErrors = map[string]string{"judge": text()}
				r.Details = map[string]string{"judge": text(), "sample_id": "decoy"}
			}
		}
		recs = append(recs, r)
	}
	path := tmp(t, "r.jsonl")
	writeFile(t, path, header("h", defaultInfo, "t0", "t1", "t2"), recs, true)
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	fast, lines := 0, 0
	for sc.Scan() {
		if !bytes.HasPrefix(sc.Bytes(), []byte(`{"kind":"record"`)) {
			continue
		}
		lines++
		if decodeBoth(t, sc.Bytes()) {
			fast++
		}
	}
	require.NoError(t, sc.Err())
	assert.Equal(t, len(recs), lines)
	// Strings with an escape go to encoding/json; the rest are read here.
	assert.Greater(t, fast, lines/2, "most lines are read without reflection")
}

// Lines the writer does not write are left to encoding/json whenever it would
// read them otherwise: keys in other case, nulls, values of another type,
// white space, escapes.
func TestDecodeRecordLeavesTheUnusualToEncodingJSON(t *testing.T) {
	t.Parallel()
	cases := map[string]bool{ // line: read by DecodeRecord
		`{"kind":"record","sample_id":"a","target":"t","repeat":2,"latency_ms":12.5,"cost_usd":null,"scores":{"f1":0.5}}`: true,
		`{"sample_id":"a","unknown":{"x":[1,{"y":"}"}],"z":"\"]"},"n":null,"b":true,"latency_ms":1}`:                      true,
		`{"sample_id":"a","sample_id":"b","scores":{"x":1},"scores":{"y":2},"cost_usd":1,"cost_usd":null}`:                true,
		`{"usage":{"input_tokens":5,"extra":7},"error":{"kind":"other","message":"m","code":3}}`:                          true,
		`{"usage":null,"error":null,"scores":null,"repeat":null,"cluster":null}`:                                          true,
		`{"scores":{}}`:                   true,
		`{}`:                              true,
		`{"Sample_ID":"a"}`:               false, // encoding/json matches keys in any case
		`{"usage":{"Input_Tokens":5}}`:    false,
		`{"error":{"KIND":"other"}}`:      false,
		`{"ſample_id":"a"}`:               false, // folds to sample_id
		`{"sample_id":"a\u0062"}`:         false,
		`{"scores":{"f\u0031":1}}`:        false,
		`{"scores":{"f1":null}}`:          false, // encoding/json stores 0
		`{"scores":{"f1":"1"}}`:           false,
		`{"repeat":1e2}`:                  false,
		`{"repeat":1.0}`:                  false,
		`{"repeat":99999999999999999999}`: false,
		`{"latency_ms":1e999}`:            false,
		`{"latency_ms":"12"}`:             false,
		`{"sample_id":3}`:                 false,
		`{"sample_id": "a"}`:              false,
		`{ "sample_id":"a"}`:              false,
		`{"usage":[1]}`:                   false,
		`{"error":"failed"}`:              false,
		"{\"sample_id\":\"\xff\"}":        false, // encoding/json replaces invalid UTF-8
		`{"sample_id":"a"} `:              false,
		`{"sample_id":"a",}`:              false, // invalid JSON, which encoding/json reports
		`{"sample_id":"a"}x`:              false,
		`{"sample_id":"a"}}`:              false,
		`{"sample_id":"a"`:                false,
		`{"x":tru}`:                       false,
		`{"x":nul,"sample_id":"a"}`:       false,
		`{"x":"\q"}`:                      false,
		`{"x":"\u12"}`:                    false,
		`{"x":"a`:                         false,
		"{\"x\":\"a\tb\"}":                false, // a raw control character
		"{\"sample_id\":\"a\nb\"}":        false,
		`{"x":[1,]}`:                      false,
		`{"x":{"a" 1}}`:                   false,
		`{"x":{"a":1,}}`:                  false,
		`{"latency_ms":01}`:               false,
		`{"latency_ms":1.}`:               false,
		`{"latency_ms":.5}`:               false,
		`{"latency_ms":+1}`:               false,
		`{"latency_ms":-}`:                false,
		`{"latency_ms":1e}`:               false,
		`{"latency_ms":1.5.2}`:            false,
		`{"scores":{"f1":0x10}}`:          false,
		`{"scores":{"f1":NaN}}`:           false,
		`{"repeat":-0,"latency_ms":-0.5e+2,"x":[true,false,null,{},[],"\u00e9\n"]}`: true,
	}
	keys := make([]string, 0, len(cases))
	for k := range cases {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, line := range keys {
		assert.Equal(t, cases[line], decodeBoth(t, []byte(line)), "%s", line)
	}
}

// Lines the writer wrote, cut and mutated at random: whatever DecodeRecord
// reads is valid JSON that encoding/json reads the same.
func TestDecodeRecordOnDamagedLines(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	seeds := decodeSeeds()
	bytesOf := []byte(`{}[]",:.-+eE0159 \\untrlfasx`)
	read := 0
	for range 30000 {
		line := []byte(seeds[rng.IntN(len(seeds))])
		for range 1 + rng.IntN(3) {
			i := rng.IntN(len(line) + 1)
			switch rng.IntN(3) {
			case 0: // cut
				line = append(line[:i:i], line[min(len(line), i+1+rng.IntN(4)):]...)
			case 1: // insert
				line = slices.Insert(slices.Clone(line), i, bytesOf[rng.IntN(len(bytesOf))])
			default: // replace
				if i < len(line) {
					line = slices.Clone(line)
					line[i] = bytesOf[rng.IntN(len(bytesOf))]
				}
			}
		}
		if decodeBoth(t, line) {
			read++
		}
	}
	assert.Greater(t, read, 1000, "some damaged lines are still valid records")
}

func decodeSeeds() []string {
	return []string{
		`{"kind":"record","sample_id":"s1","target":"t","repeat":1,"output":"x \"y\" \u00e9","usage":{"input_tokens":5,"output_tokens":7},"latency_ms":12.5,"ttft_ms":3,"cost_usd":0.001,"scores":{"f1":0.5,"em":1}}`,
		`{"kind":"record","sample_id":"s2","target":"t","repeat":0,"cluster":"c","input_hash":"ab12","output":"","usage":{"input_tokens":1,"output_tokens":0,"cache_read_tokens":9},"latency_ms":1e3,"cost_usd":null,"error":{"kind":"other","message":"m"},"details":{"a":"b"},"cache_saving_usd":-2.5E-3}`,
		`{"kind":"record","sample_id":"s3","target":"t","repeat":2,"output":"[1,{\"a\":2}]","usage":{"input_tokens":3,"output_tokens":4},"latency_ms":0,"cost_usd":1,"stop_reason":"max_tokens","cached":true,"attempts":2,"scores":{},"score_errors":{"j":"x"}}`,
	}
}

// FuzzDecodeRecord holds DecodeRecord to encoding/json on any line (go test
// runs the seeds; go test -fuzz FuzzDecodeRecord looks further).
func FuzzDecodeRecord(f *testing.F) {
	for _, s := range decodeSeeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) { decodeBoth(t, line) })
}

// DecodeRecord knows every field of numbers: a field added there and not here
// would be left empty.
func TestDecodeRecordKnowsEveryField(t *testing.T) {
	t.Parallel()
	var tags []string
	num := reflect.TypeOf(numbers{})
	for i := range num.NumField() {
		tags = append(tags, strings.Split(num.Field(i).Tag.Get("json"), ",")[0])
	}
	assert.ElementsMatch(t, tags, numbersKeys)
	var usage []string
	u := reflect.TypeOf(provider.Usage{})
	for i := range u.NumField() {
		usage = append(usage, strings.Split(u.Field(i).Tag.Get("json"), ",")[0])
	}
	assert.ElementsMatch(t, usage, usageKeys)
	var errs []string
	e := reflect.TypeOf(results.RecordError{})
	for i := range e.NumField() {
		errs = append(errs, strings.Split(e.Field(i).Tag.Get("json"), ",")[0])
	}
	assert.ElementsMatch(t, errs, recordErrorKeys)
}
