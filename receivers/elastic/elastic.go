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
// A shared cluster belongs on readiness, never liveliness: an outage would
// otherwise restart every pod at once and fix nothing.
package elastic

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

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
// the context deadline even when t does not honour the context.
func New(t Transport, opts ...Option) signal.Receiver {
	cfg := defaults()
	for _, o := range opts {
		o(&cfg)
	}
	return func(ctx context.Context) signal.Reply {
		return cfg.check(ctx, t)
	}
}

func (c config) check(ctx context.Context, t Transport) signal.Reply {
	start := time.Now()
	budget := time.Duration(0)
	if d, ok := ctx.Deadline(); ok {
		budget = time.Until(d)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.target(budget).String(), nil)
	if err != nil {
		return c.fail(start, nil, fmt.Errorf("building the request: %w", err))
	}

	// The transport runs in its own goroutine so a transport that ignores
	// the context cannot hold the probe past its deadline. The channel is
	// buffered: an abandoned goroutine finishes, closes the body and exits.
	// Only the I/O runs there: decoding in the caller's goroutine, whose
	// stack has already grown, halves the receiver's own CPU cost.
	done := make(chan answer, 1)
	go func() { done <- perform(t, req) }()

	select {
	case a := <-done:
		o := outcome{err: a.err}
		if a.err == nil {
			o = c.judge(a.code, a.body)
		}
		if o.err != nil && ctx.Err() != nil {
			// The transport gave up because the deadline passed; say so in
			// words that name the budget rather than the client's wrapping.
			return c.fail(start, o.health, timeoutError(budget, ctx.Err()))
		}
		if o.err != nil {
			return c.fail(start, o.health, o.err)
		}
		return c.reply(start, o.health, true)
	case <-ctx.Done():
		return c.fail(start, nil, timeoutError(budget, ctx.Err()))
	}
}

// target is the request URL, path and query only; the transport adds the
// node. With a deadline, master_timeout makes a cluster without a master
// answer 503 in time instead of waiting its default 30 s, and timeout bounds
// wait_for_status; both get three quarters of the budget so the answer
// arrives before the probe gives up.
func (c config) target(budget time.Duration) *url.URL {
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
	err  error
}

func perform(t Transport, req *http.Request) answer {
	res, err := t.Perform(req)
	if err != nil {
		return answer{err: transportError(req.URL.Path, err)}
	}
	defer func() {
		// Drain a little so the connection can be reused, then close.
		_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
		_ = res.Body.Close()
	}()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxBody))
	if err != nil {
		return answer{err: fmt.Errorf("%d reading the answer: %w", res.StatusCode, err)}
	}
	return answer{code: res.StatusCode, body: body}
}

func (c config) reply(start time.Time, h *health, ok bool) signal.Reply {
	data := map[string]any{"time": time.Since(start).Seconds()}
	if h != nil {
		h.fill(data)
	}
	return signal.Reply{Name: c.name, Status: ok, Data: data}
}

func (c config) fail(start time.Time, h *health, err error) signal.Reply {
	r := c.reply(start, h, false)
	r.Data["error"] = redact.Error(err)
	return r
}

func timeoutError(budget time.Duration, err error) error {
	if budget > 0 {
		// The budget is measured when the check starts, a little after the
		// caller set it; tens of milliseconds read as what was configured.
		return fmt.Errorf("no answer from Elasticsearch within %s: %w", budget.Round(10*time.Millisecond), err)
	}
	return fmt.Errorf("no answer from Elasticsearch: %w", err)
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
