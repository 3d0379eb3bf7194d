// Package httpapi serves the heartbeat probes over HTTP:
//
//	GET /.well-known/heartbeat/readiness
//	GET /.well-known/heartbeat/liveliness   (also /liveness)
//	GET /.well-known/heartbeat/startup
//	GET /.well-known/heartbeat/environ
//
// Each of readiness, liveliness and startup also answers for one check at a
// time (/readiness/{name}) and leaves checks out on request
// (/readiness?exclude=name).
//
// Router returns a chi router, which a chi application can Mount and a
// net/http application can Handle, since it is an http.Handler.
package httpapi

import (
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/go-chi/chi/v5"

	"github.com/oarepo/heartbeat/drain"
	"github.com/oarepo/heartbeat/probes"
	"github.com/oarepo/heartbeat/signal"
)

// DefaultPrefix is the path under which the probes are served.
const DefaultPrefix = "/.well-known/heartbeat"

// Option configures Router.
type Option func(*config)

type config struct {
	prefix        string
	strictEnviron bool
	drain         *drain.Drain
	logger        *slog.Logger
	listeners     []func(probes.Transition)
}

// WithPrefix serves the probes under prefix instead of DefaultPrefix
// ("/.well-known/heartbeat"). A trailing slash is ignored, and "" or "/"
// serves them at the root ("/readiness").
func WithPrefix(prefix string) Option {
	return func(c *config) { c.prefix = strings.TrimSuffix(prefix, "/") }
}

// WithStrictEnviron makes the environ probe answer 500 when a receiver's
// status is false. By default it answers 200 whatever the status, as the
// original library did: environ describes the service, it does not judge it.
func WithStrictEnviron(strict bool) Option {
	return func(c *config) { c.strictEnviron = strict }
}

// WithDrain makes readiness fail once d starts draining, with a check called
// "shutdown" that gives the reason, while liveliness keeps passing: a
// draining pod is leaving, not broken. Default: no drain; readiness depends
// on its receivers only.
func WithDrain(d *drain.Drain) Option {
	return func(c *config) { c.drain = d }
}

// WithLogger logs every change of a check's or a probe's status once, as it
// happens, to l (see probes.Tracker for what is logged and when). Default:
// nothing is logged, and status changes are not tracked at all unless
// OnTransition is used.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.logger = l }
}

// OnTransition calls fn for every change of a check's or a probe's status,
// and for the first status of each (Transition.Initial). It may be given
// more than once; the listeners are called in order, on the goroutine of the
// probe that saw the change, so they must be safe for concurrent use and
// quick. Default: none.
func OnTransition(fn func(probes.Transition)) Option {
	return func(c *config) {
		if fn != nil {
			c.listeners = append(c.listeners, fn)
		}
	}
}

// Router returns a handler serving the probes of bus under the prefix.
//
// Readiness, liveliness and startup answer 200 when every check passes and
// 500 when one fails, with the JSON body of the original library. Startup
// latches: once a startup probe has passed with all its checks, it passes
// for the rest of the Router's life without running them again, as
// Kubernetes expects of a startupProbe.
//
// Every answer has Content-Type application/json and Cache-Control
// no-store; HEAD answers like GET without a body; other methods get 405 with
// an Allow header. No path is ever redirected: the kubelet counts an
// unfollowed redirect as success, so a redirect would make a wrong probe
// path pass.
func Router(bus *signal.Bus, opts ...Option) *Mux {
	cfg := config{prefix: DefaultPrefix}
	for _, o := range opts {
		o(&cfg)
	}
	h := &handlers{bus: bus, cfg: cfg}
	if cfg.logger != nil || len(cfg.listeners) > 0 {
		h.tracker = probes.NewTracker(cfg.logger, cfg.listeners...)
	}

	r := chi.NewRouter()
	r.NotFound(notFound)
	r.MethodNotAllowed(methodNotAllowed)
	// Full paths on one router rather than a sub-router mounted at the
	// prefix: a mount costs every probe a path rewrite and a wildcard
	// parameter, three allocations of the ten a plain probe makes.
	p := cfg.prefix
	readiness := &probe{name: "readiness", signal: signal.Readiness, drain: cfg.drain}
	liveliness := &probe{name: "liveliness", signal: signal.Liveliness}
	startup := &probe{name: "startup", signal: signal.Startup, latch: true}
	m := &Mux{Mux: r, exact: map[string]http.HandlerFunc{}}
	m.route(h, p+"/readiness", readiness)
	m.route(h, p+"/liveliness", liveliness)
	m.route(h, p+"/liveness", liveliness) // the word Kubernetes uses
	m.route(h, p+"/startup", startup)
	getOrHead(r, p+"/environ", h.environ)
	return m
}

