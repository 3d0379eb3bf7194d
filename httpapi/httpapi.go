// Package httpapi serves the heartbeat probes over HTTP:
//
//	GET /.well-known/heartbeat/readiness
//	GET /.well-known/heartbeat/liveliness   (also /liveness)
//	GET /.well-known/heartbeat/startup
//	GET /.well-known/heartbeat/environ
//
// Each of readiness, liveliness and startup also answers for one check
// (/readiness/{name}), leaves checks out on request (?exclude=name), and
// answers in the IETF draft's application/health+json to a caller whose
// Accept header asks for it. Given a monitor.Monitor (WithMonitor), Router
// also serves a status page for people at the prefix itself (statuspage).
//
// Router returns an http.Handler for all of them that mounts the way Go
// applications mount handlers: with chi's Mount at its prefix, with
// http.ServeMux at "prefix/", behind http.StripPrefix, wrapped in any
// middleware. Handler serves one probe at any path of the application's
// choosing, such as /readyz.
package httpapi

import (
	"cmp"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/oarepo/heartbeat/monitor"
	"github.com/oarepo/heartbeat/probes"
	"github.com/oarepo/heartbeat/signal"
	"github.com/oarepo/heartbeat/statuspage"
)

// DefaultPrefix is the path under which Router serves the probes.
const DefaultPrefix = "/.well-known/heartbeat"

// Option configures Router and Handler.
type Option func(*config)

type config struct {
	prefix        string
	strictEnviron bool
	environ       bool
	details       func(*http.Request) bool
	monitor       *monitor.Monitor
	page          bool
}

// WithMonitor gives Router the Monitor of its bus, whose state the status
// page shows at the prefix (GET <prefix>/ and GET <prefix>). Without it the
// prefix answers 404: Router does not start a Monitor behind your back.
func WithMonitor(m *monitor.Monitor) Option {
	return func(c *config) { c.monitor = m }
}

// WithoutStatusPage leaves the status page out even with a Monitor: Router
// answers 404 at the prefix. The default serves it when WithMonitor is given.
func WithoutStatusPage() Option {
	return func(c *config) { c.page = false }
}

// WithPrefix sets the path under which Router serves the probes, by default
// DefaultPrefix; a trailing slash is ignored, and "" or "/" is the root.
// Router strips the prefix when nothing in front has (http.ServeMux), and
// needs none stripped when something has (chi's Mount, http.StripPrefix).
func WithPrefix(prefix string) Option {
	return func(c *config) { c.prefix = strings.TrimSuffix(prefix, "/") }
}

// WithStrictEnviron makes the environ probe answer 500 when a receiver's
// status is false. By default it answers 200 whatever the status, as the
// original library did: environ describes the service, it does not judge it.
func WithStrictEnviron(strict bool) Option {
	return func(c *config) { c.strictEnviron = strict }
}

// WithoutEnviron leaves the environ probe out: Router answers 404 at
// /environ. The default serves it; it lists every module and version of the
// binary, which is worth keeping off a public port (see WithDetails).
func WithoutEnviron() Option {
	return func(c *config) { c.environ = false }
}

// WithDetails answers the callers allow refuses with statuses only, without
// the checks' data ("error", "time", …), likewise on the status page, and
// environ with 403. Default: every caller sees every detail, as in the
// original library. Use it when more than the kubelet and your operators
// reach the probe port; allow might check a token, a client certificate or
// the source address:
//
//	httpapi.WithDetails(func(r *http.Request) bool {
//		return r.Header.Get("Authorization") == "Bearer "+token
//	})
func WithDetails(allow func(*http.Request) bool) Option {
	return func(c *config) { c.details = allow }
}

