// Package monitor keeps what the probes' checks have been doing: each
// check's latest outcome, its recent history, when it last passed and last
// changed, and counts of its runs, all from the runs the bus reports
// (signal.Bus.Observe). It is what everything that tells people reads
// instead of running receivers: transition logs and listeners, metrics at
// scrape time, gRPC health's Watch, the status page.
//
// A Monitor runs nothing itself. Its state moves when probes run the checks
// (the kubelet, a load balancer, a gRPC health check); between probes it
// holds still.
package monitor

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/oarepo/heartbeat/redact"
	"github.com/oarepo/heartbeat/signal"
)

// Outcome is how one run of a check came out.
type Outcome string

// The outcomes of a run. Warn is a pass whose reply carries a "warning".
const (
	Pass    Outcome = "pass"
	Warn    Outcome = "warn"
	Fail    Outcome = "fail"
	Timeout Outcome = "timeout"
	Panic   Outcome = "panic"
)

// Passed reports whether the outcome counts as passing: Pass or Warn.
func (o Outcome) Passed() bool { return o == Pass || o == Warn }

// The probes a Monitor keeps, by name and signal, in the order Probes
// returns them.
var probeSignals = []struct{ name, signal string }{
	{"readiness", signal.Readiness},
	{"liveliness", signal.Liveliness},
	{"startup", signal.Startup},
}

// Probe is the state of one probe and its checks.
type Probe struct {
	// Name is "readiness", "liveliness" or "startup".
	Name string
	// Signal is the signal its receivers are subscribed to.
	Signal string
	// Status is true when every check has run and its Status is true; true
	// with no checks.
	Status bool
	// Checks are the probe's subscribed checks, in subscription order.
	Checks []Check
}

// Check is the state of one check.
type Check struct {
	// Name is the name the check is reported under.
	Name string
	// Status is the check's status after the thresholds (WithThresholds);
	// false for a check that has not run yet.
	Status bool
	// Outcome is the latest run's; "" for a check that has not run yet.
	Outcome Outcome
	// Error is the latest run's "error" (or "message"), scrubbed of
	// secrets; "" when it passed.
	Error string
	// Warning is the latest run's "warning", when it passed with one,
	// scrubbed of secrets.
	Warning string
	// Duration is how long the latest run took.
	Duration time.Duration
	// LastRun is when the latest run ended (or was given up on).
	LastRun time.Time
	// LastSuccess is when a run last passed; zero if none has.
	LastSuccess time.Time
	// LastTransition is when Status last changed, or was first set.
	LastTransition time.Time
	// Runs counts the runs by outcome since the Monitor started.
	Runs map[Outcome]uint64
	// Transitions counts the changes of Status since the Monitor started,
	// the first status not included.
	Transitions uint64
	// History holds the latest runs' outcomes, oldest first, at most as
	// many as WithHistory says.
	History []Outcome
}

// Transition is a change of status: one check's, or a whole probe's. A
// check that keeps passing but starts or stops warning (a reply "warning")
// makes a transition too, with From and To both true and Warning the new
// warning ("" when it stopped); it is not counted in Check.Transitions, and
// listeners that follow only the status skip it (From == To && !Initial).
type Transition struct {
	// Probe is the probe the status belongs to, such as "readiness".
	Probe string
	// Check is the check's name; empty for the probe's overall status.
	Check string
	// Initial is true for the first status of a check or probe; From is
	// then meaningless (false).
	Initial bool
	// From and To are the statuses before and after.
	From, To bool
	// Error says why To is false: the check's error, or for a probe the
	// names of its failing checks. Secrets are masked (package redact).
	Error string
	// Warning is the check's warning after the change, when it passes with
	// one; empty for a probe.
	Warning string
	// Time is when the run that made the change was seen.
	Time time.Time
}

// Option configures a Monitor.
type Option func(*Monitor)

// WithHistory keeps the outcomes of the latest n runs of each check; the
// default is 20. Memory is fixed: n outcomes per subscribed check, whatever
// the uptime; the state of a check unsubscribed or renamed (a reply under a
// new name) is dropped.
// n below 1 keeps the default.
func WithHistory(n int) Option {
	return func(m *Monitor) {
		if n > 0 {
			m.history = n
		}
	}
}

// WithThresholds sets how many consecutive failed runs turn a passing check's
// Status false, and how many consecutive passing runs turn it true again; the
// default is 1 and 1. They shape what tells people (Status, transitions,
// logs, metrics), never a probe's HTTP answer: the kubelet has thresholds of
// its own. Values below 1 keep the default.
func WithThresholds(failures, successes int) Option {
	return func(m *Monitor) {
		m.failures, m.successes = max(failures, 1), max(successes, 1)
	}
}

// OnTransition calls fn for every transition, in order; see Listen.
func OnTransition(fn func(Transition)) Option {
	return func(m *Monitor) { m.listeners = append(m.listeners, &fn) }
}

