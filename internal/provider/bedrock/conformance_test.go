package bedrock_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/evalgate/evalgate/internal/provider/bedrock"
	"github.com/evalgate/evalgate/internal/provider/bedrock/bedrockfake"
	"github.com/evalgate/evalgate/internal/provider/providertest"
)

// bedrockErrors are the exception names Bedrock sends with each status.
var bedrockErrors = map[int]string{
	http.StatusTooManyRequests:     "ThrottlingException",
	http.StatusInternalServerError: "InternalServerException",
	http.StatusBadGateway:          "BadGateway",
	http.StatusServiceUnavailable:  "ServiceUnavailableException",
	http.StatusTeapot:              "Teapot",
}

func TestConformance(t *testing.T) {
	t.Parallel()
	providertest.Run(t, providertest.Adapter{
		New: func(t *testing.T, srv *httptest.Server) providertest.Completer {
			c, err := bedrock.New(t.Context(), bedrock.Options{
				Region: testRegion, Endpoint: srv.URL + prefix, HTTPClient: awshttp.NewBuildableClient(),
				Credentials:   credentials.NewStaticCredentialsProvider(testKeyID, testSecret, ""),
				ConfigOptions: testConfig,
			})
			if err != nil {
				t.Fatal(err)
			}
			return c
		},
		Request: fullRequest(),
		Answer:  func(w http.ResponseWriter) { bedrockfake.WriteConverse(w, bedrockfake.Reply{Text: "finally"}) },
		Text:    "finally",
		Fail: func(w http.ResponseWriter, status int) {
			bedrockfake.WriteError(w, status, bedrockErrors[status], "failed with "+http.StatusText(status))
		},
		Truncate: func(w http.ResponseWriter) { truncatesBody().respond(w, nil, 0) },
		Secret:   testSecret,
	})
}
