package openai_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/evalgate/evalgate/internal/provider/openai"
	"github.com/evalgate/evalgate/internal/provider/providertest"
)

// openaiErrors are the error codes an OpenAI-compatible server sends with
// each status.
var openaiErrors = map[int]string{
	http.StatusTooManyRequests:     "rate_limit_exceeded",
	http.StatusInternalServerError: "server_error",
	http.StatusBadGateway:          "bad_gateway",
	http.StatusServiceUnavailable:  "overloaded",
	http.StatusTeapot:              "teapot",
}

func TestConformance(t *testing.T) {
	t.Parallel()
	providertest.Run(t, providertest.Adapter{
		New: func(t *testing.T, srv *httptest.Server) providertest.Completer {
			c, err := openai.New(openai.Options{
				BaseURL:    srv.URL + prefix,
				APIKeyEnv:  testKeyEnv,
				Getenv:     env(map[string]string{testKeyEnv: testKey}),
				HTTPClient: srv.Client(),
			})
			if err != nil {
				t.Fatal(err)
			}
			return c
		},
		Request: fullRequest(),
		Answer: func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(completionJSON))
		},
		Text:     "Five business days.",
		Fail:     func(w http.ResponseWriter, status int) { writeError(w, status, openaiErrors[status], "failed") },
		Truncate: func(w http.ResponseWriter) { truncatesBody().respond(w, nil, 0) },
		Secret:   testKey,
	})
}
