// Package signal is heartbeat's event bus: receivers subscribe to a named
// signal, and publishing that signal runs every subscribed receiver and
// collects their replies.
//
// # What EventBus does here, and what it does not
//
// The bus is built on github.com/asaskevich/EventBus, which routes a publish
// of a signal name to that name's one handler; all the handler does is hand
// back the signal's receiver list. The receivers are heartbeat's own
// subscriptions, not EventBus handlers: EventBus holds one bus-wide lock
// while it calls handlers (a slow receiver would block every probe),
// discards their return values, unsubscribes by a function's code pointer
// (every closure of one literal looks the same to it) and lets a handler's
// panic unwind into the publisher.
//
// Heartbeat runs the receivers itself: concurrently, each under a deadline;
// one that hangs, panics or calls runtime.Goexit becomes a failed reply; a
// receiver never runs twice at once, concurrent publishes share its run, and
// its reply is reused for a while (WithCacheTTL); unsubscribing removes
// exactly the subscription it was returned for.
package signal

import (
	"context"
	"fmt"

	"github.com/oarepo/heartbeat/internal/signame"
)

// The signal names of the heartbeat probes. They are the names the Python
// library oarepo-heartbeat used, so receivers written against its
// documentation keep their meaning.
const (
	// Readiness asks whether the service may take traffic now.
	Readiness = "oarepo.probe.readiness"
	// Liveliness asks whether the process still works or should be restarted.
	Liveliness = "oarepo.probe.liveliness"
	// Environ asks what is running: modules, versions, runtime.
	Environ = "oarepo.probe.environ"
	// Startup asks whether the service has finished starting.
	Startup = "oarepo.probe.startup"
)

// Reply is one receiver's answer: the (name, status, data) tuple of the
// original library. Name identifies the check in the response (environ
// replies may leave it empty), Status says whether it passed, and Data holds
// the keys shown beside the status, such as "time" or "error". Data must be
// encodable as JSON, at most 64 levels deep and 64 KiB encoded; a reply whose
// data is not is reported as a failed check that says why.
type Reply struct {
	Name   string
	Status bool
	Data   map[string]any
}

// Receiver is a check subscribed to a signal. It should honour ctx: the bus
// gives it a deadline and stops waiting for it when the deadline passes.
type Receiver func(ctx context.Context) Reply

// Middleware wraps a receiver, as chi middleware wraps an http.Handler:
// logging, tracing, a circuit breaker, a rewrite of the reply. It runs inside
// the bus's own deadline and panic recovery, which no middleware can remove.
type Middleware func(Receiver) Receiver

// checkName panics for a name meant as a probe's signal that is not one, such
// as "readiness" for Readiness: receivers subscribed under it would silently
// never run. Any other name is a signal of the user's own.
func checkName(name string) {
	if err := signame.Misspelt(name); err != nil {
		panic(fmt.Sprintf("signal: Subscribe(%q): %v", name, err))
	}
}
