package bedrock

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/evalgate/evalgate/internal/provider"
)

// credentialsMarker wraps the credential chain so that a failure to find or
// refresh credentials is told apart from every other error: the SDK reports
// it only as text ("get identity: ...").
type credentialsMarker struct{ inner aws.CredentialsProvider }

func (m credentialsMarker) Retrieve(ctx context.Context) (aws.Credentials, error) {
	c, err := m.inner.Retrieve(ctx)
	if err != nil {
		return c, &credentialsError{err: err}
	}
	return c, nil
}

type credentialsError struct{ err error }

func (e *credentialsError) Error() string { return "retrieve aws credentials: " + e.err.Error() }
func (e *credentialsError) Unwrap() error { return e.err }

// credentialsHelp says where the default chain looks. It names variables,
// never their values.
const credentialsHelp = "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), " +
	"AWS_PROFILE, AWS_BEARER_TOKEN_BEDROCK, or assume a role with aws-actions/configure-aws-credentials"

// Error codes of the Bedrock runtime API and the AWS auth layer, by what the
// run engine should do about them.
// https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html#API_runtime_Converse_Errors
var codeKinds = map[string]provider.ErrorKind{
	"ThrottlingException":           provider.KindThrottled,
	"ServiceQuotaExceededException": provider.KindThrottled,
	"TooManyRequestsException":      provider.KindThrottled,

	"InternalServerException":     provider.KindTransient,
	"ServiceUnavailableException": provider.KindTransient,
	"ModelNotReadyException":      provider.KindTransient,
	"ModelTimeoutException":       provider.KindTransient,
	"ModelStreamErrorException":   provider.KindTransient,
	// Raised by OptimizePrompt's stream when a service behind it fails.
	"BadGatewayException":       provider.KindTransient,
	"DependencyFailedException": provider.KindTransient,

	"AccessDeniedException":       provider.KindAuth,
	"UnrecognizedClientException": provider.KindAuth,
	"ExpiredTokenException":       provider.KindAuth,
	"ExpiredToken":                provider.KindAuth,
	"InvalidSignatureException":   provider.KindAuth,
	"IncompleteSignature":         provider.KindAuth,
	"MissingAuthenticationToken":  provider.KindAuth,
	"InvalidClientTokenId":        provider.KindAuth,
	"SignatureDoesNotMatch":       provider.KindAuth,
	"NotAuthorized":               provider.KindAuth,
	"AccessDenied":                provider.KindAuth,
	"ValidationException":         provider.KindInvalidRequest,
	"ResourceNotFoundException":   provider.KindInvalidRequest,
	"ModelErrorException":         provider.KindOther,
	"ConflictException":           provider.KindInvalidRequest,
}

// classify turns an SDK error into a *provider.Error whose message says what
// to change where the user can change something.
func (c *Client) classify(ctx context.Context, model string, err error) error {
	e := &provider.Error{Provider: Name, Kind: provider.KindOther, Err: fmt.Errorf("model %s: %w", model, err)}

	var credErr *credentialsError
	var apiErr smithy.APIError
	switch {
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		// The run was cancelled: nothing to retry, nothing wrong with the model.
		return e
	case errors.As(err, &credErr):
		e.Kind = provider.KindAuth
		e.Err = fmt.Errorf("model %s: no usable aws credentials in region %s (%s): %w", model, c.region, credentialsHelp, credErr.err)
		return e
	case errors.As(err, &apiErr):
		code := apiErr.ErrorCode()
		kind, known := codeKinds[code]
		if !known {
			kind = provider.KindOfStatus(statusOf(err))
		}
		e.Kind = kind
		switch {
		case kind == provider.KindThrottled:
			e.RetryAfter = retryAfterOf(err)
		case kind == provider.KindAuth:
			e.Err = fmt.Errorf("model %s in region %s: %s: %s (the caller needs bedrock:InvokeModel and "+
				"bedrock:InvokeModelWithResponseStream on the model or inference profile, and model access "+
				"enabled in the Bedrock console; otherwise %s): %w",
				model, c.region, code, apiErr.ErrorMessage(), credentialsHelp, err)
		case code == "ValidationException" && strings.Contains(apiErr.ErrorMessage(), "on-demand throughput"):
			e.Err = fmt.Errorf("model %s cannot be called on demand in %s; use an inference profile id "+
				"such as %q (list them with `aws bedrock list-inference-profiles`): %w",
				model, c.region, profileFor(c.region)+model, err)
		}
		return e
	}

	if isTransport(err) {
		e.Kind = provider.KindTransient
		return e
	}
	var respErr *awshttp.ResponseError
	if errors.As(err, &respErr) {
		e.Kind = provider.KindOfStatus(respErr.HTTPStatusCode())
		if e.Kind == provider.KindThrottled {
			e.RetryAfter = retryAfterOf(err)
		}
		return e
	}
	return e
}

// isTransport reports failures of the connection or of the response body:
// timeouts, resets, truncated or garbled bodies. The request may succeed when
// sent again.
func isTransport(err error) bool {
	var (
		sendErr  *smithyhttp.RequestSendError
		deserErr *smithy.DeserializationError
		netErr   net.Error
	)
	return errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, io.EOF) ||
		errors.As(err, &sendErr) ||
		errors.As(err, &deserErr) ||
		errors.As(err, &netErr)
}

func statusOf(err error) int {
	var respErr *awshttp.ResponseError
	if errors.As(err, &respErr) {
		return respErr.HTTPStatusCode()
	}
	return 0
}

// retryAfterOf reads a Retry-After header (seconds or an HTTP date) from the
// response behind err. Bedrock seldom sends one; proxies in front of it do.
func retryAfterOf(err error) time.Duration {
	var respErr *awshttp.ResponseError
	if !errors.As(err, &respErr) || respErr.Response == nil {
		return 0
	}
	wait, _ := provider.ParseRetryAfter(respErr.Response.Header.Get("Retry-After"), time.Now())
	return wait
}

// profileFor is the cross-region inference profile prefix of a region.
// https://docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-support.html
func profileFor(region string) string {
	switch {
	case strings.HasPrefix(region, "us-gov-"):
		return "us-gov."
	case strings.HasPrefix(region, "us-"), strings.HasPrefix(region, "ca-"):
		return "us."
	case strings.HasPrefix(region, "eu-"):
		return "eu."
	case strings.HasPrefix(region, "ap-"):
		return "apac."
	default:
		return "global."
	}
}
