package probes

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/oarepo/heartbeat/redact"
)

// Transition is a change of status seen by a Tracker: one check's, or a
// whole probe's.
type Transition struct {
	// Probe is the probe the status belongs to, such as "readiness".
	Probe string
	// Check is the check's name; empty for the probe's overall status.
	Check string
	// Initial is true for the first observation of a check or probe. From
	// is then meaningless (false): there was no status before.
	Initial bool
	// From and To are the statuses before and after.
	From, To bool
	// Error says why the status is false: the check's "error" (or, as in
	// the original library, "message"), or for a probe the names of its
	// failing checks. Empty when To is true. Secrets are masked (redact).
	Error string
	// Time is when the probe that saw the new status started.
	Time time.Time
}

// Tracker remembers the last status of every check and probe it observes and
// reports each change once: to its listeners, and as one slog record. It is
// how a status flip gets logged once instead of once per probe.
//
// The first observation of a check is reported to the listeners with Initial
// set, so a listener keeping a gauge learns the starting state; it is logged
// only when it fails, since "db: unknown → true" for every check at every
// start is noise, while a check failing from the start is news.
//
// A check that stops being reported (unsubscribed, excluded) keeps its last
// status: its absence is not a transition.
//
// A Tracker is safe for concurrent use. Observations are ordered by the time
// their probe started, so a slow probe finishing late cannot undo what a
// later probe already reported.
type Tracker struct {
	logger    *slog.Logger
	listeners []func(Transition)

	mu    sync.Mutex
	state map[trackKey]seen
}

type trackKey struct {
	probe, check string
	overall      bool
}

type seen struct {
	status bool
	at     time.Time
}

// NewTracker returns a Tracker that logs to logger (nil logs nothing) and
// calls every listener, in order, for every transition. Listeners run on the
// goroutine of the probe that saw the change, after the Tracker's lock is
// released: two probes may call them at once, so they must be safe for
// concurrent use, and a slow listener delays that one probe's answer.
func NewTracker(logger *slog.Logger, listeners ...func(Transition)) *Tracker {
	return &Tracker{logger: logger, listeners: listeners, state: make(map[trackKey]seen)}
}

// Observe records what a probe called probe, started at started, reported.
// Every check in rep is compared with its last status; the probe's overall
// status only when complete is true, since a probe narrowed to some checks
// (a per-check path, exclude) says nothing about the probe as a whole.
func (t *Tracker) Observe(probe string, started time.Time, rep Report, complete bool) {
	var out []Transition
	t.mu.Lock()
	for i := range rep.Checks {
		c := &rep.Checks[i]
		if tr, ok := t.update(trackKey{probe: probe, check: c.Reply.Name}, started, c.Reply.Status); ok {
			if !tr.To {
				tr.Error = checkError(c.Reply.Data)
			}
			out = append(out, tr)
		}
	}
	if complete {
		if tr, ok := t.update(trackKey{probe: probe, overall: true}, started, rep.Status); ok {
			if !tr.To {
				tr.Error = "failing: " + failing(rep)
			}
			out = append(out, tr)
		}
	}
	t.mu.Unlock()

	for _, tr := range out {
		t.emit(tr)
	}
}

// update records status for k and returns the transition it makes, if any.
// t.mu is held.
func (t *Tracker) update(k trackKey, at time.Time, status bool) (Transition, bool) {
	prev, known := t.state[k]
	if known && (prev.status == status || at.Before(prev.at)) {
		return Transition{}, false
	}
	t.state[k] = seen{status: status, at: at}
	return Transition{Probe: k.probe, Check: k.check, Initial: !known, From: prev.status, To: status, Time: at}, true
}

func (t *Tracker) emit(tr Transition) {
	if t.logger != nil && !(tr.Initial && tr.To) {
		t.log(tr)
	}
	for _, l := range t.listeners {
		l(tr)
	}
}

func (t *Tracker) log(tr Transition) {
	level, msg := slog.LevelWarn, "heartbeat: check failing"
	switch {
	case tr.Check == "" && tr.Initial:
		msg = "heartbeat: probe failing"
	case tr.Check == "":
		msg = "heartbeat: probe status changed"
	case !tr.Initial:
		msg = "heartbeat: check status changed"
	}
	if tr.To {
		level = slog.LevelInfo
	}
	attrs := make([]slog.Attr, 0, 5)
	attrs = append(attrs, slog.String("probe", tr.Probe))
	if tr.Check != "" {
		attrs = append(attrs, slog.String("check", tr.Check))
	}
	if !tr.Initial {
		attrs = append(attrs, slog.Bool("from", tr.From))
	}
	attrs = append(attrs, slog.Bool("to", tr.To))
	if tr.Error != "" {
		attrs = append(attrs, slog.String("error", tr.Error))
	}
	t.logger.LogAttrs(context.Background(), level, msg, attrs...)
}

// checkError is the reason a failed check gives, with secrets masked: a
// receiver may have put a DSN with its password into its error, and logs
// are read by more people than the database.
func checkError(data map[string]any) string {
	for _, k := range []string{"error", "message"} {
		if s, ok := data[k].(string); ok && s != "" {
			return redact.String(s)
		}
	}
	return "status false"
}

// failing lists the names of rep's failed checks.
func failing(rep Report) string {
	var names []string
	for i := range rep.Checks {
		if !rep.Checks[i].Reply.Status {
			names = append(names, rep.Checks[i].Reply.Name)
		}
	}
	return strings.Join(names, ", ")
}
