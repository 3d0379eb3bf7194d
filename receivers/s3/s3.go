package s3

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/oarepo/heartbeat/internal/backend"
	"github.com/oarepo/heartbeat/redact"
	"github.com/oarepo/heartbeat/signal"
)

// Client is what the receiver needs of an S3 client; a *minio.Client has
// it. The receiver finds the endpoint and the credentials to scrub through
// the EndpointURL and GetCreds methods of *minio.Client, by type assertion.
type Client interface {
	BucketExists(ctx context.Context, bucket string) (bool, error)
}

// Option configures a receiver made by New.
type Option func(*config)

type config struct {
	name    string
	secrets []string
}

// WithName sets the reply's name, the key of the check in the probe's
// response. The default is "s3".
func WithName(name string) Option {
	return func(c *config) { c.name = name }
}

// WithSecrets adds strings that must never appear in the reply. The secret
// key and session token of a *minio.Client's credentials are added
// automatically. The default is none.
func WithSecrets(secrets ...string) Option {
	return func(c *config) { c.secrets = append(c.secrets, secrets...) }
}

// New returns a receiver that asks c whether bucket exists (one HEAD
// request) and passes when it does.
func New(c Client, bucket string, opts ...Option) signal.Receiver {
	cfg := config{name: "s3"}
	for _, o := range opts {
		o(&cfg)
	}

	var flight backend.Flight[[]string]
	if e, ok := c.(interface{ EndpointURL() *url.URL }); ok {
		if addr := hostPort(e.EndpointURL()); addr != "" {
			flight.Addr = func() string { return addr }
		}
	}
	creds, _ := c.(interface {
		GetCreds() (credentials.Value, error)
	})

	call := func(ctx context.Context) ([]string, error) {
		ok, err := c.BucketExists(ctx, bucket)
		if err == nil && ok {
			return nil, nil
		}
		// The credentials the request was signed with are the secrets
		// to scrub. They are fetched only on failure, when the
		// provider has just handed them to the signer, so a provider
		// that fetches them over the network answers from its cache.
		var secrets []string
		if creds != nil {
			if v, cerr := creds.GetCreds(); cerr == nil {
				secrets = []string{v.SecretAccessKey, v.SessionToken}
			}
		}
		if err != nil {
			return secrets, explain(bucket, err)
		}
		return secrets, fmt.Errorf("bucket %q does not exist", bucket)
	}

	return func(ctx context.Context) signal.Reply {
		start := time.Now()
		secrets, err := flight.Do(ctx, call)
		elapsed := time.Since(start)
		if err != nil {
			return signal.Reply{Name: cfg.name, Status: false, Data: map[string]any{
				"error": redact.Error(err, append(secrets, cfg.secrets...)...),
			}}
		}
		return signal.Reply{Name: cfg.name, Status: true, Data: map[string]any{
			"time":   elapsed.Seconds(),
			"bucket": bucket,
		}}
	}
}

// explain makes an S3 error response readable: a HEAD answer has no body,
// so minio-go knows only the status, and "Access Denied." alone does not
// say that the keys are the first suspect.
func explain(bucket string, err error) error {
	var er minio.ErrorResponse
	if !errors.As(err, &er) || er.Code == "" {
		return fmt.Errorf("bucket %q: %w", bucket, err)
	}
	switch er.Code {
	case minio.AccessDenied, "SignatureDoesNotMatch", "InvalidAccessKeyId":
		return fmt.Errorf("bucket %q: %s (%s, HTTP %d): the access key or secret key is wrong, or the key may not read this bucket",
			bucket, er.Error(), er.Code, er.StatusCode)
	}
	return fmt.Errorf("bucket %q: %s (%s, HTTP %d)", bucket, er.Error(), er.Code, er.StatusCode)
}

// hostPort is the host:port of an endpoint, with the scheme's default port
// when it has none.
func hostPort(u *url.URL) string {
	if u == nil || u.Host == "" {
		return ""
	}
	if u.Port() != "" {
		return u.Host
	}
	port := "443"
	if u.Scheme == "http" {
		port = "80"
	}
	return net.JoinHostPort(u.Hostname(), port)
}