// WithLogger logs every transition to l, one record each (see LogTo).
func WithLogger(l *slog.Logger) Option { return OnTransition(LogTo(l)) }

// Monitor keeps the state of a bus's probes. It is safe for concurrent use.
type Monitor struct {
	bus                 *signal.Bus
	stop                func()
	history             int
	failures, successes int

	mu        sync.Mutex
	checks    map[key]*state
	probes    map[string]*state // a probe's overall status, as a check without runs
	listeners []*func(Transition)
}

type key struct{ signal, name string }

type state struct {
	Check
	seen                   bool
	failStreak, passStreak int
}

// New returns a Monitor of bus's readiness, liveliness and startup checks.
// It observes every run from now on, until Close.
func New(bus *signal.Bus, opts ...Option) *Monitor {
	m := &Monitor{
		bus: bus, history: 20, failures: 1, successes: 1,
		checks: map[key]*state{}, probes: map[string]*state{},
	}
	for _, o := range opts {
		o(m)
	}
	m.stop = bus.Observe(m.observe)
	return m
}

// Close stops observing the bus. The state stays readable.
func (m *Monitor) Close() { m.stop() }

// Listen calls fn for every transition from now on, after the ones given to
// New, until the returned function is called. Listeners run on the goroutine
// of the run that caused the change, after the Monitor's lock is released:
// they must be quick and safe for concurrent use.
func (m *Monitor) Listen(fn func(Transition)) (stop func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.listeners = append(m.listeners, &fn)
	return sync.OnceFunc(func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		m.listeners = slices.DeleteFunc(slices.Clone(m.listeners), func(x *func(Transition)) bool { return x == &fn })
	})
}

func probeName(sig string) string {
	for _, p := range probeSignals {
		if p.signal == sig {
			return p.name
		}
	}
	return ""
}

// observe records one run.
func (m *Monitor) observe(sig string, r signal.Result) {
	probe := probeName(sig)
	if probe == "" {
		return
	}
	now := time.Now()
	outcome := outcomeOf(r)
	m.mu.Lock()
	k := key{sig, r.Reply.Name}
	s := m.checks[k]
	if s == nil {
		// A new name: a check subscribed or renamed. Forget the names no
		// longer subscribed, so that the state holds the subscribed checks
		// only, however often replies rename them.
		m.prune(sig, m.bus.Names(sig))
		s = &state{Check: Check{Name: r.Reply.Name, Runs: map[Outcome]uint64{}}}
		m.checks[k] = s
	}
	warned := s.Status && s.Warning != ""
	s.Outcome, s.Duration, s.LastRun = outcome, r.Duration, now
	s.Error, s.Warning = "", ""
	if outcome.Passed() {
		s.LastSuccess = now
		if w, _ := r.Reply.Data["warning"].(string); w != "" {
			s.Warning = redact.String(w)
		}
	} else {
		s.Error = errorOf(r.Reply.Data)
	}
	s.Runs[outcome]++
	if len(s.History) == m.history {
		s.History = append(s.History[:0], s.History[1:]...)
	}
	s.History = append(s.History, outcome)

	var out []Transition
	t, ok := m.settle(s, outcome.Passed(), now)
	if !ok && s.Status && outcome.Passed() && warned != (s.Warning != "") {
		out = append(out, Transition{Probe: probe, Check: s.Name, From: true, To: true, Warning: s.Warning, Time: now})
	}
	if ok {
		t.Probe, t.Check, t.Error = probe, s.Name, s.Error
		if t.To {
			t.Warning = s.Warning
		}
		out = append(out, t)
		p := m.probes[probe]
		if p == nil {
			p = &state{}
			m.probes[probe] = p
		}
		if status, failing := m.overall(sig); !p.seen || p.Status != status {
			t := set(p, status, now)
			t.Probe = probe
			if !status {
				t.Error = "failing: " + strings.Join(failing, ", ")
			}
			out = append(out, t)
		}
	}
	listeners := m.listeners
	m.mu.Unlock()
	for _, t := range out {
		for _, fn := range listeners {
			(*fn)(t)
		}
	}
}

// settle applies a run that passed or not to s's Status through the
// thresholds, and returns the transition it makes, if any.
func (m *Monitor) settle(s *state, passed bool, now time.Time) (Transition, bool) {
	if passed {
		s.passStreak, s.failStreak = s.passStreak+1, 0
	} else {
		s.failStreak, s.passStreak = s.failStreak+1, 0
	}
	switch {
	case !s.seen:
	case s.Status && !passed && s.failStreak >= m.failures:
	case !s.Status && passed && s.passStreak >= m.successes:
	default:
		return Transition{}, false
	}
	return set(s, passed, now), true
}

