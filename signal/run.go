package signal

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oarepo/heartbeat/redact"
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
	instant atomic.Bool            // the latest run replied, and within instant
	last    atomic.Pointer[outcome]

	mu       sync.Mutex
	inflight *run
}

// run is one call of a receiver, shared by every publish that arrives while
// it is under way.
type run struct {
	started time.Time
	s       *subscription
	rc      *runContext
	claimed atomic.Bool // set by whoever executes the run: a batch or its own worker
	began   time.Time   // when the receiver was called, set by the executor

	mu      sync.Mutex
	out     *outcome   // set when the run finishes
	waiters []*waiter  // publishes to tell when it finishes
	inline  [2]*waiter // waiters' first array: most runs have one or two
}

// waiter is one publish waiting for its runs: the last run to finish closes
// done, so a publish wakes once, not once per receiver.
type waiter struct {
	pending atomic.Int32
	done    chan struct{}
}

func newWaiter() *waiter {
	w := &waiter{done: make(chan struct{})}
	w.pending.Store(1) // the publish's own hold, released once it has joined every run
	return w
}

func (w *waiter) release() {
	if w.pending.Add(-1) == 0 {
		close(w.done)
	}
}

// join registers w to be told when r finishes; it returns the outcome
// instead when r has finished already.
func (r *run) join(w *waiter) *outcome {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.out != nil {
		return r.out
	}
	w.pending.Add(1)
	r.waiters = append(r.waiters, w)
	return nil
}

// leave forgets w, which gave up waiting: a run that hangs forever must not
// collect one waiter per probe. It releases w's count for r itself, so that
// w still wakes when its other runs finish.
func (r *run) leave(w *waiter) {
	r.mu.Lock()
	i := slices.Index(r.waiters, w)
	if i >= 0 {
		r.waiters = slices.Delete(r.waiters, i, i+1)
	}
	r.mu.Unlock()
	if i >= 0 {
		w.release()
	}
}

// outcome returns the run's outcome, or nil while it is under way.
func (r *run) outcome() *outcome {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.out
}

func (r *run) complete(o *outcome) {
	r.mu.Lock()
	r.out = o
	ws := r.waiters
	r.waiters = nil
	r.mu.Unlock()
	for _, w := range ws {
		w.release()
	}
}

// runContext is the context of the runs one publish starts with one timeout:
// they share its deadline, so they share one timer, which is stopped when the
// last of them finishes.
type runContext struct {
	timeout time.Duration
	ctx     context.Context
	cancel  context.CancelFunc
	refs    atomic.Int32
}

// runContextFor returns the publish's run context for timeout, creating it
// on first need.
func runContextFor(rcs *[]*runContext, parent context.Context, now time.Time, timeout time.Duration) *runContext {
	for _, rc := range *rcs {
		if rc.timeout == timeout {
			return rc
		}
	}
	ctx, cancel := context.WithDeadline(context.WithoutCancel(parent), now.Add(timeout-margin(timeout)))
	rc := &runContext{timeout: timeout, ctx: ctx, cancel: cancel}
	rc.refs.Store(1) // the publish's own hold, released once it has started its runs
	*rcs = append(*rcs, rc)
	return rc
}

func (rc *runContext) release() {
	if rc.refs.Add(-1) == 0 {
		rc.cancel()
	}
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
// creating one if none is under way. A run it creates gets its context from
// rcs, the publish's run contexts, and is added to starts for the publish
// to start.
func (s *subscription) begin(now time.Time, parent context.Context, rcs *[]*runContext, starts *[]*run) (*outcome, *run) {
	if o := s.last.Load(); o != nil && now.Before(o.expires) {
		return o, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if o := s.last.Load(); o != nil && now.Before(o.expires) {
		return o, nil
	}
	if s.inflight == nil {
		r := &run{started: now}
		r.waiters = r.inline[:0]
		s.inflight = r
		r.s = s
		r.rc = runContextFor(rcs, parent, now, s.timeout)
		r.rc.refs.Add(1)
		*starts = append(*starts, r)
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
func (s *subscription) execute(rc *runContext, r *run) {
	defer rc.release()
	r.began = time.Now()
	var reply Reply
	var fault error
	returned := false
	defer func() {
		if !returned {
			if v := recover(); v != nil {
				// A panic value can be anything, a DSN included.
				fault = fmt.Errorf("%w: %s", ErrPanic, redact.String(fmt.Sprint(v)))
			} else {
				fault = fmt.Errorf("%w: the receiver exited without replying (runtime.Goexit)", ErrPanic)
			}
		}
		s.finish(r, reply, fault)
	}()
	reply = s.fn(rc.ctx)
	returned = true
}

func (s *subscription) finish(r *run, reply Reply, fault error) {
	finished := time.Now()
	if took := finished.Sub(r.started); fault == nil && took > s.timeout {
		fault = fmt.Errorf("%w after %v (the reply came after %v)", ErrTimeout, s.timeout, took.Round(time.Millisecond))
	}
	if fault == nil && finished.Sub(r.began) < instant {
		s.instant.Store(true)
	} else {
		s.instant.Store(false)
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
	r.complete(o)
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
			o.json = checkJSON(reply.Status, o.fields)
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
