package signal

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/oarepo/heartbeat/internal/flight"
	"github.com/oarepo/heartbeat/internal/wire"
	"github.com/oarepo/heartbeat/redact"
)

// Errors a Result's Fault wraps, telling a hung receiver from a broken one:
// no reply by the deadline (ErrTimeout), a panic or runtime.Goexit
// (ErrPanic), data that cannot be encoded or is too deep or too large
// (ErrEncoding), or the publish's context ended first (ErrCanceled).
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
	// Reused is true when the reply came from an earlier run, still fresh.
	Reused bool
	// Started is when the run that made the reply began.
	Started time.Time
	// Duration is how long that run took; for a run still going at its
	// deadline, how long it had been running.
	Duration time.Duration

	out *outcome // the run's outcome, whose check object is encoded
}

// MarshalJSON returns the check object of the wire format: "status" first,
// then the data's keys in sorted order. A "status" key in the data is left
// out: the reply's Status always wins. It is encoded once, when the run that
// made the reply ends, so reusing a reply encodes nothing again.
func (r Result) MarshalJSON() ([]byte, error) {
	if r.out == nil { // a Result made outside the bus
		return wire.Check(r.Reply.Status, r.Reply.Data)
	}
	return r.out.check, nil
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
	topic  *topic
	signal string
	fn     Receiver // wrapped in its middleware
	settings
	group flight.Group[*outcome]
	// shown is the name the check goes by: Named, else the latest reply's,
	// else, before the first, one derived from the function.
	shown atomic.Pointer[string]
}

func newSubscription(b *Bus, t *topic, signal string, r Receiver, opts []Option) *subscription {
	s := &subscription{bus: b, topic: t, signal: signal, settings: b.defaults}
	s.middleware = nil
	for _, o := range opts {
		o(&s.settings)
	}
	s.name = wire.ValidUTF8(s.name)
	shown := cmp.Or(s.name, wire.FuncName(r))
	s.shown.Store(&shown)
	// The bus's middleware outside the subscription's, the first outermost.
	mw := append(b.defaults.middleware[:len(b.defaults.middleware):len(b.defaults.middleware)], s.middleware...)
	s.fn = r
	for i := len(mw) - 1; i >= 0; i-- {
		s.fn = mw[i](s.fn)
	}
	s.group.Fault = s.panicked
	return s
}

// start returns the run a publish that began at now waits for: the last one
// if its reply is still fresh (reused), else the one under way or a new one.
func (s *subscription) start(parent context.Context, now time.Time) (c *call, reused bool) {
	fresh := func(last *call) bool { return now.Before(last.Ended.Add(s.ttl)) }
	if last := s.group.Last(); last != nil && fresh(last) {
		return last, true // the common case, with nothing to make
	}
	// The run outlives the publish that starts it, so its context keeps the
	// publish's values but not its cancellation. It ends a little before the
	// bus gives up (a tenth of the timeout, at most 50ms), so that a receiver
	// which honours it can report its own cause in time. It is made here, as
	// the run's new goroutine would first have to grow its stack for it.
	early := min(s.timeout/10, 50*time.Millisecond)
	ctx, cancel := context.WithDeadline(context.WithoutCancel(parent), now.Add(s.timeout-early))
	c, how := s.group.Do(fresh, func(c *call) *outcome {
		defer cancel()
		return s.run(ctx, c)
	})
	if how != flight.Started {
		cancel()
	}
	return c, how == flight.Reused
}

// run calls the receiver once, with the context start made for it.
func (s *subscription) run(ctx context.Context, c *call) *outcome {
	reply := s.fn(ctx)
	took := time.Since(c.Started)

	var o *outcome
	if took > s.timeout {
		o = s.failed(fmt.Errorf("%w after %v (the reply came after %v)", ErrTimeout, s.timeout, took.Round(time.Millisecond)))
	} else if o = s.settle(reply); !reply.Status && o.fault == nil && ctx.Err() == context.DeadlineExceeded {
		// It answered a hung backend itself, in its own words: still a timeout.
		o.fault = fmt.Errorf("%w: the receiver failed after its deadline", ErrTimeout)
	}
	s.report(c, o.result(c, false, took))
	return o
}