// set sets s's Status and returns the transition.
func set(s *state, status bool, now time.Time) Transition {
	t := Transition{Initial: !s.seen, From: s.Status, To: status, Time: now}
	if s.seen {
		s.Transitions++
	}
	s.seen, s.Status, s.LastTransition = true, status, now
	return t
}

// overall is a probe's status from its subscribed checks' states, and the
// names of those failing; a check that has not run yet counts as failing.
// m.mu is held.
func (m *Monitor) overall(sig string) (bool, []string) {
	var failing []string
	for _, name := range m.bus.Names(sig) {
		if s := m.checks[key{sig, name}]; s == nil || !s.Status {
			failing = append(failing, name)
		}
	}
	return len(failing) == 0, failing
}

// prune forgets the state of the signal's checks whose names are not among
// names, the signal's subscribed ones: unsubscribed or renamed receivers.
// m.mu is held.
func (m *Monitor) prune(sig string, names []string) {
	for k := range m.checks {
		if k.signal == sig && !slices.Contains(names, k.name) {
			delete(m.checks, k)
		}
	}
}

// Probes returns the state of the readiness, liveliness and startup probes,
// in that order.
func (m *Monitor) Probes() []Probe {
	probes := make([]Probe, len(probeSignals))
	for i, p := range probeSignals {
		probes[i], _ = m.Probe(p.name)
	}
	return probes
}

// Probe returns the state of the probe called name ("readiness",
// "liveliness" or "startup"), and false for any other name.
func (m *Monitor) Probe(name string) (Probe, bool) {
	i := slices.IndexFunc(probeSignals, func(p struct{ name, signal string }) bool { return p.name == name })
	if i < 0 {
		return Probe{}, false
	}
	sig := probeSignals[i].signal
	m.mu.Lock()
	defer m.mu.Unlock()
	// The names are read under the lock, so that a check subscribed since
	// is not pruned before its run is recorded.
	names := m.bus.Names(sig)
	m.prune(sig, names)
	p := Probe{Name: name, Signal: sig, Status: true, Checks: make([]Check, len(names))}
	for i, n := range names {
		c := Check{Name: n}
		if s := m.checks[key{sig, n}]; s != nil {
			c = s.Check
			c.Runs = make(map[Outcome]uint64, len(s.Runs))
			for o, count := range s.Runs {
				c.Runs[o] = count
			}
			c.History = slices.Clone(s.History)
		}
		p.Checks[i] = c
		p.Status = p.Status && c.Status
	}
	return p, true
}

func outcomeOf(r signal.Result) Outcome {
	switch {
	case errors.Is(r.Fault, signal.ErrTimeout):
		return Timeout
	case errors.Is(r.Fault, signal.ErrPanic):
		return Panic
	case !r.Reply.Status:
		return Fail
	}
	if w, _ := r.Reply.Data["warning"].(string); w != "" {
		return Warn
	}
	return Pass
}

// errorOf is the reason a failed check gives, with secrets masked: a
// receiver may have put a DSN with its password into its error, and logs
// are read by more people than the database.
func errorOf(data map[string]any) string {
	for _, k := range []string{"error", "message"} {
		if s, ok := data[k].(string); ok && s != "" {
			return redact.String(s)
		}
	}
	return "status false"
}

// LogTo returns a transition listener that logs to l: a check or probe that
// fails as a warning, one that recovers as info. A first status that passes
// is not logged ("db: true" for every check at every start is noise), while
// one that fails from the start is news. A passing check that starts warning
// is logged as a warning ("heartbeat: check warning", with its "warning"),
// and one that stops as info ("heartbeat: check warning cleared").
func LogTo(l *slog.Logger) func(Transition) {
	return func(t Transition) {
		if t.Initial && t.To && t.Warning == "" {
			return
		}
		level, msg := slog.LevelWarn, "heartbeat: check failing"
		switch {
		case t.To && t.Warning != "":
			msg = "heartbeat: check warning"
		case t.From && t.To && !t.Initial:
			msg = "heartbeat: check warning cleared"
		case t.Check == "" && t.Initial:
			msg = "heartbeat: probe failing"
		case t.Check == "":
			msg = "heartbeat: probe status changed"
		case !t.Initial:
			msg = "heartbeat: check status changed"
		}
		if t.To && t.Warning == "" {
			level = slog.LevelInfo
		}
		attrs := []slog.Attr{slog.String("probe", t.Probe)}
		if t.Check != "" {
			attrs = append(attrs, slog.String("check", t.Check))
		}
		if !t.Initial {
			attrs = append(attrs, slog.Bool("from", t.From))
		}
		attrs = append(attrs, slog.Bool("to", t.To))
		if t.Error != "" {
			attrs = append(attrs, slog.String("error", t.Error))
		}
		if t.Warning != "" {
			attrs = append(attrs, slog.String("warning", t.Warning))
		}
		l.LogAttrs(context.Background(), level, msg, attrs...)
	}
}
