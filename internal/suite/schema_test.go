package suite

import (
	"bytes"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

func compileSchema(t *testing.T, raw []byte) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	require.NoError(t, c.AddResource("https://evalgate.invalid/evalgate.schema.json", doc))
	sch, err := c.Compile("https://evalgate.invalid/evalgate.schema.json")
	require.NoError(t, err)
	return sch
}

// yamlToJSON turns a YAML document into the values a JSON decoder produces.
func yamlToJSON(t *testing.T, raw []byte) any {
	t.Helper()
	var v any
	require.NoError(t, yaml.Unmarshal(raw, &v))
	b, err := json.Marshal(v)
	require.NoError(t, err)
	out, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	require.NoError(t, err)
	return out
}

func TestSchemaValidatesExamples(t *testing.T) {
	t.Parallel()
	sch := compileSchema(t, Schema())
	files, err := filepath.Glob("testdata/examples/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			raw, err := os.ReadFile(f)
			require.NoError(t, err)
			assert.NoError(t, sch.Validate(yamlToJSON(t, raw)))
			_, err = Load(f)
			assert.NoError(t, err, "every schema example also loads")
		})
	}
}

func TestSchemaRejects(t *testing.T) {
	t.Parallel()
	sch := compileSchema(t, schema(testMetrics))
	base := "version: 1\nname: t\ndataset: {path: d.jsonl}\nmetrics: [f1]\n"
	tests := []struct{ name, config string }{
		{"unknown top-level key", base + "targets: [{id: a, provider: recorded, model: m}]\nmetric: x\n"},
		{"typo in params", base + "targets: [{id: a, provider: bedrock, model: m, params: {temprature: 0}}]\n"},
		{"unknown provider", base + "targets: [{id: a, provider: bedrok, model: m}]\n"},
		{"command on bedrock", base + "targets: [{id: a, provider: bedrock, model: m, command: [x]}]\n"},
		{"command target without command", base + "targets: [{id: a, provider: command, model: m}]\n"},
		{"two bounds", base + "targets: [{id: a, provider: recorded, model: m}]\ncriteria: [{metric: f1, min: 1, max_drop: 0.1}]\n"},
		{"bad margin", base + "targets: [{id: a, provider: recorded, model: m}]\ncriteria: [{metric: f1, max_drop: 5 percent}]\n"},
		{"bad duration", base + "targets: [{id: a, provider: recorded, model: m}]\nrun: {timeout: 30}\n"},
		{"version 2", strings.Replace(base, "version: 1", "version: 2", 1) + "targets: [{id: a, provider: recorded, model: m}]\n"},
		{"unknown metric type", strings.Replace(base, "[f1]", "[{name: x, type: regx}]", 1) + "targets: [{id: a, provider: recorded, model: m}]\n"},
		{"unknown metric option", strings.Replace(base, "[f1]", "[{name: x, type: regex, patern: a}]", 1) + "targets: [{id: a, provider: recorded, model: m}]\n"},
		{"prompt without user part", base + "prompts: {a: {system: s}}\ntargets: [{id: a, provider: recorded, model: m}]\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Error(t, sch.Validate(yamlToJSON(t, []byte(tt.config))))
		})
	}
	assert.NoError(t, sch.Validate(yamlToJSON(t, []byte(base+"targets: [{id: a, provider: recorded, model: m}]\n"))), "the base is valid")
}

// TestSchemaMatchesConfig keeps the schema and the Go types in step: every
// YAML key of Config appears in the schema at the same place, and the schema
// has no key Config lacks.
func TestSchemaMatchesConfig(t *testing.T) {
	t.Parallel()
	var root map[string]any
	require.NoError(t, json.Unmarshal(Schema(), &root))
	defs := root["$defs"].(map[string]any)

	// object finds the schema object (with properties) a node stands for,
	// following $ref and the branches of oneOf/anyOf.
	var object func(n map[string]any) map[string]any
	object = func(n map[string]any) map[string]any {
		if ref, ok := n["$ref"].(string); ok {
			return object(defs[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any))
		}
		if _, ok := n["properties"]; ok {
			return n
		}
		for _, k := range []string{"oneOf", "anyOf"} {
			for _, b := range asSlice(n[k]) {
				if o := object(b.(map[string]any)); o != nil {
					return o
				}
			}
		}
		return nil
	}

	var walk func(typ reflect.Type, node map[string]any, path string)
	walk = func(typ reflect.Type, node map[string]any, path string) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
			typ = typ.Elem()
			if node["items"] != nil {
				node = node["items"].(map[string]any)
			}
		}
		if typ.Kind() == reflect.Map {
			if ap, ok := node["additionalProperties"].(map[string]any); ok {
				node = ap
			}
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || typ == durationType || typ == marginType {
			return
		}
		obj := object(node)
		require.NotNil(t, obj, "%s: no object schema for %s", path, typ)
		props := obj["properties"].(map[string]any)
		names, index := yamlKeys(typ)
		if typ == metricType {
			names = []string{"name", "type"}
		}
		schemaKeys := make([]string, 0, len(props))
		for k := range props {
			schemaKeys = append(schemaKeys, k)
		}
		assert.ElementsMatch(t, names, schemaKeys, "%s: keys of %s vs the schema", path, typ)
		for _, name := range names {
			p, ok := props[name].(map[string]any)
			if !ok || typ == metricType {
				continue
			}
			assert.NotEmpty(t, describeNode(p, defs), "%s.%s has no description", path, name)
			walk(typ.Field(index[name]).Type, p, joinPath(path, name))
		}
	}
	walk(reflect.TypeFor[Config](), root, "")

	// Roles of dataset.fields and of recorded fields are listed too.
	dsFields := defs["dataset"].(map[string]any)["properties"].(map[string]any)["fields"].(map[string]any)["properties"].(map[string]any)
	assert.ElementsMatch(t, roles, slices.Collect(keys(dsFields)))
	recFields := defs["target"].(map[string]any)["properties"].(map[string]any)["fields"].(map[string]any)["properties"].(map[string]any)
	assert.ElementsMatch(t, recordedRoles, slices.Collect(keys(recFields)))
	assert.Equal(t, "https://json-schema.org/draft/2020-12/schema", root["$schema"])
}

// describeNode returns a node's description, or that of what it refers to.
func describeNode(n, defs map[string]any) string {
	if d, ok := n["description"].(string); ok {
		return d
	}
	if ref, ok := n["$ref"].(string); ok {
		return describeNode(defs[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any), defs)
	}
	for _, b := range asSlice(n["oneOf"]) {
		if d := describeNode(b.(map[string]any), defs); d != "" {
			return d
		}
	}
	return ""
}

func asSlice(v any) []any { s, _ := v.([]any); return s }

func keys(m map[string]any) func(func(string) bool) { return maps.Keys(m) }
