package report

import (
	"html/template"
	"math"
	"strings"
	"testing"

	"github.com/evalgate/evalgate/internal/suite"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The page was written by html/template; put must escape every value as it
// did, in text, in RCDATA (<title>) and in quoted attribute values, so the
// escaping stays as safe and the page byte for byte the same. html/template
// is the oracle here only: tests are not in the binary.
func TestPutMatchesHTMLTemplate(t *testing.T) {
	t.Parallel()
	tmpl := template.Must(template.New("").Parse(`<p title="{{.}}" data-x="{{.}}">{{.}}</p><title>{{.}}</title>`))
	values := []any{
		"",
		"plain text",
		pwn,
		`<script>alert(1)</script>`,
		`"><img src=x onerror=alert(1)>`,
		`' onmouseover='alert(1)`,
		"a+b=c & d; +ADw-script+AD4-",
		"NUL\x00in the middle\x00",
		"&amp; already &#39;escaped&#34; &lt;",
		"</title><script>x</script>",
		"`backtick` = {{.}} %s %v %%",
		"invalid utf-8 \xff\xfe\xc3 and ok é ü 日本",
		"\ufdd0 \ufffe \uffff noncharacters",
		"\u2028\u2029\u202e bidi and separators",
		"tab\tnewline\ncarriage\r",
		suite.Mode("<mode>"),
		0, 42, -7,
		0.1, 353.33333333333337, -0.0, 1e21, 1e-7, 123456789.0,
		math.NaN(), math.Inf(1), math.Inf(-1),
		true,
	}
	for _, v := range values {
		var want strings.Builder
		require.NoError(t, tmpl.Execute(&want, v))
		var got htmlWriter
		got.put(`<p title="%v" data-x="%v">%v</p><title>%v</title>`, v, v, v, v)
		assert.Equal(t, want.String(), got.String(), "%q", v)
	}
}

func TestEscapeHTML(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`<a href="x">'b' & c+d</a>`: `&lt;a href=&#34;x&#34;&gt;&#39;b&#39; &amp; c&#43;d&lt;/a&gt;`,
		"nul\x00":                   "nul\uFFFD",
		"é 日本":                      "é 日本",
	} {
		assert.Equal(t, want, escapeHTML(in), in)
	}
}
