package signal

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/oarepo/heartbeat/internal/flight"
	"github.com/oarepo/heartbeat/internal/wire"
	"github.com/oarepo/heartbeat/redact"
)

// Errors a Result's Fault wraps, for callers that tell a hung receiver from
// a broken one: it did not reply by its deadline (ErrTimeout), panicked or
// called runtime.Goexit (ErrPanic), replied with data that cannot be encoded
// or is too deep or too large (ErrEncoding), or the publish's context ended
// first (ErrCanceled).
var (
	ErrTimeout  = errors.New("timed out")
	ErrPanic    = errors.New("panicked")
	ErrEncoding = errors.New("reply data cannot be encoded")
	ErrCanceled = errors.New("probe canceled")
)

// Result is one receiver's part in one publish.
type Result struct {
	// Reply is the receiver's reply, or the failed reply that replaced it
	// (see Fault). Its Name is the name the check is reported under, unique
	// within the publish; names and data keys are valid UTF-8.
	Reply Reply
	// Fault wraps one of ErrTimeout, ErrPanic, ErrEncoding and ErrCanceled
	// when the bus replaced the receiver's reply, and ErrTimeout when the
	// receiver failed after its context's deadline (its reply is kept).
	Fault error
	// Reused is true when the reply came from an earlier run, still within
	// its cache period.
	Reused bool
	// Started is when the run that made the reply began.
	Started time.Time
	// Duration is how long that run took; for a run still going at its
	// deadline, how long it had been running.
	Duration time.Duration

	check []byte // the check object, encoded once per run
}

// MarshalJSON returns the check object of the wire format: "status" first,
// then the data's keys in sorted order. A "status" key in the data is left
// out: the reply's Status always wins. It is encoded once, when the run that
// made the reply ends, so reusing a reply encodes nothing again.
func (r Result) MarshalJSON() ([]byte, error) {
	if r.check == nil { // a Result made outside the bus
		return wire.Check(r.Reply.Status, r.Reply.Data)
	}
	return r.check, nil
}

// outcome is what a run came to: the reply or the failed one replacing it.
type outcome struct {
	reply Reply
	fault error
	check []byte
}

type call = flight.Call[*outcome]

// subscription is one receiver on one signal.
type subscription struct {
	bus    *Bus
	signal string
	fn     Receiver // wrapped in its middleware
	settings
	derived string // from the function, until a reply names the receiver

	group flight.Group[*outcome]

	mu      sync.Mutex
	replied string // the name of the latest reply, if any
}

func newSubscription(b *Bus, signal string, r Receiver, opts []Option) *subscription {
	s := &subscription{bus: b, signal: signal, settings: b.defaults, derived: wire.FuncName(r)}
	s.middleware = nil
	for _, o := range opts {
		o(&s.settings)
	}
	s.name = wire.ValidUTF8(s.name)
	// The bus's middleware outside the subscription's, the first outermost.
	mw := append(b.defaults.middleware[:len(b.defaults.middleware):len(b.defaults.middleware)], s.middleware...)
	s.fn = r
	for i := len(mw) - 1; i >= 0; i-- {
		s.fn = mw[i](s.fn)
	}
	s.group.Fault = s.panicked
	return s
}

