package bedrock_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go/logging"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evalgate/evalgate/internal/provider"
	"github.com/evalgate/evalgate/internal/provider/bedrock"
)

const (
	titanModel = "amazon.titan-embed-text-v2:0"
	// titanPath is InvokeModel's path under the fake endpoint's prefix.
	titanPath = "/vpce/embed/model/amazon.titan-embed-text-v2%3A0/invoke"
)

// titanServer is a Bedrock runtime that answers InvokeModel for a Titan
// embeddings model: the vector of each text is respond's; it records calls.
type titanServer struct {
	mu      sync.Mutex
	paths   []string
	auths   []string
	texts   []string
	respond func(w http.ResponseWriter, text string)
}

func (s *titanServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body struct {
		InputText string `json:"inputText"`
	}
	err := json.Unmarshal(raw, &body)
	s.mu.Lock()
	s.paths = append(s.paths, r.Method+" "+r.URL.EscapedPath()+" "+r.Header.Get("Content-Type"))
	s.auths = append(s.auths, r.Header.Get("Authorization"))
	s.texts = append(s.texts, body.InputText)
	s.mu.Unlock()
	if err != nil || r.URL.EscapedPath() != titanPath {
		w.Header().Set("X-Amzn-Errortype", "ValidationException")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"message": "unexpected request"}`)
		return
	}
	s.respond(w, body.InputText)
}

// embedsByLength embeds a text as [len, 1] and counts a token per 4 bytes.
func embedsByLength() *titanServer {
	return &titanServer{respond: func(w http.ResponseWriter, text string) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"embedding": [%d, 1], "inputTextTokenCount": %d}`, len(text), len(text)/4)
	}}
}

func titanFails(status int, code, msg string) *titanServer {
	return &titanServer{respond: func(w http.ResponseWriter, _ string) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-Errortype", code)
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"message": %q}`, msg)
	}}
}

func titanAnswers(body string) *titanServer {
	return &titanServer{respond: func(w http.ResponseWriter, _ string) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, body)
	}}
}

func newTitan(t *testing.T, s *titanServer) *bedrock.Embedder {
	t.Helper()
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	c, err := bedrock.New(t.Context(), bedrock.Options{
		Region:   "us-east-1",
		Endpoint: srv.URL + "/vpce/embed",
		// A BuildableClient, as the SDK's own, honours AWS_CA_BUNDLE when set.
		HTTPClient:  awshttp.NewBuildableClient(),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEMBEDTEST", "embed-test-secret", ""),
		ConfigOptions: []func(*config.LoadOptions) error{
			config.WithSharedConfigFiles([]string{}),
			config.WithSharedCredentialsFiles([]string{}),
			config.WithLogger(logging.Nop{}),
		},
	})
	require.NoError(t, err)
	return c.Embedder(titanModel)
}

func TestTitanEmbedsEachTextInOrder(t *testing.T) {
	t.Parallel()
	s := embedsByLength()
	e := newTitan(t, s)
	assert.Equal(t, titanModel, e.Model())
	vecs, usage, err := e.Embed(t.Context(), []string{"How long does a refund take?", "Refund?"})
	require.NoError(t, err)
	assert.Equal(t, [][]float64{{28, 1}, {7, 1}}, vecs)
	assert.Equal(t, provider.Usage{InputTokens: 7 + 1}, usage)

	require.Len(t, s.paths, 2)
	assert.Equal(t, "POST "+titanPath+" application/json", s.paths[0])
	assert.Contains(t, s.auths[0], "AWS4-HMAC-SHA256 Credential=AKIDEMBEDTEST/", "signed with the client's credentials")
	assert.Contains(t, s.auths[0], "/us-east-1/bedrock/aws4_request")
	assert.Equal(t, []string{"How long does a refund take?", "Refund?"}, s.texts)
}

func TestTitanErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		srv  *titanServer
		kind provider.ErrorKind
		msg  string
	}{
		{"throttled", titanFails(http.StatusTooManyRequests, "ThrottlingException", "Too many requests"), provider.KindThrottled, "ThrottlingException"},
		{"no access", titanFails(http.StatusForbidden, "AccessDeniedException", "not authorized"), provider.KindAuth, "bedrock:InvokeModel"},
		{"not a titan model", titanAnswers(`{"embeddings": [[1, 2]]}`), provider.KindOther, "no embedding"},
		{"garbled body", titanAnswers(`{"embedding": [1,`), provider.KindOther, "read embeddings response"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := newTitan(t, tt.srv).Embed(t.Context(), []string{"a"})
			require.Error(t, err)
			assert.Equal(t, tt.kind, provider.KindOf(err))
			assert.Contains(t, err.Error(), tt.msg)
			assert.Len(t, tt.srv.paths, 1, "the SDK makes exactly one attempt")
		})
	}
}
