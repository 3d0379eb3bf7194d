package httpapi

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/go-chi/chi/v5"

	"github.com/oarepo/heartbeat/internal/healthjson"
	"github.com/oarepo/heartbeat/internal/signame"
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
// Query parameters: exclude leaves checks out (repeated, or comma-separated)
// and the answer lists them under "excluded", or under "unmatched_exclude"
// those that matched no check, so that a misspelt exclude does not look as if
// it had worked; verbose changes nothing, as every answer lists every check.
// Any other parameter is ignored, as uptime monitors add their own.
//
// A Startup probe latches: once it has passed with all its checks, it passes
// for the rest of the handler's life without running them again, as
// Kubernetes expects of a startupProbe.
//
// Every answer is JSON with Cache-Control no-store; HEAD answers like GET
// without a body; other methods get 405 with an Allow header. No path is ever
// redirected: the kubelet counts an unfollowed redirect as success, so a
// redirect would make a wrong probe path pass.
//
// Handler panics, as http.Handle does on a bad pattern, when sig misspells a
// probe's signal ("readiness" for signal.Readiness): it would pass for ever.
func Handler(bus *signal.Bus, sig string, opts ...Option) http.Handler {
	if err := signame.Misspelt(sig); err != nil {
		panic(fmt.Errorf("httpapi: Handler: %w", err))
	}
	return &probe{bus: bus, signal: sig, cfg: newConfig(opts)}
}

// probe is one readiness-style probe.
type probe struct {
	bus    *signal.Bus
	signal string
	cfg    config
	// passed is a startup probe's report once it has passed with every check.
	passed atomic.Pointer[probes.Report]
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
		// Only a probe of every check latches: one with checks left out proves nothing of them.
		latched := rep // a copy, so that only a latching answer escapes to the heap
		p.passed.CompareAndSwap(nil, &latched)
	}
	p.answer(w, req, rep)
}

// serveCheck answers for the one check the path names; 404 if there is none.
func (p *probe) serveCheck(w http.ResponseWriter, req *http.Request, name string) {
	rep := probes.Check(req.Context(), p.bus, p.signal, signal.Select(func(n string) bool { return n == name }))
	if len(rep.Checks) == 0 {
		known := cmp.Or(strings.Join(p.bus.Names(p.signal), ", "), "none")
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
	body, _ := rep.MarshalJSON() // from parts the bus encoded and checked
	write(w, req, code, "application/json", body)
}

// checkName is the check the path names below the probe's, or "" for the
// whole probe: a {check} path value, the rest chi routed here through a
// wildcard, or the rest a ServeMux "/readyz/" subtree or StripPrefix left.
func checkName(req *http.Request) string {
	if name := req.PathValue("check"); name != "" {
		return name
	}
	path, escaped := req.URL.EscapedPath(), true
	pattern := patternPath(req.Pattern)
	if rest, ok := chiRest(req); ok {
		path, escaped = rest, req.URL.RawPath != "" // chi routes on RawPath, or else on the decoded Path
	} else if pattern == req.URL.Path {
		return "" // an exact pattern: the probe's own path
	} else if strings.HasSuffix(pattern, "/") && strings.HasPrefix(req.URL.Path, pattern) {
		path = strings.TrimPrefix(path, pattern)
	}
	path = strings.Trim(path, "/")
	if name, err := url.PathUnescape(path); escaped && err == nil {
		return name // "db%232" is the check "db#2", "a%2Fb" the check "a/b"
	}
	return path
}

// chiRest is the path below the handler when chi routed here through a
// wildcard ("/*" last among its patterns): a "/*" route's "*" parameter, or
// the "/"+rest chi's Mount sets RoutePath to, resetting "*". A RoutePath a
// sub-router left (r.Route) is none, nor a rest http.StripPrefix has cut.
func chiRest(req *http.Request) (string, bool) {
	rctx := chi.RouteContext(req.Context())
	if rctx == nil || len(rctx.RoutePatterns) == 0 {
		return "", false
	}
	last := rctx.RoutePatterns[len(rctx.RoutePatterns)-1]
	rest := rctx.URLParam("*")
	if !strings.HasSuffix(last, "/*") {
		return "", true // an exact route: the probe's own path
	} else if rest == "" && rctx.RoutePath != strings.TrimSuffix(last, "*") {
		rest = rctx.RoutePath // else a "/*" route matched with no rest inside a sub-router
	}
	return rest, strings.HasSuffix(routedPath(req), rest)
}

// patternPath is the path part of an http.ServeMux pattern such as
// "GET example.com/readyz": neither method nor host holds a slash.
func patternPath(pattern string) string {
	if i := strings.IndexByte(pattern, '/'); i >= 0 {
		return pattern[i:]
	}
	return "\x00" // matches no path
}

// excludes is the request's exclude names, each once. A malformed query
// string still counts for the pairs that parse.
func excludes(req *http.Request) []string {
	if req.URL.RawQuery == "" {
		return nil
	}
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
