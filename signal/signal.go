// Package signal is heartbeat's event bus: receivers subscribe to a named
// signal, and publishing that signal runs every subscribed receiver and
// collects their replies.
//
// The bus is built on github.com/asaskevich/EventBus, wrapped so that none of
// its limits reach the user: receivers run concurrently, each under a
// deadline; a receiver that hangs or panics becomes a failed reply instead of
// blocking or crashing the caller; a receiver never runs twice at once, so
// any number of concurrent publishes share one run; and unsubscribing removes
// exactly the receiver it was returned for.
package signal

import "context"

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
// encodable as JSON; a reply whose data cannot be encoded is reported as a
// failed check.
type Reply struct {
	Name   string
	Status bool
	Data   map[string]any
}

// Receiver is a check subscribed to a signal. It must honour ctx: the bus
// gives it a deadline and stops waiting for it when the deadline passes.
type Receiver func(ctx context.Context) Reply
