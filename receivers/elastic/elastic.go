// Package elastic checks an Elasticsearch or OpenSearch cluster through its
// cluster health API, for heartbeat's readiness (or startup) probe.
//
// The receiver talks through Transport, the one-method interface that
// *elasticsearch.Client of go-elasticsearch v8 and v9 and *opensearch.Client
// of opensearch-go v2 to v4 all satisfy, so this package imports none of
// them: users keep whichever client their cluster needs. A client whose
// method has another name (opensearch-go v5 drops Perform) fits through
// TransportFunc, as a function fits http.Handler through http.HandlerFunc.
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
// The check is GET /_cluster/health. Both servers answer HTTP 200 for red as
// well as green, so the receiver reads the colour from the body (in either
// case: OpenSearch may spell it GREEN): green is ready, yellow is ready
// unless WithYellowReady(false), anything else fails. Errors read as one
// line, "401 security_exception: missing authentication credentials ...",
// masked by package redact together with whatever credential the transport
// put on that request; the receiver keeps no credential between probes.
//
// The two servers name the cluster-manager timeout differently
// (master_timeout, cluster_manager_timeout), and OpenSearch 2 warns about
// the old name on every request. WithFlavor says which server it is; without
// it the receiver learns the flavour from the answers it gets anyway and
// sends neither name until it knows. See WithFlavor.
//
// A shared cluster belongs on readiness, never liveliness: an outage would
// otherwise restart every pod at once and fix nothing. docs/receivers.md
// lists the failure modes and the client settings that suit a health check.
package elastic

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oarepo/heartbeat/internal/backend"
	"github.com/oarepo/heartbeat/redact"
	"github.com/oarepo/heartbeat/signal"
)

// Transport sends one request to the cluster. *elasticsearch.Client of
// go-elasticsearch v8 and v9 and *opensearch.Client of opensearch-go v4
// implement it: they fill in the node's address and credentials, so the
// receiver passes a request with a path only. Any other implementation must
// do the same.
type Transport interface {
	Perform(*http.Request) (*http.Response, error)
}

// TransportFunc turns a function with Perform's signature into a Transport,
// for clients whose method has another name, such as opensearch-go v5's:
//
//	elastic.New(elastic.TransportFunc(client.Stream))
type TransportFunc func(*http.Request) (*http.Response, error)

// Perform calls f(r).
func (f TransportFunc) Perform(r *http.Request) (*http.Response, error) { return f(r) }

// maxBody bounds what the receiver reads of an answer: a health body is
// under 1 KiB, and a misbehaving proxy must not make a probe read forever.
const maxBody = 1 << 20

// New returns a receiver that asks t for the cluster health. It answers by
// the context deadline even when t does not honour the context, and never
// has more than one request in flight: a probe that arrives while an earlier
// request still hangs waits for it instead of sending another.
func New(t Transport, opts ...Option) signal.Receiver { return newCheck(t, opts...).run }

func newCheck(t Transport, opts ...Option) *check {
	c := &check{config: defaults(), t: t}
	for _, o := range opts {
		o(&c.config)
	}
	c.flavor.Store(int32(c.config.flavor))
	c.flight.Addr = c.node
	return c
}

// check is one receiver's state: its settings, the call in flight, and what
// earlier answers taught it about the node. Its size is fixed: it keeps the
// node's address and flavour, never a credential, so a transport that signs
// every request afresh (AWS SigV4) costs nothing per probe.
type check struct {
	config
	t      Transport
	flight backend.Flight[answer]
	flavor atomic.Int32 // a Flavor: configured, or learned from answers

	mu   sync.Mutex
	addr string // host:port of the node last asked, for timeout diagnosis
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
		// perform has already masked the credentials of its request.
		return c.reply(start, nil, err)
	}
	o := c.judge(a.code, a.body)
	c.learnFlavor(a, o)
	if o.err != nil {
		// An answer's body may repeat the credentials that were sent.
		o.err = scrubbed(o.err, a.secrets)
	}
	return c.reply(start, o.health, o.err)
}

// target is the request URL, path and query only; the transport adds the
// node. With a deadline, the cluster-manager timeout makes a cluster without
// an elected master answer 503 in time instead of waiting its default 30 s,
// and timeout bounds wait_for_status; both get three quarters of the budget
// so the answer arrives before the probe gives up. The cluster-manager
// timeout is named as the flavour names it, and left out while the flavour
// is unknown: each server refuses or warns about the other's name.
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
		switch Flavor(c.flavor.Load()) {
		case Elasticsearch:
			q.Set("master_timeout", server)
		case OpenSearch:
			q.Set("cluster_manager_timeout", server)
		}
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

// answer is what came back over the wire, with the credentials the
// transport put on the request, to mask wherever the answer repeats them.
type answer struct {
	code    int
	body    []byte
	product string // the X-Elastic-Product header
	secrets []string
}