// currentName is the name the receiver's check goes by now: Named, else its
// latest reply's, else the one derived from its function.
func (s *subscription) currentName() string {
	if s.name != "" {
		return s.name
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.replied != "" {
		return s.replied
	}
	return s.derived
}

// start returns the run a publish that began at now waits for: the last one
// if its reply is still fresh (reused), else the one under way or a new one.
func (s *subscription) start(ctx context.Context, now time.Time) (c *call, reused bool) {
	fresh := func(last *call) bool { return now.Before(last.Ended.Add(s.ttl)) }
	return s.group.Do(fresh, func(c *call) *outcome { return s.run(ctx, c) })
}

// run calls the receiver once. The run outlives the publish that started it,
// so its context keeps that publish's values but not its cancellation, and
// has a deadline of its own, a little before the bus gives up on it.
func (s *subscription) run(parent context.Context, c *call) *outcome {
	ctx, cancel := context.WithDeadline(context.WithoutCancel(parent), c.Started.Add(s.timeout-margin(s.timeout)))
	defer cancel()
	reply := s.fn(ctx)
	took := time.Since(c.Started)

	var o *outcome
	if took > s.timeout {
		o = s.failed(fmt.Errorf("%w after %v (the reply came after %v)", ErrTimeout, s.timeout, took.Round(time.Millisecond)))
	} else if o = s.settle(reply); !reply.Status && o.fault == nil && ctx.Err() == context.DeadlineExceeded {
		// It answered a hung backend itself, in its own words: still a timeout.
		o.fault = fmt.Errorf("%w: the receiver failed after its deadline", ErrTimeout)
	}
	if c.Claim() {
		s.bus.notify(s, o.result(c, false, took))
	}
	return o
}

// margin is how much earlier than the bus's deadline a receiver's context
// ends, so that one which honours it can report its own cause in time.
func margin(timeout time.Duration) time.Duration {
	return min(timeout/10, 50*time.Millisecond)
}

// panicked is the outcome of a run that panicked or called runtime.Goexit.
func (s *subscription) panicked(c *call) *outcome {
	why := "the receiver exited without replying (runtime.Goexit)"
	var pe *flight.PanicError
	if errors.As(c.Err, &pe) && !pe.Goexit {
		why = fmt.Sprint(pe.Value) // a panic value can be anything, a DSN included
	}
	o := s.failed(fmt.Errorf("%w: %s", ErrPanic, why))
	if c.Claim() {
		s.bus.notify(s, o.result(c, false, time.Since(c.Started)))
	}
	return o
}

// settle encodes a reply, or a failed one if its data cannot be, and notes its name.
func (s *subscription) settle(reply Reply) *outcome {
	if reply.Name != "" {
		s.mu.Lock()
		s.replied = wire.ValidUTF8(reply.Name)
		s.mu.Unlock()
	}
	data, err := wire.Clean(reply.Data)
	var check []byte
	if err == nil {
		check, err = wire.Check(reply.Status, data)
	}
	if err != nil {
		return s.failed(fmt.Errorf("%w: %v", ErrEncoding, err))
	}
	return &outcome{reply: Reply{Name: reply.Name, Status: reply.Status, Data: data}, check: check}
}

// failed is a failed reply saying why; the message passes through the
// scrubber, since a panic value or an encoding error can quote a secret.
func (s *subscription) failed(fault error) *outcome {
	msg := redact.String(fault.Error())
	data := map[string]any{"error": msg}
	check, _ := wire.Check(false, data) // a string always encodes
	return &outcome{reply: Reply{Status: false, Data: data}, fault: fault, check: check}
}

// wait waits for c until its deadline or the end of ctx. A run that has
// ended is taken whatever woke the wait: waiting for receivers in turn, a
// later one's deadline may have passed while it sat finished.
func (s *subscription) wait(ctx context.Context, start time.Time, c *call, reused bool) Result {
	if !reused {
		deadline := c.Started.Add(s.timeout)
		timer := time.NewTimer(time.Until(deadline))
		defer timer.Stop()
		select {
		case <-c.Done():
		case <-timer.C:
		case <-ctx.Done():
		}
		select {
		case <-c.Done():
		default:
			if ctx.Err() != nil && time.Now().Before(deadline) {
				waited := time.Since(start).Round(time.Millisecond)
				fault := fmt.Errorf("%w after %v: %v", ErrCanceled, waited, context.Cause(ctx))
				return s.failed(fault).result(c, false, time.Since(c.Started))
			}
			return s.overdue(c, start)
		}
	}
	return c.Val.result(c, reused, c.Ended.Sub(c.Started))
}

// overdue is the Result of a run still going at its deadline. The first
// publish to give up on the run reports it to the observers.
func (s *subscription) overdue(c *call, start time.Time) Result {
	running := time.Since(c.Started)
	fault := fmt.Errorf("%w after %v", ErrTimeout, s.timeout)
	if start.Sub(c.Started) > s.timeout {
		// The publish joined a run that was past its deadline: say it hangs.
		fault = fmt.Errorf("%w after %v; the check has been running for %v", ErrTimeout, s.timeout, running.Round(time.Millisecond))
	}
	r := s.failed(fault).result(c, false, running)
	if c.Claim() {
		s.bus.notify(s, r)
	}
	return r
}

func (o *outcome) result(c *call, reused bool, took time.Duration) Result {
	return Result{Reply: o.reply, Fault: o.fault, Reused: reused, Started: c.Started, Duration: took, check: o.check}
}
