// Package pricing is the embedded model catalog: per model id the price per
// million tokens, the context window and input modalities, with the source and
// date of each price. An unknown model has no price: its cost is unknown, never 0.
package pricing

import (
	"bytes"
	"cmp"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
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

// CacheSaving is what prompt caching saved on u, in USD: its cache-read and
// cache-write tokens at the input price minus what they cost at the cache
// prices. Writes cost more than input on most models, so a run that writes
// the cache more than it reads it saves less than nothing.
func (p Price) CacheSaving(u provider.Usage) float64 {
	return (float64(u.CacheReadTokens)*(p.InputPerMTok-p.CacheReadPerMTok) +
		float64(u.CacheWriteTokens)*(p.InputPerMTok-p.CacheWritePerMTok)) / 1e6
}

// CachesPrompts reports whether the price has a cache-read rate. It is how
// evalgate decides that a Bedrock model supports prompt caching: the models
// Bedrock caches for are the ones it prices cache reads for, and a model the
// catalog does not know opts in with targets[].pricing.cache_read_per_mtok.
func (p Price) CachesPrompts() bool { return p.CacheReadPerMTok > 0 }

// Model is one catalog entry.
type Model struct {
	ID       string `json:"id"`
	Provider string `json:"provider"`
	Price    Price  `json:"price"`
	// Batch is the price of the service's batch mode (asynchronous, usually
	// half); nil where the service has none or it is not known.
	Batch         *Price   `json:"batch,omitempty"`
	ContextWindow int      `json:"context_window"`
	Modalities    []string `json:"modalities"`
	Source        string   `json:"source"`
	AsOf          string   `json:"as_of"`
}

// BatchShare is the share of the on-demand price a batch call is taken to
// cost where the catalog has no batch price of its own: Bedrock prices batch
// inference at 50% of on-demand for the models it publishes batch prices
// for (https://aws.amazon.com/bedrock/pricing/).
const BatchShare = 0.5

// BatchPrice is what a call costs in the service's batch mode: the
// catalog's batch price, or (estimated true) BatchShare of the on-demand
// input and output prices. Batch jobs read no prompt cache, so the
// estimate has no cache prices.
func (m Model) BatchPrice() (p Price, estimated bool) {
	if m.Batch != nil {
		return *m.Batch, false
	}
	return Price{InputPerMTok: m.Price.InputPerMTok * BatchShare, OutputPerMTok: m.Price.OutputPerMTok * BatchShare}, true
}

//go:embed catalog.json
var catalogJSON []byte

var catalog = mustParse(catalogJSON)

// Catalog is a set of model entries: the embedded one, or one a user's
// --pricing file extends or replaces.
type Catalog struct {
	models map[string]Model
}

// Embedded returns the catalog built into evalgate.
func Embedded() *Catalog { return &Catalog{models: catalog} }

// File is the shape of a --pricing file: a JSON list of entries in the
// embedded catalog's shape extends it (an entry with an id the catalog has
// replaces that entry); {"replace": true, "models": [...]} replaces it whole.
type File struct {
	Replace bool    `json:"replace"`
	Models  []Model `json:"models"`
}

// LoadFile reads a --pricing file and returns base extended or replaced by it.
func LoadFile(path string, base *Catalog) (*Catalog, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("pricing file: %w", err)
	}
	var f File
	trimmed := bytes.TrimSpace(b)
	switch {
	case len(trimmed) > 0 && trimmed[0] == '[':
		err = json.Unmarshal(trimmed, &f.Models)
	default:
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		dec.DisallowUnknownFields()
		err = dec.Decode(&f)
	}
	if err != nil {
		return nil, fmt.Errorf("pricing file %s: %w; write a JSON list of models like the catalog's entries, or {\"replace\": true, \"models\": [...]}", path, err)
	}
	out := &Catalog{models: map[string]Model{}}
	if !f.Replace {
		maps.Copy(out.models, base.models)
	}
	seen := map[string]bool{}
	for i, m := range f.Models {
		if err := checkEntry(m); err != nil {
			return nil, fmt.Errorf("pricing file %s: models[%d]: %w", path, i, err)
		}
		if seen[m.ID] {
			return nil, fmt.Errorf("pricing file %s: model %s listed twice; keep one entry", path, m.ID)
		}
		seen[m.ID] = true
		out.models[m.ID] = m
	}
	return out, nil
}

// checkEntry rejects an entry that would price calls wrongly or silently.
func checkEntry(m Model) error {
	switch {
	case m.ID == "":
		return errors.New("no id; give the model id as the provider spells it")
	case m.Price.InputPerMTok < 0 || m.Price.OutputPerMTok < 0 || m.Price.CacheReadPerMTok < 0 || m.Price.CacheWritePerMTok < 0:
		return fmt.Errorf("model %s: a price is negative", m.ID)
	case m.Price.InputPerMTok == 0 && m.Price.OutputPerMTok == 0:
		return fmt.Errorf("model %s: price.input_per_mtok and price.output_per_mtok are both 0 or missing; give the USD per million tokens", m.ID)
	case m.ContextWindow < 0:
		return fmt.Errorf("model %s: context_window is negative", m.ID)
	}
	return nil
}

// Lookup finds a model by id, as the package's Lookup does in the embedded
// catalog.
func (c *Catalog) Lookup(id string) (Model, bool) { return lookup(c.models, id) }

// List returns the entries f selects, by provider then id.
func (c *Catalog) List(f Filter) []Model { return list(c.models, f) }

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
func Lookup(id string) (Model, bool) { return lookup(catalog, id) }

func lookup(catalog map[string]Model, id string) (Model, bool) {
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
func List(f Filter) []Model { return list(catalog, f) }

func list(catalog map[string]Model, f Filter) []Model {
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

// Projection is the mean call of a run, whose tokens project each model's
// cost per 1,000 calls.
type Projection struct {
	InputTokens, OutputTokens float64
}

// PerThousand is what 1,000 calls of the projected mean call cost on price:
// tokens x USD per million tokens / 1e6 x 1,000.
func (p Projection) PerThousand(price Price) float64 {
	return (p.InputTokens*price.InputPerMTok + p.OutputTokens*price.OutputPerMTok) / 1e3
}

// WriteComparison renders models side by side for `evalgate models
// --compare`: context window, modalities, prices and, with a projection, the
// cost of 1,000 calls.
func WriteComparison(w io.Writer, models []Model, p *Projection) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := "MODEL\tPROVIDER\tCONTEXT\tMODALITIES\tINPUT $/MTOK\tOUTPUT $/MTOK\tBATCH IN/OUT\tAS OF"
	if p != nil {
		head += "\t$ PER 1K CALLS"
	}
	fmt.Fprintln(tw, head)
	for _, m := range models {
		batch := "-"
		if b := m.Batch; b != nil {
			batch = usd(b.InputPerMTok) + "/" + usd(b.OutputPerMTok)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s", m.ID, m.Provider, tokens(m.ContextWindow),
			strings.Join(m.Modalities, ","), usd(m.Price.InputPerMTok), usd(m.Price.OutputPerMTok), batch, m.AsOf)
		if p != nil {
			fmt.Fprintf(tw, "\t%.4f", p.PerThousand(m.Price))
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write model comparison: %w", err)
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