// report tells the observers how run c came out, if nobody has yet: the run
// itself, or the first publish to give up on it at its deadline.
func (s *subscription) report(c *call, r Result) {
	if c.Claim() {
		s.bus.notify(s, r)
	}
}

// panicked is the outcome of a run that panicked or called runtime.Goexit.
func (s *subscription) panicked(c *call) *outcome {
	why := "the receiver exited without replying (runtime.Goexit)"
	var pe *flight.PanicError
	if errors.As(c.Err, &pe) && !pe.Goexit {
		why = fmt.Sprint(pe.Value) // a panic value can be anything, a DSN included
	}
	o := s.failed(fmt.Errorf("%w: %s", ErrPanic, why))
	s.report(c, o.result(c, false, time.Since(c.Started)))
	return o
}

// settle encodes a reply, or a failed one if its data cannot be, and takes
// its name.
func (s *subscription) settle(reply Reply) *outcome {
	if name := wire.ValidUTF8(reply.Name); name != "" && s.name == "" && *s.shown.Swap(&name) != name {
		s.topic.change(func(subs []*subscription) []*subscription { return subs }) // renamed
	}
	data, err := wire.Clean(reply.Data)
	if err == nil {
		var check []byte
		if check, err = wire.Check(reply.Status, data); err == nil {
			return &outcome{reply: Reply{Name: reply.Name, Status: reply.Status, Data: data}, check: check}
		}
	}
	return s.failed(fmt.Errorf("%w: %v", ErrEncoding, err))
}

// failed is a failed reply saying why; the message passes through the
// scrubber, since a panic value or an encoding error can quote a secret.
func (s *subscription) failed(fault error) *outcome {
	data := map[string]any{"error": redact.String(fault.Error())}
	check, _ := wire.Check(false, data) // a string always encodes
	return &outcome{reply: Reply{Status: false, Data: data}, fault: fault, check: check}
}

// wait waits for c until its deadline or the end of ctx. A run that has ended
// is taken whatever woke the wait: its deadline may have passed meanwhile.
func (s *subscription) wait(ctx context.Context, start time.Time, c *call) Result {
	deadline := c.Started.Add(s.timeout)
	if !c.Finished() {
		timer := time.NewTimer(time.Until(deadline))
		select {
		case <-c.Done():
		case <-timer.C:
		case <-ctx.Done():
		}
		timer.Stop()
	}
	switch {
	case c.Finished():
		return c.Val.result(c, false, c.Ended.Sub(c.Started))
	case ctx.Err() != nil && time.Now().Before(deadline):
		waited := time.Since(start).Round(time.Millisecond)
		fault := fmt.Errorf("%w after %v: %v", ErrCanceled, waited, context.Cause(ctx))
		return s.failed(fault).result(c, false, time.Since(c.Started))
	}
	return s.overdue(c, start)
}

// overdue is the Result of a run still going at its deadline.
func (s *subscription) overdue(c *call, start time.Time) Result {
	running := time.Since(c.Started)
	fault := fmt.Errorf("%w after %v", ErrTimeout, s.timeout)
	if start.Sub(c.Started) > s.timeout {
		// The publish joined a run that was past its deadline: say it hangs.
		fault = fmt.Errorf("%w after %v; the check has been running for %v", ErrTimeout, s.timeout, running.Round(time.Millisecond))
	}
	r := s.failed(fault).result(c, false, running)
	s.report(c, r)
	return r
}

func (o *outcome) result(c *call, reused bool, took time.Duration) Result {
	return Result{Reply: o.reply, Fault: o.fault, Reused: reused, Started: c.Started, Duration: took, out: o}
}