func (c *check) perform(ctx context.Context, target *url.URL) (answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target.String(), nil)
	if err != nil {
		return answer{}, fmt.Errorf("building the request: %w", err)
	}
	res, err := c.t.Perform(req)
	// The transport has filled in the node and the credentials: keep the
	// node to explain a later timeout, and mask this request's credentials
	// in this call's error now, so that nothing needs to remember them
	// (the error may also reach a later probe as the previous failure).
	c.setNode(req)
	secrets := credentials(req.Header)
	if err != nil {
		return answer{}, scrubbed(transportError(target.Path, err), secrets)
	}
	defer func() {
		// Drain a little so the connection can be reused, then close.
		_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
		_ = res.Body.Close()
	}()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxBody))
	if err != nil {
		return answer{}, scrubbed(fmt.Errorf("%d reading the answer: %w", res.StatusCode, err), secrets)
	}
	return answer{code: res.StatusCode, body: body, product: res.Header.Get("X-Elastic-Product"), secrets: secrets}, nil
}

// reply builds the check's reply; h may be nil, err is nil on success.
func (c *check) reply(start time.Time, h *health, err error) signal.Reply {
	data := map[string]any{"time": time.Since(start).Seconds()}
	if h != nil {
		h.fill(data)
	}
	if err != nil {
		data["error"] = redact.Error(err, c.secrets...)
	} else if h != nil && h.Status == "yellow" {
		// Ready (WithYellowReady), but a replica short: a warning, so that
		// the status page, the metrics and the logs show it.
		data["warning"] = fmt.Sprintf("cluster status is yellow (unassigned shards: %d)", h.UnassignedShards)
	}
	return signal.Reply{Name: c.name, Status: err == nil, Data: data}
}

// setNode keeps the host:port the transport sent req to.
func (c *check) setNode(req *http.Request) {
	if req.URL.Host == "" {
		return
	}
	addr := hostPort(req.URL.Host, req.URL.Scheme)
	c.mu.Lock()
	c.addr = addr
	c.mu.Unlock()
}

// learnFlavor settles an unknown flavour from what an answer proves. The
// flavour is the dialect of the cluster-manager timeout, not the product:
// Elasticsearch names itself in X-Elastic-Product on every authenticated
// answer (7.14 and later); OpenSearch 2 and later, the only servers that
// know cluster_manager_timeout, put discovered_cluster_manager in the
// health body and have their own error type for a missing manager. An
// OpenSearch 1.x body has discovered_master alone, and 1.x answers 400 to
// cluster_manager_timeout: it speaks master_timeout, Elasticsearch's
// dialect. Anything else (a 401, a proxy's page) proves nothing, and the
// next answer is asked again.
func (c *check) learnFlavor(a answer, o outcome) {
	if Flavor(c.flavor.Load()) != Detect {
		return
	}
	learned := Detect
	switch {
	case strings.EqualFold(a.product, "Elasticsearch"):
		learned = Elasticsearch
	case o.health != nil && o.health.DiscoveredClusterManager != nil:
		learned = OpenSearch
	case o.health != nil && o.health.DiscoveredMaster != nil:
		learned = Elasticsearch // OpenSearch 1.x
	case o.health == nil && a.code == http.StatusServiceUnavailable &&
		bytes.Contains(a.body, []byte("cluster_manager_not_discovered_exception")):
		learned = OpenSearch
	}
	if learned != Detect {
		c.flavor.CompareAndSwap(int32(Detect), int32(learned))
	}
}

// scrubbedError is an error whose text has had a request's credentials
// masked; it unwraps to the original, so errors.Is still sees the cause.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

// scrubbed masks secrets in err's text. With no secrets it returns err.
func scrubbed(err error, secrets []string) error {
	if len(secrets) == 0 {
		return err
	}
	return &scrubbedError{msg: redact.Error(err, secrets...), err: err}
}

// node is the host:port of the node last asked, or "" before the first
// request has reached the transport.
func (c *check) node() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.addr
}

// credentials are the secrets a transport put on a request: from the
// Authorization value, the key of ApiKey, the token of Bearer, for Basic
// both the encoded pair and the password in it, and for parameterised
// schemes such as AWS SigV4 the whole value and its Credential and
// Signature; and the AWS session token, which travels in a header of its
// own.
func credentials(h http.Header) []string {
	var out []string
	if tok := h.Get("X-Amz-Security-Token"); tok != "" {
		out = append(out, tok)
	}
	scheme, value, ok := strings.Cut(h.Get("Authorization"), " ")
	if !ok || value == "" {
		return out
	}
	out = append(out, value)
	if strings.EqualFold(scheme, "Basic") {
		if raw, err := base64.StdEncoding.DecodeString(value); err == nil {
			if _, pw, ok := strings.Cut(string(raw), ":"); ok && pw != "" {
				out = append(out, pw)
			}
		}
		return out
	}
	for _, param := range strings.Split(value, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(param), "=")
		if ok && v != "" && (strings.EqualFold(k, "Signature") || strings.EqualFold(k, "Credential")) {
			out = append(out, v)
		}
	}
	return out
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
