// Package elastic checks an Elasticsearch cluster through its cluster health
// API, for heartbeat's readiness (or startup) probe.
//
// The receiver talks through Transport, the one-method interface that
// *elasticsearch.Client of go-elasticsearch v8 and v9 both satisfy, so this
// package imports neither: users keep whichever client major version their
// cluster needs.
//
//	es, err := elasticsearch.NewClient(elasticsearch.Config{
//		Addresses:     []string{"https://es.example.org:9200"},
//		Username:      "heartbeat",
//		Password:      os.Getenv("ES_PASSWORD"),
//		RetryOnStatus: []int{502, 504}, // do not hide a 503 behind three retries
//	})
//	if err != nil {
//		// NewClient prints a malformed address with its password.
//		log.Fatal(redact.Error(err, os.Getenv("ES_PASSWORD")))
//	}
//	bus.Subscribe(signal.Readiness, elastic.New(es))
//
// The check is GET /_cluster/health. Elasticsearch answers HTTP 200 for red
// as well as green, so the receiver reads the colour from the body: green is
// ready, yellow is ready unless WithYellowReady(false), anything else fails.
// Errors read as one line, "401 security_exception: missing authentication
// credentials ...", masked by package redact together with whatever
// credential the transport put on the request.
// A shared cluster belongs on readiness, never liveliness: an outage would
// otherwise restart every pod at once and fix nothing. docs/receivers.md
// lists the failure modes and the client settings that suit a health check.
package elastic

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/oarepo/heartbeat/internal/backend"
	"github.com/oarepo/heartbeat/redact"
	"github.com/oarepo/heartbeat/signal"
)

// Transport sends one request to Elasticsearch. *elasticsearch.Client of
// go-elasticsearch v8 and v9 implement it: they fill in the node's address
// and credentials, so the receiver passes a request with a path only. Any
// other implementation must do the same.
type Transport interface {
	Perform(*http.Request) (*http.Response, error)
}

// maxBody bounds what the receiver reads of an answer: a health body is
// under 1 KiB, and a misbehaving proxy must not make a probe read forever.
const maxBody = 1 << 20

// New returns a receiver that asks t for the cluster health. It answers by
// the context deadline even when t does not honour the context, and never
// has more than one request in flight: a probe that arrives while an earlier
// request still hangs waits for it instead of sending another.
func New(t Transport, opts ...Option) signal.Receiver {
	c := &check{config: defaults(), t: t}
	for _, o := range opts {
		o(&c.config)
	}
	c.flight.Addr = c.node
	return c.run
}

// check is one receiver's state: its settings, the call in flight, and what
// earlier requests taught it about the node and its credentials.
type check struct {
	config
	t      Transport
	flight backend.Flight[answer]

	mu      sync.Mutex
	addr    string   // host:port of the node last asked, for timeout diagnosis
	learned []string // credentials the transport put on its requests
}

func (c *check) run(ctx context.Context) signal.Reply {
	start := time.Now()
	budget := time.Duration(0)
	if d, ok := ctx.Deadline(); ok {
		budget = time.Until(d)
	}
	target := c.target(budget)
	// The flight runs the request in its own goroutine, so a transport that
	// ignores the context cannot hold the probe past its deadline; only the
	// I/O runs there. Decoding in this goroutine, whose stack has already
	// grown, halves the receiver's own CPU cost.
	a, err := c.flight.Do(ctx, func(ctx context.Context) (answer, error) {
		return c.perform(ctx, target)
	})
	if err != nil {
		return c.reply(start, nil, err)
	}
	o := c.judge(a.code, a.body)
	return c.reply(start, o.health, o.err)
}

// target is the request URL, path and query only; the transport adds the
// node. With a deadline, master_timeout makes a cluster without a master
// answer 503 in time instead of waiting its default 30 s, and timeout bounds
// wait_for_status; both get three quarters of the budget so the answer
// arrives before the probe gives up.
func (c *check) target(budget time.Duration) *url.URL {
	u := &url.URL{Path: "/_cluster/health"}
	if c.index != "" {
		u.Path += "/" + c.index
		// Send patterns as written (records-*), as go-elasticsearch does;
		// url.URL falls back to escaping when the name needs it.
		u.RawPath = u.Path
	}
	q := url.Values{}
	if budget > 0 {
		server := strconv.FormatInt(max(int64(budget*3/4/time.Millisecond), 1), 10) + "ms"
		q.Set("master_timeout", server)
		if c.waitForStatus != "" {
			q.Set("timeout", server)
		}
	}
	if c.waitForStatus != "" {
		q.Set("wait_for_status", c.waitForStatus)
	}
	u.RawQuery = q.Encode()
	return u
}

