package httpapi

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/oarepo/heartbeat/drain"
	"github.com/oarepo/heartbeat/probes"
	"github.com/oarepo/heartbeat/signal"
)

// probe is one of the readiness-style probes as the router serves it.
type probe struct {
	name   string       // the path's last element, and the Probe of its transitions
	signal string       // the signal its receivers are subscribed to
	drain  *drain.Drain // readiness only: fails while draining
	latch  bool         // startup: passes for good once it has passed

	// passed is the body of the startup probe that passed, answered from
	// then on without running a receiver.
	passed atomic.Pointer[[]byte]
	// last is the body of the latest whole probe, answered again while the
	// bus hands back the very same results (every reply reused, nothing
	// changed): the steady state between two runs of the receivers.
	last atomic.Pointer[encoded]
}

// encoded is a probe's body and the results it was made from.
type encoded struct {
	first *signal.Result // identifies the results slice
	n     int
	body  []byte
}

// route serves p at path, and each of its checks at path/{check}.
func (m *Mux) route(h *handlers, path string, p *probe) {
	whole := func(w http.ResponseWriter, req *http.Request) { h.serve(w, req, p) }
	m.exact[path] = whole
	getOrHead(m.Mux, path, whole)
	getOrHead(m.Mux, path+"/{check}", func(w http.ResponseWriter, req *http.Request) { h.serveCheck(w, req, p) })
}

// serve answers the whole probe, less the checks ?exclude names. The path
// without a query string or options is the hot one the kubelet takes every
// few seconds: it adds nothing to probes.Check but a few nil checks.
func (h *handlers) serve(w http.ResponseWriter, req *http.Request, p *probe) {
	q, ok := parseQuery(w, req, knownParams)
	if !ok {
		return
	}
	var ex *exclusion
	var opts []signal.PublishOption
	if names := q["exclude"]; len(names) > 0 {
		ex = newExclusion(names)
		opts = append(opts, signal.Select(ex.keep))
	}
	if p.latch && ex == nil {
		if body := p.passed.Load(); body != nil {
			write(w, req, http.StatusOK, *body)
			return
		}
	}

	var started time.Time
	if h.tracker != nil {
		started = time.Now()
	}
	rep := probes.Check(req.Context(), h.bus, p.signal, opts...)
	if p.drain != nil && (ex == nil || ex.keep(shutdownCheck)) {
		rep = withShutdown(rep, p.drain, false)
	}
	if h.tracker != nil {
		h.tracker.Observe(p.name, started, rep, ex == nil)
	}

	code := http.StatusOK
	if !rep.Status {
		code = http.StatusInternalServerError
	}
	// Only the plain body is kept: a drain's shutdown check copies the
	// results, so a draining probe never matches, and neither does one with
	// checks left out.
	plain := ex == nil && len(rep.Checks) > 0
	if plain {
		if e := p.last.Load(); e != nil && e.first == &rep.Checks[0] && e.n == len(rep.Checks) {
			write(w, req, code, e.body)
			return
		}
	}

	buf := getBuffer()
	*buf = rep.AppendJSON((*buf)[:0])
	if ex != nil {
		*buf = ex.appendJSON(*buf)
	}
	if plain && allReused(rep.Checks) {
		p.last.Store(&encoded{first: &rep.Checks[0], n: len(rep.Checks), body: slices.Clone(*buf)})
	}
	if rep.Status && p.latch && ex == nil {
		// Only a probe of every check latches: passing with some left out
		// proves nothing about the ones left out.
		body := slices.Clone(*buf)
		p.passed.CompareAndSwap(nil, &body)
	}
	write(w, req, code, *buf)
	putBuffer(buf)
}

// allReused reports whether every result came from an earlier run: only
// then can the bus hand the same results back, and a kept body be reused.
func allReused(checks []signal.Result) bool {
	for i := range checks {
		if !checks[i].Reused {
			return false
		}
	}
	return true
}

