package metric

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"github.com/evalgate/evalgate/internal/excerpt"
)

// JSON output checks. Chat models often wrap JSON in a Markdown code fence
// even when told not to; both metrics strip one surrounding fence (```json
// ... ``` or ``` ... ```) and surrounding whitespace before parsing, because
// the application consuming the output usually does the same. Prose around
// the fence is not removed: that output is not JSON.

func init() {
	register("json_valid", nil, newJSONValid)
	register("json_schema", []string{"schema", "schema_file"}, newJSONSchema)
}

// fenceRE matches a whole output that is one fenced code block, with an
// optional info string (json, JSON, jsonc ...).
var fenceRE = regexp.MustCompile("(?s)^```[A-Za-z0-9_+-]*[ \t]*\r?\n(.*?)\r?\n?```$")

// StripCodeFence removes surrounding whitespace and at most one Markdown code
// fence enclosing the whole text.
func StripCodeFence(s string) string {
	s = strings.TrimSpace(s)
	if m := fenceRE.FindStringSubmatch(s); m != nil {
		return strings.TrimSpace(m[1])
	}
	return s
}

func newJSONValid(spec Spec) (Metric, error) {
	return &scorer{
		info: passFailInfo(spec.Name),
		score: func(in Input) (Score, error) {
			if json.Valid([]byte(StripCodeFence(in.Output))) {
				return Score{Value: 1}, nil
			}
			return Score{Value: 0, Detail: "output is not valid JSON"}, nil
		},
	}, nil
}

func newJSONSchema(spec Spec) (Metric, error) {
	_, inline := spec.Options["schema"]
	file, hasFile, err := spec.str("schema_file")
	if err != nil {
		return nil, err
	}
	if inline == hasFile {
		return nil, spec.errorf("exactly one of options \"schema\" and \"schema_file\" is required")
	}
	c := jsonschema.NewCompiler()
	var loc string
	var doc any
	if inline {
		// Round-trip through JSON so YAML's ints and maps become the value
		// types the validator expects.
		doc, err = toJSONValue(spec.Options["schema"])
		if err != nil {
			return nil, spec.errorf("option \"schema\": %w", err)
		}
		if _, isMap := doc.(map[string]any); !isMap {
			if _, isBool := doc.(bool); !isBool {
				return nil, spec.errorf("option \"schema\" must be a mapping (a JSON Schema object)")
			}
		}
		base, err := filepath.Abs(spec.BaseDir)
		if err != nil {
			return nil, spec.errorf("base dir: %w", err)
		}
		loc = filepath.Join(base, "evalgate-inline-schema-"+spec.Name+".json")
	} else {
		if file == "" {
			return nil, spec.errorf("option \"schema_file\" must not be empty")
		}
		path := file
		if !filepath.IsAbs(path) {
			path = filepath.Join(spec.BaseDir, path)
		}
		if loc, err = filepath.Abs(path); err != nil {
			return nil, spec.errorf("option \"schema_file\": %w", err)
		}
		raw, err := os.ReadFile(loc)
		if err != nil {
			return nil, spec.errorf("option \"schema_file\": %w", err)
		}
		if ext := strings.ToLower(filepath.Ext(loc)); ext == ".yaml" || ext == ".yml" {
			var y any
			if err := yaml.Unmarshal(raw, &y); err != nil {
				return nil, spec.errorf("schema file %s: %w", file, err)
			}
			doc, err = toJSONValue(y)
		} else {
			doc, err = jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		}
		if err != nil {
			return nil, spec.errorf("schema file %s: %w", file, err)
		}
	}
	if err := c.AddResource(loc, doc); err != nil {
		return nil, spec.errorf("schema: %w", err)
	}
	sch, err := c.Compile(loc)
	if err != nil {
		return nil, spec.errorf("schema does not compile: %w", err)
	}
	return &scorer{
		info: passFailInfo(spec.Name),
		score: func(in Input) (Score, error) {
			v, err := jsonschema.UnmarshalJSON(strings.NewReader(StripCodeFence(in.Output)))
			if err != nil {
				return Score{Value: 0, Detail: "output is not valid JSON"}, nil
			}
			if err := sch.Validate(v); err != nil {
				return Score{Value: 0, Detail: excerpt.Of(validationDetail(err), 300)}, nil
			}
			return Score{Value: 1}, nil
		},
	}, nil
}

// validationDetail flattens the validator's tree of causes to its leaves,
// which say what is actually wrong ("at '/id': got string, want integer").
func validationDetail(err error) string {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return err.Error()
	}
	var leaves []string
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			// A leaf's Error() is a header line then "- at '/x': reason".
			lines := strings.Split(strings.TrimSpace(e.Error()), "\n")
			leaves = append(leaves, strings.TrimPrefix(strings.TrimSpace(lines[len(lines)-1]), "- "))
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	return "schema violation: " + strings.Join(leaves, "; ")
}

// toJSONValue converts a decoded YAML/JSON value to the representation
// jsonschema.UnmarshalJSON produces.
func toJSONValue(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return jsonschema.UnmarshalJSON(bytes.NewReader(b))
}
