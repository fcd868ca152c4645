package suite

import (
	_ "embed"
	"encoding/json"
	"slices"
)

// schemaBase is the hand-written part of the schema: structure and
// descriptions. Schema adds what is known only at run time or kept elsewhere:
// the metric types and their options, and which keys each provider accepts.
//
//go:embed schema.json
var schemaBase []byte

// Schema returns a JSON Schema (draft 2020-12) of evalgate.yaml, for editors
// (yaml-language-server: `# yaml-language-server: $schema=evalgate.schema.json`).
// Load checks more than the schema can (files, references between sections);
// the schema catches typos while typing.
func Schema() []byte { return schema(builtinMetrics) }

func schema(cat metricCatalog) []byte {
	var root map[string]any
	if err := json.Unmarshal(schemaBase, &root); err != nil {
		panic("suite: embedded schema.json: " + err.Error()) // caught by any test run
	}
	defs := root["$defs"].(map[string]any)

	// Metrics: the built-in types, and each type's options.
	forms := defs["metric"].(map[string]any)["anyOf"].([]any)
	short, long := forms[0].(map[string]any), forms[1].(map[string]any)
	types := cat.types()
	if len(types) > 0 {
		short["enum"] = types
		long["properties"].(map[string]any)["type"].(map[string]any)["enum"] = types
	}
	var perType []any
	for _, typ := range types {
		props := map[string]any{"name": map[string]any{}, "type": map[string]any{}, "targets": map[string]any{}}
		if cat.optionKeys != nil {
			for _, k := range cat.optionKeys(typ) {
				props[k] = map[string]any{"description": "An option of the " + typ + " metric."}
			}
		}
		then := map[string]any{"properties": props}
		if cat.optionKeys != nil {
			then["additionalProperties"] = false
		}
		perType = append(perType,
			map[string]any{
				"if":   map[string]any{"required": []string{"type"}, "properties": map[string]any{"type": map[string]any{"const": typ}}},
				"then": then,
			},
			map[string]any{
				"if":   map[string]any{"not": map[string]any{"required": []string{"type"}}, "properties": map[string]any{"name": map[string]any{"const": typ}}},
				"then": then,
			})
	}
	if len(perType) > 0 {
		long["allOf"] = perType
	}

	// Targets: keys that only some providers accept, and command's command.
	var perProvider []any
	for _, p := range Providers {
		forbidden := map[string]any{}
		for key, allowed := range providerOnly {
			if !slices.Contains(allowed, p) {
				forbidden[key] = false
			}
		}
		then := map[string]any{"properties": forbidden}
		if p == ProviderCommand {
			then["required"] = []string{"command"}
		}
		perProvider = append(perProvider, map[string]any{
			"if":   map[string]any{"required": []string{"provider"}, "properties": map[string]any{"provider": map[string]any{"const": p}}},
			"then": then,
		})
	}
	defs["target"].(map[string]any)["allOf"] = perProvider

	out, err := json.MarshalIndent(root, "", "  ")
	if err != nil {
		panic("suite: schema: " + err.Error())
	}
	return append(out, '\n')
}
