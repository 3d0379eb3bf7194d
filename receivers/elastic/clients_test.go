package elastic_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/elastic/elastic-transport-go/v8/elastictransport"
	es8 "github.com/elastic/go-elasticsearch/v8"
	es9 "github.com/elastic/go-elasticsearch/v9"
	"github.com/stretchr/testify/require"

	"github.com/oarepo/heartbeat/receivers/elastic"
)

// client builds a Transport for one node address. Every test table runs
// through each of them, so the receiver is known to work with both client
// major versions and with no client library at all.
type client struct {
	name string
	// retries says whether the client retries 502/503/504 and transport
	// errors by default (go-elasticsearch does, three times, no backoff).
	retries bool
	// productCheck says whether the client refuses a 200 that lacks
	// X-Elastic-Product.
	productCheck bool
	new          func(t testing.TB, addr, user, password string, opt clientOpt) elastic.Transport
}

// clientOpt holds the client settings a test varies.
type clientOpt struct {
	disableRetry  bool
	zeroRetries   bool // MaxRetries: 0 (v8) or WithRetry(0) (v9)
	retryOnStatus []int
}

var clients = []client{
	{name: "go-elasticsearch/v8", retries: true, productCheck: true, new: newV8},
	{name: "go-elasticsearch/v9", retries: true, productCheck: true, new: newV9},
	{name: "net/http", new: newPlain},
}

func newV8(t testing.TB, addr, user, password string, opt clientOpt) elastic.Transport {
	c, err := es8.NewClient(es8.Config{
		Addresses:     []string{addr},
		Username:      user,
		Password:      password,
		DisableRetry:  opt.disableRetry,
		MaxRetries:    0, // also for opt.zeroRetries: v8 reads 0 as its default, three
		RetryOnStatus: opt.retryOnStatus,
	})
	require.NoError(t, err)
	return c
}

// newV9 uses the option constructor v9 recommends; its Config struct is
// deprecated there.
func newV9(t testing.TB, addr, user, password string, opt clientOpt) elastic.Transport {
	opts := []es9.Option{es9.WithAddresses(addr)}
	if user != "" {
		opts = append(opts, es9.WithBasicAuth(user, password))
	}
	switch {
	case opt.disableRetry:
		// es9.WithRetry(0) does not do this: zero retries means the default three.
		opts = append(opts, es9.WithTransportOptions(elastictransport.WithDisableRetry()))
	case opt.zeroRetries:
		opts = append(opts, es9.WithRetry(0))
	case opt.retryOnStatus != nil:
		opts = append(opts, es9.WithRetry(3, opt.retryOnStatus...))
	}
	c, err := es9.New(opts...)
	require.NoError(t, err)
	return c
}

func newPlain(t testing.TB, addr, user, password string, _ clientOpt) elastic.Transport {
	u, err := url.Parse(addr)
	require.NoError(t, err)
	return &plainTransport{base: u, user: user, password: password, client: &http.Client{}}
}

// plainTransport is the smallest Transport over net/http: it points the
// path-only request at the node and adds basic auth, as the official
// clients do. It shows what a user without go-elasticsearch has to write.
type plainTransport struct {
	base           *url.URL
	user, password string
	client         *http.Client
}

func (p *plainTransport) Perform(r *http.Request) (*http.Response, error) {
	r.URL.Scheme, r.URL.Host = p.base.Scheme, p.base.Host
	if p.user != "" {
		r.SetBasicAuth(p.user, p.password)
	}
	return p.client.Do(r)
}
