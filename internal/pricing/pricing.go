// Package pricing is the embedded model catalog: per model id the price per
// million tokens, the context window and input modalities, with the source and
// date of each price. An unknown model has no price: its cost is unknown, never 0.
package pricing

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/evalgate/evalgate/internal/provider"
)

// Price is what one model costs, in USD per million tokens.
type Price struct {
	InputPerMTok      float64 `json:"input_per_mtok"`
	OutputPerMTok     float64 `json:"output_per_mtok"`
	CacheReadPerMTok  float64 `json:"cache_read_per_mtok,omitempty"`
	CacheWritePerMTok float64 `json:"cache_write_per_mtok,omitempty"`
}

// Cost is the USD cost of one call's usage.
func (p Price) Cost(u provider.Usage) float64 {
	return (float64(u.InputTokens)*p.InputPerMTok +
		float64(u.OutputTokens)*p.OutputPerMTok +
		float64(u.CacheReadTokens)*p.CacheReadPerMTok +
		float64(u.CacheWriteTokens)*p.CacheWritePerMTok) / 1e6
}

// Model is one catalog entry.
type Model struct {
	ID            string   `json:"id"`
	Provider      string   `json:"provider"`
	Price         Price    `json:"price"`
	ContextWindow int      `json:"context_window"`
	Modalities    []string `json:"modalities"`
	Source        string   `json:"source"`
	AsOf          string   `json:"as_of"`
}

//go:embed catalog.json
var catalogJSON []byte

var catalog = mustParse(catalogJSON)

func mustParse(b []byte) map[string]Model {
	var models []Model
	if err := json.Unmarshal(b, &models); err != nil {
		panic(fmt.Sprintf("pricing: embedded catalog.json: %v", err)) // a build defect, caught by tests
	}
	m := make(map[string]Model, len(models))
	for _, x := range models {
		m[x.ID] = x
	}
	return m
}

// Lookup finds a model by id. Bedrock inference profile ids (us., eu., apac.,
// global.) find the base model's entry.
func Lookup(id string) (Model, bool) {
	if m, ok := catalog[id]; ok {
		return m, true
	}
	for _, p := range []string{"us.", "eu.", "apac.", "global.", "us-gov.", "jp.", "au."} {
		if rest, ok := strings.CutPrefix(id, p); ok {
			if m, ok := catalog[rest]; ok {
				m.ID = id
				return m, true
			}
		}
	}
	return Model{}, false
}
