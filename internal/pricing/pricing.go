// Package pricing is the embedded model catalog: per model id the price per
// million tokens, the context window and input modalities, with the source and
// date of each price. An unknown model has no price: its cost is unknown, never 0.
package pricing

import (
	"cmp"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

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
	m, err := parse(b)
	if err != nil {
		panic(fmt.Sprintf("pricing: embedded catalog.json: %v", err)) // a build defect, caught by tests
	}
	return m
}

func parse(b []byte) (map[string]Model, error) {
	var models []Model
	if err := json.Unmarshal(b, &models); err != nil {
		return nil, err
	}
	m := make(map[string]Model, len(models))
	for _, x := range models {
		if _, dup := m[x.ID]; dup {
			return nil, fmt.Errorf("model %s listed twice", x.ID)
		}
		m[x.ID] = x
	}
	return m, nil
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

// Filter selects catalog entries; its zero value selects all.
type Filter struct {
	// Query is a case-insensitive substring of the model id.
	Query string
	// Provider is "bedrock" or "openai".
	Provider string
	// Modality is an input modality the model must accept ("image").
	Modality string
	// MinContext is the smallest context window accepted, in tokens.
	MinContext int
}

func (f Filter) match(m Model) bool {
	return strings.Contains(strings.ToLower(m.ID), strings.ToLower(f.Query)) &&
		(f.Provider == "" || strings.EqualFold(m.Provider, f.Provider)) &&
		(f.Modality == "" || slices.ContainsFunc(m.Modalities, func(x string) bool { return strings.EqualFold(x, f.Modality) })) &&
		m.ContextWindow >= f.MinContext
}

// List returns the catalog entries f selects, by provider then id.
func List(f Filter) []Model {
	var out []Model
	for _, m := range catalog {
		if f.match(m) {
			out = append(out, m)
		}
	}
	slices.SortFunc(out, func(a, b Model) int {
		return cmp.Or(cmp.Compare(a.Provider, b.Provider), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// WriteTable renders models as an aligned text table, prices in USD per
// million tokens, for `evalgate models`.
func WriteTable(w io.Writer, models []Model) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "MODEL\tPROVIDER\tINPUT $/MTOK\tOUTPUT $/MTOK\tCACHE READ\tCACHE WRITE\tCONTEXT\tMODALITIES\tAS OF")
	for _, m := range models {
		p := m.Price
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.ID, m.Provider,
			usd(p.InputPerMTok), usd(p.OutputPerMTok), usd(p.CacheReadPerMTok), usd(p.CacheWritePerMTok),
			tokens(m.ContextWindow), strings.Join(m.Modalities, ","), m.AsOf)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write model table: %w", err)
	}
	return nil
}

// usd writes a price with at least two decimals and no rounding; "-" for none.
func usd(v float64) string {
	if v == 0 {
		return "-"
	}
	s := strconv.FormatFloat(v, 'f', -1, 64)
	whole, frac, _ := strings.Cut(s, ".")
	for len(frac) < 2 {
		frac += "0"
	}
	return whole + "." + frac
}

// tokens writes a context window as 128K or 1.05M.
func tokens(n int) string {
	switch {
	case n >= 1_000_000:
		return strconv.FormatFloat(math.Round(float64(n)/1e4)/100, 'f', -1, 64) + "M"
	case n >= 1000:
		return strconv.Itoa(n/1000) + "K"
	default:
		return strconv.Itoa(n)
	}
}
