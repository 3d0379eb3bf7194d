// Package statuspage serves a status page for people: every probe and
// every check of a monitor.Monitor, failures first, each with its latest
// outcome, error or warning, duration, last success, last change and a strip
// of its recent outcomes, refreshing itself every few seconds.
//
// The page is self-contained: its HTML, stylesheet and script are embedded
// in the binary and it loads nothing from elsewhere, so it works air-gapped.
// It is sent with a strict Content-Security-Policy (no inline script or
// style, no other origin) and builds its content with DOM text nodes only,
// so a check name or error can never become markup.
//
// Serving the page runs no receiver: it reads the Monitor, whose state moves
// when the probes run the checks (the kubelet, a load balancer). A page whose
// checks have stopped moving says how long ago each last ran.
//
// httpapi.Router serves it under its prefix when given a Monitor
// (httpapi.WithMonitor); Handler serves it anywhere else.
package statuspage

import (
	"cmp"
	"embed"
	"encoding/json"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/oarepo/heartbeat/monitor"
)

//go:embed assets
var assets embed.FS

var page = template.Must(template.ParseFS(assets, "assets/page.html"))

// DefaultRefresh is how often the page fetches the monitor's state unless
// WithRefresh says otherwise.
const DefaultRefresh = 5 * time.Second

// Policy is the Content-Security-Policy of every answer: nothing but the
// page's own script, stylesheet and state, and no framing.
const Policy = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; " +
	"img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Option configures Handler.
type Option func(*config)

type config struct {
	details func(*http.Request) bool
	refresh time.Duration
}

// WithDetails shows the callers allow refuses each probe's and check's name
// and status only: no outcome, error, warning, duration, time or history.
// Default: every caller sees every detail. httpapi.Router passes its own
// WithDetails here.
func WithDetails(allow func(*http.Request) bool) Option {
	return func(c *config) { c.details = allow }
}

// WithRefresh sets how often the page fetches the monitor's state; the
// default is DefaultRefresh (5s). Values below 500ms keep the default.
func WithRefresh(d time.Duration) Option {
	return func(c *config) {
		if d >= 500*time.Millisecond {
			c.refresh = d
		}
	}
}

// Handler returns the status page of m. It answers the page at the path it
// is mounted at, with or without a trailing slash, and beside it, under
// that path, the resources the page loads: status.json (the state the page
// shows, in the JSON described in docs/operators.md), statuspage.js and
// statuspage.css. Every answer has Cache-Control no-store and the
// Content-Security-Policy Policy; methods other than GET and HEAD get 405.
func Handler(m *monitor.Monitor, opts ...Option) http.Handler {
	c := config{refresh: DefaultRefresh}
	for _, o := range opts {
		o(&c)
	}
	return &handler{mon: m, cfg: c}
}

type handler struct {
	mon *monitor.Monitor
	cfg config
}

func (h *handler) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	hd := w.Header()
	hd.Set("Cache-Control", "no-store")
	hd.Set("Content-Security-Policy", Policy)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		hd.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed; use GET or HEAD", http.StatusMethodNotAllowed)
		return
	}
	path := requestPath(req)
	last := path[strings.LastIndexByte(path, '/')+1:]
	switch last {
	case "status.json":
		body, _ := json.Marshal(h.state(req)) // plain strings, numbers and times
		hd.Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	case "statuspage.js", "statuspage.css":
		http.ServeFileFS(w, req, assets, "assets/"+last)
	default:
		base := "" // where the page's resources are, relative to the page
		if !strings.HasSuffix(path, "/") {
			base = last + "/"
		}
		hd.Set("Content-Type", "text/html; charset=utf-8")
		_ = page.Execute(w, base)
	}
}

// requestPath is the path the browser asked for, which relative references
// in the page resolve against: the request line's, not what a router in
// front may have stripped.
func requestPath(req *http.Request) string {
	path := req.URL.Path
	if uri := req.RequestURI; strings.HasPrefix(uri, "/") {
		path, _, _ = strings.Cut(uri, "?")
	}
	return path
}

// State is the JSON the page polls (status.json).
type State struct {
	// Detailed is false for a caller WithDetails refuses: the checks then
	// carry their names and statuses only.
	Detailed bool `json:"detailed"`
	// Now is the server's time, which the page measures ages against.
	Now time.Time `json:"now"`
	// Refresh is how many seconds the page waits between fetches.
	Refresh float64 `json:"refresh"`
	// Probes are readiness, liveliness and startup, in that order.
	Probes []Probe `json:"probes"`
}

// Probe is one probe's part of State.
type Probe struct {
	Name   string `json:"name"`
	Status bool   `json:"status"`
	// Checks come failures first: failed (and not yet run), then warning,
	// then passing, each in subscription order.
	Checks []Check `json:"checks"`
}

// Check is one check's part of State; all but Name, Status and Pending are
// left out for a caller that may not see details.
type Check struct {
	Name   string `json:"name"`
	Status bool   `json:"status"`
	// Pending is true for a check no probe has run yet (its Status is then
	// false): whether a check has run is part of its status, not a detail.
	Pending        bool              `json:"pending,omitempty"`
	Outcome        monitor.Outcome   `json:"outcome,omitempty"`
	Error          string            `json:"error,omitempty"`
	Warning        string            `json:"warning,omitempty"`
	Duration       float64           `json:"duration,omitempty"` // seconds
	LastRun        time.Time         `json:"lastRun,omitzero"`
	LastSuccess    time.Time         `json:"lastSuccess,omitzero"`
	LastTransition time.Time         `json:"lastTransition,omitzero"`
	History        []monitor.Outcome `json:"history,omitempty"`
}

func (h *handler) state(req *http.Request) State {
	st := State{
		Detailed: h.cfg.details == nil || h.cfg.details(req),
		Now:      time.Now().UTC().Truncate(time.Millisecond),
		Refresh:  h.cfg.refresh.Seconds(),
	}
	for _, p := range h.mon.Probes() {
		sp := Probe{Name: p.Name, Status: p.Status, Checks: make([]Check, len(p.Checks))}
		for i, c := range p.Checks {
			pending := c.Outcome == ""
			sp.Checks[i] = Check{Name: c.Name, Status: c.Status, Pending: pending}
			if st.Detailed {
				sp.Checks[i] = Check{
					Name: c.Name, Status: c.Status, Pending: pending, Outcome: c.Outcome, Error: c.Error, Warning: c.Warning,
					Duration: c.Duration.Seconds(), LastRun: c.LastRun, LastSuccess: c.LastSuccess,
					LastTransition: c.LastTransition, History: c.History,
				}
			}
		}
		slices.SortStableFunc(sp.Checks, func(a, b Check) int { return cmp.Compare(rank(a), rank(b)) })
		st.Probes = append(st.Probes, sp)
	}
	return st
}

// rank orders checks failures first.
func rank(c Check) int {
	switch {
	case !c.Status:
		return 0
	case c.Warning != "":
		return 1
	}
	return 2
}