// outcome is what the check learned: the health body when there was one,
// and why the check failed, if it did.
type outcome struct {
	health *health
	err    error
}

// answer is what came back over the wire.
type answer struct {
	code int
	body []byte
}

func (c *check) perform(ctx context.Context, target *url.URL) (answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target.String(), nil)
	if err != nil {
		return answer{}, fmt.Errorf("building the request: %w", err)
	}
	res, err := c.t.Perform(req)
	// The transport has filled in the node and the credentials; remember
	// them to explain a later timeout and to mask the credentials wherever
	// an error or a proxy's page repeats them.
	c.learn(req)
	if err != nil {
		return answer{}, transportError(target.Path, err)
	}
	defer func() {
		// Drain a little so the connection can be reused, then close.
		_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
		_ = res.Body.Close()
	}()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxBody))
	if err != nil {
		return answer{}, fmt.Errorf("%d reading the answer: %w", res.StatusCode, err)
	}
	return answer{code: res.StatusCode, body: body}, nil
}

// reply builds the check's reply; h may be nil, err is nil on success.
func (c *check) reply(start time.Time, h *health, err error) signal.Reply {
	data := map[string]any{"time": time.Since(start).Seconds()}
	if h != nil {
		h.fill(data)
	}
	if err != nil {
		c.mu.Lock()
		secrets := append(slices.Clone(c.secrets), c.learned...)
		c.mu.Unlock()
		data["error"] = redact.Error(err, secrets...)
	}
	return signal.Reply{Name: c.name, Status: err == nil, Data: data}
}

func (c *check) learn(req *http.Request) {
	host, scheme := req.URL.Host, req.URL.Scheme
	secrets := credentials(req.Header.Get("Authorization"))
	c.mu.Lock()
	defer c.mu.Unlock()
	if host != "" {
		c.addr = hostPort(host, scheme)
	}
	for _, s := range secrets {
		if s != "" && !slices.Contains(c.learned, s) {
			c.learned = append(c.learned, s)
		}
	}
}

// node is the host:port of the node last asked, or "" before the first
// request has reached the transport.
func (c *check) node() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.addr
}

// credentials are the secrets in an Authorization value: the key of
// ApiKey, the token of Bearer, and for Basic both the encoded pair and the
// password in it.
func credentials(auth string) []string {
	scheme, value, ok := strings.Cut(auth, " ")
	if !ok {
		return nil
	}
	if strings.EqualFold(scheme, "Basic") {
		if raw, err := base64.StdEncoding.DecodeString(value); err == nil {
			_, pw, _ := strings.Cut(string(raw), ":")
			return []string{value, pw}
		}
	}
	return []string{value}
}

func hostPort(host, scheme string) string {
	if _, _, err := net.SplitHostPort(host); err == nil {
		return host
	}
	if scheme == "https" {
		return net.JoinHostPort(host, "443")
	}
	return net.JoinHostPort(host, "80")
}

// errUnknownProduct is the go-elasticsearch product-check message. The
// client reports it as a bare string, so it is recognised by its text.
const errUnknownProduct = "the server is not Elasticsearch"

func transportError(path string, err error) error {
	// net/http names the full URL, query included; the clients that unwrap
	// it do not. Drop it so every transport reads the same and nothing in a
	// query string can leak; the path says what failed, the cause says why.
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	switch {
	case strings.Contains(err.Error(), errUnknownProduct):
		return fmt.Errorf("GET %s: %w (the answer lacked the X-Elastic-Product: Elasticsearch header: "+
			"is this OpenSearch, or a proxy that drops headers?)", path, err)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("GET %s: %w (the connection closed before an answer)", path, err)
	}
	return fmt.Errorf("GET %s: %w", path, err)
}
