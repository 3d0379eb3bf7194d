package signal

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// subscription is one receiver on one signal, with the run it may have under
// way and the reply it last finished with.
type subscription struct {
	fn      Receiver
	name    string // from Named; wins over reply names
	derived string // from the function, until a reply names the receiver
	timeout time.Duration
	ttl     time.Duration

	replied atomic.Pointer[string] // the name of the latest reply, if any
	last    atomic.Pointer[outcome]

	mu       sync.Mutex
	inflight *run
}

// run is one call of a receiver, shared by every publish that arrives while
// it is under way.
type run struct {
	started time.Time
	done    chan struct{}
	out     *outcome // set before done is closed
}

// outcome is a finished run's reply, encoded once for every publish that
// reuses it.
type outcome struct {
	reply    Reply
	fields   []Field
	json     []byte
	fault    error
	finished time.Time
	expires  time.Time
}

// Errors a Result's Fault may wrap, for callers that tell a hung receiver from
// a broken one.
var (
	// ErrTimeout: the receiver did not reply before its deadline.
	ErrTimeout = errors.New("timed out")
	// ErrPanic: the receiver panicked.
	ErrPanic = errors.New("panicked")
	// ErrEncoding: the reply's data cannot be encoded as JSON.
	ErrEncoding = errors.New("reply data cannot be encoded as JSON")
	// ErrCanceled: the publish's context ended before the receiver replied.
	ErrCanceled = errors.New("probe canceled")
)

func (s *subscription) displayName() string {
	if s.name != "" {
		return s.name
	}
	if p := s.replied.Load(); p != nil {
		return *p
	}
	return s.derived
}

// begin returns the reply to reuse at now, or else the run to wait for,
// starting one if none is under way.
func (s *subscription) begin(ctx context.Context, now time.Time) (*outcome, *run) {
	if o := s.last.Load(); o != nil && now.Before(o.expires) {
		return o, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if o := s.last.Load(); o != nil && now.Before(o.expires) {
		return o, nil
	}
	if s.inflight == nil {
		r := &run{started: now, done: make(chan struct{})}
		s.inflight = r
		go s.execute(ctx, r)
	}
	return nil, s.inflight
}

// margin is how much earlier than the publish's deadline the receiver's own
// context expires, so that a receiver which honours its context can report
// its own cause ("connection refused") before the bus gives up on it.
func margin(timeout time.Duration) time.Duration {
	return min(timeout/10, 50*time.Millisecond)
}

// execute calls the receiver once. The run outlives the publish that started
// it, so its context keeps that publish's values but not its cancellation,
// and has a deadline of its own.
func (s *subscription) execute(parent context.Context, r *run) {
	ctx, cancel := context.WithDeadline(context.WithoutCancel(parent),
		r.started.Add(s.timeout-margin(s.timeout)))
	defer cancel()

	var reply Reply
	var fault error
	returned := false
	defer func() {
		if !returned {
			if v := recover(); v != nil {
				fault = fmt.Errorf("%w: %v", ErrPanic, v)
			} else {
				fault = fmt.Errorf("%w: the receiver exited without replying (runtime.Goexit)", ErrPanic)
			}
		}
		s.finish(r, reply, fault)
	}()
	reply = s.fn(ctx)
	returned = true
}

func (s *subscription) finish(r *run, reply Reply, fault error) {
	finished := time.Now()
	if took := finished.Sub(r.started); fault == nil && took > s.timeout {
		fault = fmt.Errorf("%w after %v (the reply came after %v)", ErrTimeout, s.timeout, took.Round(time.Millisecond))
	}
	if fault == nil && reply.Name != "" && s.name == "" {
		name := reply.Name
		if p := s.replied.Load(); p == nil || *p != name {
			s.replied.Store(&name)
		}
	}
	o := s.encode(reply, fault)
	o.finished = finished
	o.expires = finished.Add(s.ttl)

	s.mu.Lock()
	s.last.Store(o)
	s.inflight = nil
	s.mu.Unlock()
	r.out = o
	close(r.done)
}

// encode turns a reply into an outcome, replacing it by a failed reply when
// the bus faulted it or its data cannot be encoded.
func (s *subscription) encode(reply Reply, fault error) *outcome {
	if fault == nil {
		o := &outcome{reply: reply}
		o.reply.Name = s.nameFor(reply)
		var err error
		o.fields, err = encodeFields(reply.Data)
		if err == nil {
			o.json = appendCheck(nil, reply.Status, o.fields)
			return o
		}
		fault = fmt.Errorf("%w: %v", ErrEncoding, err)
	}
	return s.failed(fault)
}

func (s *subscription) failed(fault error) *outcome {
	o := &outcome{
		reply: Reply{Name: s.displayName(), Data: map[string]any{"error": fault.Error()}},
		fault: fault,
	}
	o.fields, _ = encodeFields(o.reply.Data)
	o.json = appendCheck(nil, false, o.fields)
	return o
}

func (s *subscription) nameFor(reply Reply) string {
	switch {
	case s.name != "":
		return s.name
	case reply.Name != "":
		return reply.Name
	default:
		return s.derived
	}
}

// overdue is the reply for a run that missed this publish's deadline.
func (s *subscription) overdue(ctx context.Context, start time.Time, r *run) Result {
	var fault error
	if err := ctx.Err(); err != nil && time.Since(start) < s.timeout {
		fault = fmt.Errorf("%w after %v: %v", ErrCanceled, time.Since(start).Round(time.Millisecond), context.Cause(ctx))
	} else if running := time.Since(r.started); running > s.timeout+s.timeout/2 {
		// The publish joined a run that had already overrun: say it hangs.
		fault = fmt.Errorf("%w after %v; the check has been running for %v",
			ErrTimeout, s.timeout, running.Round(time.Millisecond))
	} else {
		fault = fmt.Errorf("%w after %v", ErrTimeout, s.timeout)
	}
	return s.failed(fault).result(false)
}

func (o *outcome) result(reused bool) Result {
	return Result{Reply: o.reply, JSON: o.json, Fields: o.fields, Fault: o.fault, Reused: reused}
}