// Mux is the router Router returns: a chi router, to Mount or to extend
// like any other, that answers the probes' own paths without a route
// lookup.
type Mux struct {
	*chi.Mux
	// exact maps each whole-probe path to its handler: the requests the
	// kubelet sends every few seconds, answered before chi sets up its
	// routing context.
	exact map[string]http.HandlerFunc
}

// ServeHTTP answers a GET or HEAD of a probe's own path, with no query
// string, directly; every other request goes through chi.
func (m *Mux) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.URL.RawQuery == "" && (req.Method == http.MethodGet || req.Method == http.MethodHead) {
		if fn, ok := m.exact[req.URL.Path]; ok {
			fn(w, req)
			return
		}
	}
	m.Mux.ServeHTTP(w, req)
}

type handlers struct {
	bus     *signal.Bus
	cfg     config
	tracker *probes.Tracker // nil when nobody listens: tracking costs nothing then
}

func getOrHead(r chi.Router, path string, fn http.HandlerFunc) {
	r.Get(path, fn)
	r.Head(path, fn)
}

func (h *handlers) environ(w http.ResponseWriter, req *http.Request) {
	if _, ok := parseQuery(w, req, nil); !ok {
		return
	}
	rep := probes.Environ(req.Context(), h.bus)
	code := http.StatusOK
	if !rep.Status && h.cfg.strictEnviron {
		code = http.StatusInternalServerError
	}
	buf := getBuffer()
	*buf = rep.AppendJSON((*buf)[:0])
	write(w, req, code, *buf)
	putBuffer(buf)
}

// Header values are shared, not rebuilt per response: net/http only reads
// them, and Header.Add on a full slice copies it.
var (
	contentTypeJSON = []string{"application/json"}
	noStore         = []string{"no-store"}
	allowGetHead    = []string{"GET, HEAD"}
)

func write(w http.ResponseWriter, req *http.Request, code int, body []byte) {
	hdr := w.Header()
	hdr["Content-Type"] = contentTypeJSON
	hdr["Cache-Control"] = noStore
	hdr["Content-Length"] = contentLength(len(body))
	w.WriteHeader(code)
	if req.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// contentLengths are the Content-Length values of small bodies, made once
// each: probe bodies come in a few sizes, answered over and over.
var contentLengths [4096]atomic.Pointer[[]string]

func contentLength(n int) []string {
	if n >= len(contentLengths) {
		return []string{strconv.Itoa(n)}
	}
	if v := contentLengths[n].Load(); v != nil {
		return *v
	}
	v := []string{strconv.Itoa(n)}
	contentLengths[n].Store(&v)
	return v
}

// writeError answers with a JSON body {"status":false,"error":msg}.
func writeError(w http.ResponseWriter, req *http.Request, code int, msg string) {
	body := append([]byte(`{"status":false,"error":`), signal.AppendString(nil, msg)...)
	write(w, req, code, append(body, '}'))
}

func notFound(w http.ResponseWriter, req *http.Request) {
	writeError(w, req, http.StatusNotFound, "no heartbeat probe at "+req.URL.Path)
}

func methodNotAllowed(w http.ResponseWriter, req *http.Request) {
	w.Header()["Allow"] = allowGetHead
	writeError(w, req, http.StatusMethodNotAllowed, "method "+req.Method+" not allowed; use GET or HEAD")
}

var buffers = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

func getBuffer() *[]byte { return buffers.Get().(*[]byte) }

func putBuffer(b *[]byte) {
	if cap(*b) <= 64<<10 { // let rare huge bodies go rather than pin them
		buffers.Put(b)
	}
}
