// Package backend holds what the bundled backend receivers share: a call
// that answers by the context deadline even when the client library does
// not, that never has more than one request in flight per receiver, and that
// says why it timed out when a quick look can tell.
package backend

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// Flight runs a receiver's backend call at most once at a time. A probe that
// arrives while an earlier call is still running (its caller gave up at the
// deadline, the client did not) waits for that call instead of starting
// another, so a hung backend sees one request per receiver, not one per
// probe. The zero Flight is ready to use.
type Flight struct {
	// Addr, when set, returns the host:port of the server. On a timeout Do
	// dials it once to tell a refused port from a server that accepts and
	// stays silent. Nil or "" skips the check.
	Addr func() string

	mu   sync.Mutex
	cur  *call
	last *call // the call that finished most recently
}

type call struct {
	done chan struct{}
	err  error
}

// diagnoseShare is the part of the time budget kept back, near the deadline,
// for the TCP dial that explains a timeout; diagnoseMax caps it, and budgets
// too small to share skip the check.
const (
	diagnoseShare = 10
	diagnoseMax   = 100 * time.Millisecond
	diagnoseMin   = 5 * time.Millisecond
)

// Do runs fn, or joins the call already running, and returns its error. If
// ctx ends first, Do returns a *TimeoutError by the deadline and leaves the
// call to finish in the background; fn gets ctx, so a client that honours
// it stops at the same moment.
func (f *Flight) Do(ctx context.Context, fn func(context.Context) error) error {
	start := time.Now()
	c := f.start(ctx, fn)

	deadline, hasDeadline := ctx.Deadline()
	margin := min(time.Until(deadline)/diagnoseShare, diagnoseMax)
	if !hasDeadline || f.Addr == nil || margin < diagnoseMin {
		select {
		case <-c.done:
			return c.err
		case <-ctx.Done():
			return f.timeout(ctx, c, start, "")
		}
	}

	// Wait until shortly before the deadline, then use the rest to find
	// out what the server does with a plain TCP connection.
	early := time.NewTimer(time.Until(deadline) - margin)
	defer early.Stop()
	select {
	case <-c.done:
		return c.err
	case <-ctx.Done():
		return f.timeout(ctx, c, start, "")
	case <-early.C:
	}
	cause := make(chan string, 1)
	go func() { cause <- dialCheck(ctx, f.Addr()) }()
	select {
	case <-c.done:
		return c.err
	case <-ctx.Done():
		select {
		case found := <-cause:
			return f.timeout(ctx, c, start, found)
		default:
			return f.timeout(ctx, c, start, "")
		}
	}
}

// timeout builds the answer for a call c that outlived ctx. The error of
// an earlier call is added when it says more than "deadline exceeded"; c's
// own error is not, as it can only be ctx's, seen a moment late.
func (f *Flight) timeout(ctx context.Context, c *call, start time.Time, cause string) *TimeoutError {
	f.mu.Lock()
	last := f.last
	f.mu.Unlock()
	te := &TimeoutError{After: time.Since(start), Cause: cause, Err: ctx.Err()}
	if last != nil && last != c && last.err != nil &&
		!errors.Is(last.err, context.DeadlineExceeded) && !errors.Is(last.err, context.Canceled) {
		te.Last = last.err
	}
	return te
}

// start returns the call in flight, starting one if there is none.
func (f *Flight) start(ctx context.Context, fn func(context.Context) error) *call {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cur != nil {
		return f.cur
	}
	c := &call{done: make(chan struct{})}
	f.cur = c
	go func() {
		defer close(c.done)
		defer func() {
			// A panicking client must not take the process down with it;
			// the bus recovers receivers, but this goroutine is ours.
			if r := recover(); r != nil {
				c.err = fmt.Errorf("backend call panicked: %v", r)
			}
			f.mu.Lock()
			f.cur = nil
			f.last = c
			f.mu.Unlock()
		}()
		c.err = fn(ctx)
	}()
	return c
}

// dialCheck opens and closes one TCP connection to addr within ctx and
// describes what happened, or returns "" when there is nothing to add.
func dialCheck(ctx context.Context, addr string) string {
	if addr == "" {
		return ""
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		if ctx.Err() != nil {
			return "no answer to a TCP connect to " + addr + " either"
		}
		return err.Error()
	}
	_ = conn.Close()
	return "the server at " + addr + " accepts TCP connections but the call got no answer in time"
}

// TimeoutError is Do's answer when the context ended before the backend
// call did.
type TimeoutError struct {
	// After is how long Do waited.
	After time.Duration
	// Cause is what a quick TCP dial found, or "".
	Cause string
	// Last is the error of the previous call, which may have finished after
	// its own caller gave up; nil if it succeeded or there was none.
	Last error
	// Err is the context's error.
	Err error
}

// Error reads "timed out after 300ms" and adds the cause when one is known.
func (e *TimeoutError) Error() string {
	verb := "timed out"
	if errors.Is(e.Err, context.Canceled) {
		verb = "canceled"
	}
	msg := fmt.Sprintf("%s after %s", verb, e.After.Round(time.Millisecond))
	if e.Cause != "" {
		msg += ": " + e.Cause
	}
	if e.Last != nil {
		msg += "; the previous check failed with: " + e.Last.Error()
	}
	return msg
}

// Unwrap returns the context's error, so errors.Is(err,
// context.DeadlineExceeded) holds.
func (e *TimeoutError) Unwrap() error { return e.Err }
