package httpapi

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/go-chi/chi/v5"

	"github.com/oarepo/heartbeat/internal/healthjson"
	"github.com/oarepo/heartbeat/probes"
	"github.com/oarepo/heartbeat/signal"
)

// Handler returns a handler serving the probe of one signal (Readiness,
// Liveliness, Startup, or one of the application's own) at whatever path it
// is mounted: /readyz, /livez, /healthz. It answers 200 when every check
// passes and 500 when one fails, with the JSON body of the original library:
//
//	{"status":false,"checks":{"database":{"status":false,"error":"…"}}}
//
// Below its path it answers for one check: /readyz/database. Mount it with
// chi's Mount, behind http.StripPrefix, or with http.ServeMux patterns that
// name the check {check}:
//
//	mux.Handle("GET /readyz", h)
//	mux.Handle("GET /readyz/{check}", h)
//
// Query parameters: exclude leaves checks out (repeated, or a comma-separated
// list), and the answer then lists them under "excluded", and those that
// matched no check under "unmatched_exclude", so that a misspelt exclude
// does not look as if it had worked; verbose is accepted, and changes nothing
// since the answer always lists every check. Any other parameter is ignored,
// as uptime monitors add their own.
//
// A Startup probe latches: once it has passed with all its checks, it passes
// for the rest of the handler's life without running them again, as
// Kubernetes expects of a startupProbe.
//
// Every answer is JSON with Cache-Control no-store; HEAD answers like GET
// without a body; other methods get 405 with an Allow header. No path is ever
// redirected: the kubelet counts an unfollowed redirect as success, so a
// redirect would make a wrong probe path pass.
func Handler(bus *signal.Bus, sig string, opts ...Option) http.Handler {
	return newProbe(bus, sig, newConfig(opts))
}

// probe is one readiness-style probe.
type probe struct {
	bus    *signal.Bus
	signal string
	cfg    config
	// passed is a startup probe's report once it has passed with every check.
	passed atomic.Pointer[probes.Report]
}

func newProbe(bus *signal.Bus, sig string, cfg config) *probe {
	return &probe{bus: bus, signal: sig, cfg: cfg}
}

func (p *probe) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		methodNotAllowed(w, req)
		return
	}
	if name := checkName(req); name != "" {
		p.serveCheck(w, req, name)
		return
	}
	excluded := excludes(req)
	if len(excluded) == 0 {
		if rep := p.passed.Load(); rep != nil {
			p.answer(w, req, *rep)
			return
		}
	}
	var opts []signal.PublishOption
	matched := make([]bool, len(excluded))
	if len(excluded) > 0 {
		opts = append(opts, signal.Select(func(name string) bool {
			i := slices.Index(excluded, name)
			if i >= 0 {
				matched[i] = true
			}
			return i < 0
		}))
	}
	rep := probes.Check(req.Context(), p.bus, p.signal, opts...)
	for i, name := range excluded {
		if matched[i] {
			rep.Excluded = append(rep.Excluded, name)
		} else {
			rep.Unmatched = append(rep.Unmatched, name)
		}
	}
	if rep.Status && p.signal == signal.Startup && len(excluded) == 0 {
		// Only a probe of every check latches: passing with some left out
		// proves nothing about the ones left out.
		latched := rep // a copy, so that only a latching answer escapes to the heap
		p.passed.CompareAndSwap(nil, &latched)
	}
	p.answer(w, req, rep)
}

// serveCheck answers for the one check the path names, in the probe's format
// with that single check; 404 when the probe has no such check.
func (p *probe) serveCheck(w http.ResponseWriter, req *http.Request, name string) {
	rep := probes.Check(req.Context(), p.bus, p.signal, signal.Select(func(n string) bool { return n == name }))
	if len(rep.Checks) == 0 {
		known := strings.Join(p.bus.Names(p.signal), ", ")
		if known == "" {
			known = "none"
		}
		probe := strings.TrimPrefix(p.signal, "oarepo.probe.")
		writeError(w, req, http.StatusNotFound, "the "+probe+" probe has no check "+quote(name)+"; its checks: "+known)
		return
	}
	p.answer(w, req, rep)
}

// answer writes rep with 200 or 500, without the checks' data for a caller
// WithDetails refuses, in application/health+json to a caller whose Accept
// header asks for it and in the wire format to every other.
func (p *probe) answer(w http.ResponseWriter, req *http.Request, rep probes.Report) {
	code := http.StatusOK
	if !rep.Status {
		code = http.StatusInternalServerError
	}
	if healthjson.Wanted(req.Header.Get("Accept")) {
		write(w, req, code, healthjson.ContentType, healthjson.Encode(rep, p.cfg.detailed(req)))
		return
	}
	if !p.cfg.detailed(req) {
		brief := make([]signal.Result, len(rep.Checks))
		for i, c := range rep.Checks {
			brief[i] = signal.Result{Reply: signal.Reply{Name: c.Reply.Name, Status: c.Reply.Status}}
		}
		rep.Checks = brief
	}
	writeJSON(w, req, code, rep)
}

// checkName is the check the request's path names below the probe's own
// path, or "" for the whole probe: the {check} wildcard of an http.ServeMux
// pattern, the rest of the path that chi's Mount, a chi "/*" route, an
// http.ServeMux "/readyz/" subtree or http.StripPrefix left.
func checkName(req *http.Request) string {
	if name := req.PathValue("check"); name != "" {
		return name
	}
	path := req.URL.EscapedPath()
	rctx := chi.RouteContext(req.Context())
	pattern := patternPath(req.Pattern)
	switch {
	case rctx != nil && rctx.RoutePath != "":
		path = rctx.RoutePath
	case rctx != nil && rctx.URLParam("*") != "":
		path = rctx.URLParam("*")
	case pattern == req.URL.Path:
		return "" // an exact pattern: the probe's own path
	case strings.HasSuffix(pattern, "/") && strings.HasPrefix(req.URL.Path, pattern):
		path = strings.TrimPrefix(path, pattern)
	}
	path = strings.Trim(path, "/")
	if name, err := url.PathUnescape(path); err == nil {
		return name // "db%232" is the check "db#2", "a%2Fb" the check "a/b"
	}
	return path
}

// patternPath is the path part of an http.ServeMux pattern such as
// "GET example.com/readyz".
func patternPath(pattern string) string {
	if i := strings.IndexByte(pattern, ' '); i >= 0 {
		pattern = pattern[i+1:]
	}
	if i := strings.IndexByte(pattern, '/'); i >= 0 {
		return pattern[i:]
	}
	return "\x00" // matches no path
}

// excludes is the request's exclude names, each once. A malformed query
// string still counts for the pairs that parse.
func excludes(req *http.Request) []string {
	q, _ := url.ParseQuery(req.URL.RawQuery)
	var names []string
	for _, v := range q["exclude"] {
		for n := range strings.SplitSeq(v, ",") {
			if n = strings.TrimSpace(n); n != "" && !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	return names
}

// quote quotes a name for an error message, cut short so that a huge name
// cannot make a huge answer.
func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return strconv.Quote(s)
}