func newConfig(opts []Option) config {
	c := config{prefix: DefaultPrefix, environ: true, page: true}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// detailed reports whether req may see the checks' data.
func (c *config) detailed(req *http.Request) bool {
	return c.details == nil || c.details(req)
}

// Router returns a handler serving the probes of bus: readiness, liveliness
// (also as liveness), startup and environ, each under the prefix
// (WithPrefix). Readiness, liveliness and startup answer as Handler does.
// Environ answers 200 with the running binary's modules and runtime and the
// data of the receivers subscribed to signal.Environ, merged. With
// WithMonitor, the prefix itself answers the status page, and status.json,
// statuspage.js and statuspage.css under it what the page loads.
//
// Any other path under the prefix answers 404, and any method but GET and
// HEAD 405 with an Allow header, both in JSON. Mounted at its prefix, Router
// leaves the application's other paths, and its 404 and 405, alone.
func Router(bus *signal.Bus, opts ...Option) http.Handler {
	cfg := newConfig(opts)
	r := chi.NewRouter()
	r.Use(relative(cfg.prefix))
	r.NotFound(notFound)
	r.MethodNotAllowed(methodNotAllowed)
	for path, sig := range map[string]string{
		"/readiness": signal.Readiness, "/liveliness": signal.Liveliness, "/liveness": signal.Liveliness,
		"/startup": signal.Startup,
	} {
		r.Mount(path, &probe{bus: bus, signal: sig, cfg: cfg})
	}
	if cfg.environ {
		environ := func(w http.ResponseWriter, req *http.Request) { serveEnviron(w, req, bus, &cfg) }
		r.Get("/environ", environ)
		r.Head("/environ", environ)
	}
	if cfg.monitor != nil && cfg.page {
		page := statuspage.Handler(cfg.monitor, statuspage.WithDetails(cfg.details)).ServeHTTP
		for _, path := range []string{"/", "/status.json", "/statuspage.js", "/statuspage.css"} {
			r.Get(path, page)
			r.Head(path, page)
		}
	}
	return r
}

// relative is the router's middleware that has it route on the path below
// the prefix: what chi's Mount left, or else the request's own, less the
// prefix if nothing in front stripped it.
func relative(prefix string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			rctx := chi.RouteContext(req.Context()) // chi's, or a parent router's
			path := routedPath(req)
			if rctx.RoutePath != "" && strings.HasSuffix(path, rctx.RoutePath) {
				path = rctx.RoutePath // chi's Mount; not a sub-router's path that StripPrefix has since cut
			}
			if rest, ok := strings.CutPrefix(path, prefix); ok && (rest == "" || rest[0] == '/') {
				path = rest
			}
			rctx.RoutePath = cmp.Or(path, "/")
			next.ServeHTTP(w, req)
		})
	}
}

// routedPath is the request's path in the form chi routes on.
func routedPath(req *http.Request) string { return cmp.Or(req.URL.RawPath, req.URL.Path) }

func serveEnviron(w http.ResponseWriter, req *http.Request, bus *signal.Bus, cfg *config) {
	if !cfg.detailed(req) {
		writeError(w, req, http.StatusForbidden, "environ is not shown to this caller")
		return
	}
	rep := probes.Environ(req.Context(), bus)
	code := http.StatusOK
	if !rep.Status && cfg.strictEnviron {
		code = http.StatusInternalServerError
	}
	writeJSON(w, req, code, rep)
}

// writeJSON answers with v encoded as JSON.
func writeJSON(w http.ResponseWriter, req *http.Request, code int, v any) {
	var body []byte
	var err error
	if m, ok := v.(json.Marshaler); ok {
		body, err = m.MarshalJSON() // the reports encode themselves from checked parts
	} else {
		body, err = json.Marshal(v)
	}
	if err != nil { // the bus checked every reply's data; keep the answer valid regardless
		code, body = http.StatusInternalServerError, []byte(`{"status":false,"error":"the answer could not be encoded"}`)
	}
	write(w, req, code, "application/json", body)
}

// write answers with body. Every answer says it is not to be cached: a
// probe's answer is about now.
func write(w http.ResponseWriter, req *http.Request, code int, contentType string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	if req.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// writeError answers with a JSON body {"status":false,"error":msg}.
func writeError(w http.ResponseWriter, req *http.Request, code int, msg string) {
	writeJSON(w, req, code, struct {
		Status bool   `json:"status"`
		Error  string `json:"error"`
	}{false, msg})
}

func notFound(w http.ResponseWriter, req *http.Request) {
	writeError(w, req, http.StatusNotFound, "no heartbeat probe at "+quote(req.URL.Path))
}

func methodNotAllowed(w http.ResponseWriter, req *http.Request) {
	w.Header().Set("Allow", "GET, HEAD")
	writeError(w, req, http.StatusMethodNotAllowed, "method "+quote(req.Method)+" not allowed; use GET or HEAD")
}