// serveCheck answers the probe for the one check the path names, in the
// probe's format with that single check; 404 when the probe has no such
// check.
func (h *handlers) serveCheck(w http.ResponseWriter, req *http.Request, p *probe) {
	if _, ok := parseQuery(w, req, nil); !ok {
		return
	}
	name := chi.URLParam(req, "check")
	if req.URL.RawPath != "" { // chi matched the escaped path: "a%2Fb" is one name
		if n, err := url.PathUnescape(name); err == nil {
			name = n
		}
	}
	var started time.Time
	if h.tracker != nil {
		started = time.Now()
	}
	// Select runs a receiver that has neither a Named option nor a reply
	// yet, to learn its name: the first request for a check may run others.
	rep := probes.Check(req.Context(), h.bus, p.signal, signal.Select(func(n string) bool { return n == name }))
	if p.drain != nil && name == shutdownCheck {
		rep = withShutdown(rep, p.drain, true)
	}
	if len(rep.Checks) == 0 {
		known := h.bus.Names(p.signal)
		if p.drain != nil {
			known = append(known, shutdownCheck)
		}
		list := "none"
		if len(known) > 0 {
			list = strings.Join(known, ", ")
		}
		writeError(w, req, http.StatusNotFound, "the "+p.name+" probe has no check "+quote(name)+"; its checks: "+list)
		return
	}
	if h.tracker != nil {
		h.tracker.Observe(p.name, started, rep, false)
	}
	code := http.StatusOK
	if !rep.Status {
		code = http.StatusInternalServerError
	}
	buf := getBuffer()
	*buf = rep.AppendJSON((*buf)[:0])
	write(w, req, code, *buf)
	putBuffer(buf)
}

// shutdownCheck is the name of the check a draining server adds to readiness.
const shutdownCheck = "shutdown"

// withShutdown adds the "shutdown" check to a readiness report while d is
// draining, failing it and so the probe. Outside a drain it adds the check,
// passing, only when always is set (the per-check path): the everyday
// readiness body stays what the receivers make it.
func withShutdown(rep probes.Report, d *drain.Drain, always bool) probes.Report {
	st := d.State()
	if st == nil && !always {
		return rep
	}
	r := signal.Result{Reply: signal.Reply{Name: shutdownCheck, Status: st == nil}}
	if st == nil {
		r.JSON = []byte(`{"status":true}`)
	} else {
		msg := "draining: " + st.Reason
		since := st.Since.UTC().Format(time.RFC3339Nano)
		r.Reply.Data = map[string]any{"error": msg, "since": since}
		b := append([]byte(`{"status":false,"error":`), signal.AppendString(nil, msg)...)
		b = append(b, `,"since":`...)
		b = signal.AppendString(b, since)
		r.JSON = append(b, '}')
		rep.Status = false
	}
	// A receiver may already be called "shutdown"; neither may hide the other.
	for n := 2; slices.ContainsFunc(rep.Checks, func(c signal.Result) bool { return c.Reply.Name == r.Reply.Name }); n++ {
		r.Reply.Name = shutdownCheck + "#" + strconv.Itoa(n)
	}
	// Collect's slice may be shared with other probes: copy, never append.
	checks := make([]signal.Result, len(rep.Checks), len(rep.Checks)+1)
	copy(checks, rep.Checks)
	rep.Checks = append(checks, r)
	return rep
}

// exclusion is one request's ?exclude names and which of them matched a
// check. Select calls keep on the publishing goroutine only, so it needs no
// lock.
type exclusion struct {
	names   []string
	matched []bool
}

func newExclusion(names []string) *exclusion {
	uniq := make([]string, 0, len(names))
	for _, n := range names {
		if !slices.Contains(uniq, n) {
			uniq = append(uniq, n)
		}
	}
	return &exclusion{names: uniq, matched: make([]bool, len(uniq))}
}

// keep reports whether the check called name stays in, noting a match.
func (e *exclusion) keep(name string) bool {
	for i, n := range e.names {
		if n == name {
			e.matched[i] = true
			return false
		}
	}
	return true
}

// appendJSON adds to the probe's body b the checks it left out, "excluded",
// and the excluded names that matched no check, "unmatched_exclude": a
// misspelt exclude must not look as if it had worked.
func (e *exclusion) appendJSON(b []byte) []byte {
	b = b[:len(b)-1] // the report's closing brace
	b = append(b, `,"excluded":`...)
	b = e.appendNames(b, true)
	if slices.Contains(e.matched, false) {
		b = append(b, `,"unmatched_exclude":`...)
		b = e.appendNames(b, false)
	}
	return append(b, '}')
}

func (e *exclusion) appendNames(b []byte, matched bool) []byte {
	b = append(b, '[')
	first := true
	for i, n := range e.names {
		if e.matched[i] != matched {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = signal.AppendString(b, n)
	}
	return append(b, ']')
}
