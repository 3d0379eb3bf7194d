// Package flight runs a function at most once at a time and shares the run
// with every caller that arrives while it is under way, in the shape of
// golang.org/x/sync/singleflight. It is the one coalescing primitive of
// heartbeat: the bus runs each receiver through a Group, and the bundled
// receivers run each backend call through one.
//
// A caller waits on a Call's Done channel, which is closed when the run ends:
// a caller that stops waiting (its deadline passed, its client hung up)
// leaves nothing behind, and the next caller joins the same run.
package flight

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Group runs one function at a time. The zero Group is ready to use.
type Group[T any] struct {
	// Fault, when set, turns a run that panicked or called runtime.Goexit
	// into a value, so that every caller of that run sees one; it is called
	// on the run's goroutine with Err set. Without it such a run's Val is T's
	// zero value; Err says what happened either way.
	Fault func(c *Call[T]) T

	mu   sync.Mutex
	cur  *Call[T]                // the run under way, if any; guarded by mu
	last atomic.Pointer[Call[T]] // the run that ended most recently
}

// Call is one run of a Group's function.
type Call[T any] struct {
	done chan struct{}

	// Started is when the run began. It is set before the Call is shared.
	Started time.Time
	// Val is what the run returned, or what Group.Fault made of its panic.
	// Read it only after Done is closed.
	Val T
	// Err is a *PanicError when the function panicked or called
	// runtime.Goexit, else nil. Read it only after Done is closed.
	Err error
	// Ended is when the run ended. Read it only after Done is closed.
	Ended time.Time

	claimed atomic.Bool
}

// Done is closed when the run has ended.
func (c *Call[T]) Done() <-chan struct{} { return c.done }

// Finished reports whether the run has ended, without waiting for it.
func (c *Call[T]) Finished() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// Claim reports true to its first caller only: a way for one of the parties
// that see a run (the run itself, a caller that gave up on it) to act once
// per run, such as reporting its outcome.
func (c *Call[T]) Claim() bool { return c.claimed.CompareAndSwap(false, true) }

// How says how a caller of Do came by its run.
type How int

// The ways of Do.
const (
	// Started is a new run of the caller's function.
	Started How = iota
	// Joined is the run under way, started by an earlier caller.
	Joined
	// Reused is the last run, ended, which reuse accepted.
	Reused
)

// Do returns the run to wait for. When the last run ended and reuse accepts
// it, that run is returned and nothing runs; reuse may be nil, to never
// reuse an ended run. Otherwise Do joins the run under way, or starts fn on
// a goroutine of its own, handing it the new Call.
func (g *Group[T]) Do(reuse func(last *Call[T]) bool, fn func(c *Call[T]) T) (*Call[T], How) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if last := g.last.Load(); last != nil && reuse != nil && reuse(last) {
		return last, Reused
	}
	if g.cur != nil {
		return g.cur, Joined
	}
	c := &Call[T]{done: make(chan struct{}), Started: time.Now()}
	g.cur = c
	go g.run(c, fn)
	return c, Started
}

// Last returns the run that ended most recently, or nil.
func (g *Group[T]) Last() *Call[T] { return g.last.Load() }

// run calls fn and ends c. As in singleflight's doCall, two defers tell a
// panic (recovered by the inner one) from runtime.Goexit (which runs the
// outer one without the function having returned or panicked).
func (g *Group[T]) run(c *Call[T], fn func(c *Call[T]) T) {
	normal, recovered := false, false
	defer func() {
		if !normal && !recovered {
			c.Err = &PanicError{Goexit: true}
		}
		if c.Err != nil && g.Fault != nil {
			c.Val = g.Fault(c)
		}
		c.Ended = time.Now()
		g.mu.Lock()
		g.cur = nil
		g.last.Store(c)
		g.mu.Unlock()
		close(c.done)
	}()
	func() {
		defer func() {
			if !normal {
				if v := recover(); v != nil {
					recovered = true
					c.Err = &PanicError{Value: v}
				}
			}
		}()
		c.Val = fn(c)
		normal = true
	}()
}

// PanicError is a Call's Err when its function did not return.
type PanicError struct {
	// Value is what the function panicked with; nil for Goexit.
	Value any
	// Goexit is true when the function called runtime.Goexit.
	Goexit bool
}

// Error reads "panic: <value>" or says that the function called
// runtime.Goexit. The value is printed as it is: callers that show it to
// people scrub it first.
func (e *PanicError) Error() string {
	if e.Goexit {
		return "exited without returning (runtime.Goexit)"
	}
	return fmt.Sprintf("panic: %v", e.Value)
}
