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
	"time"

	"github.com/oarepo/heartbeat/internal/flight"
)

// Flight runs a receiver's backend call at most once at a time. A probe that
// arrives while an earlier call is still running (its caller gave up at the
// deadline, the client did not) waits for that call instead of starting
// another, so a hung backend sees one request per receiver, not one per
// probe. T is what a successful call returns besides its error, such as a
// server's role. The zero Flight is ready to use.
type Flight[T any] struct {
	// Addr, when set, returns the host:port of the server. On a timeout Do
	// dials it once to tell a refused port from a server that accepts and
	// stays silent. Nil or "" skips the check.
	Addr func() string

	group flight.Group[outcome[T]]
}

// outcome is what one backend call returned, and which Do started it.
type outcome[T any] struct {
	val T
	err error
	by  *byte
}

type call[T any] = flight.Call[outcome[T]]

// diagnoseShare is the part of the time budget kept back, near the deadline,
// for the TCP dial that explains a timeout; diagnoseMax caps it, and budgets
// too small to share skip the check.
const (
	diagnoseShare = 10
	diagnoseMax   = 100 * time.Millisecond
	diagnoseMin   = 5 * time.Millisecond
)

// Do runs fn, or joins the call already running, and returns its result. If
// ctx ends first, Do returns a *TimeoutError by the deadline and leaves the
// call to finish in the background; fn gets ctx, so a client that honours
// it stops at the same moment. A call that fails with nothing but the
// context's own error is reported as a timeout too, so the message says
// how long it waited and, when it can, why.
func (f *Flight[T]) Do(ctx context.Context, fn func(context.Context) (T, error)) (T, error) {
	start := time.Now()
	me := new(byte) // tells the calls this Do started from those it joined
	c := f.start(ctx, fn, me)

	// Shortly before the deadline, spend what is left on a plain TCP dial
	// to the server: it tells a refused port from a silent server.
	var early <-chan time.Time
	if deadline, ok := ctx.Deadline(); ok && f.Addr != nil {
		left := time.Until(deadline)
		if margin := min(left/diagnoseShare, diagnoseMax); margin >= diagnoseMin {
			t := time.NewTimer(left - margin)
			defer t.Stop()
			early = t.C
		}
	}
	var (
		cause chan string
		zero  T
		asked bool // whether we asked again after a joined call failed
	)
	for {
		select {
		case <-c.Done():
			out := c.Val
			if c.Err != nil { // a panicking client must not take the process down with it
				out.err = fmt.Errorf("backend call %v", c.Err)
			}
			if isTimeout(out.err) && expired(ctx) {
				// The client saw the same deadline a moment before we
				// did; say it the same way either way.
				return zero, f.timeout(ctx, c, start, found(cause))
			}
			if out.err != nil && out.by != me && !asked {
				// The joined call failed for an earlier caller: it ran out
				// of that caller's time, or met an outage that may be
				// over (a connection cut before a restart). Ask once more
				// with our context; that call, too, is the only one.
				asked = true
				c = f.start(ctx, fn, me)
				continue
			}
			return out.val, out.err
		case <-ctx.Done():
			return zero, f.timeout(ctx, c, start, found(cause))
		case <-early:
			early = nil
			cause = make(chan string, 1)
			go func() { cause <- dialCheck(ctx, f.Addr()) }()
		}
	}
}

// expired tells whether ctx has ended or is about to: a client that copies
// the deadline onto its socket can report "i/o timeout" a few microseconds
// before the context's own timer fires.
func expired(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	deadline, ok := ctx.Deadline()
	return ok && time.Until(deadline) < time.Millisecond
}

// found is what the dial check found so far, or "".
func found(cause chan string) string {
	select {
	case s := <-cause:
		return s
	default: // not started (nil channel) or not finished
		return ""
	}
}

// isTimeout covers the context's errors and a network deadline derived from
// it (go-redis with ContextTimeoutEnabled reports "i/o timeout").
func isTimeout(err error) bool {
	var ne net.Error
	return isContextErr(err) || errors.As(err, &ne) && ne.Timeout()
}

func isContextErr(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}

// timeout builds the answer for a call c that outlived ctx. The error of
// an earlier call is added when it says more than "deadline exceeded"; c's
// own error is not, as it can only be ctx's, seen a moment late.
func (f *Flight[T]) timeout(ctx context.Context, c *call[T], start time.Time, cause string) *TimeoutError {
	te := &TimeoutError{After: time.Since(start), Cause: cause, Err: ctx.Err()}
	if last := f.group.Last(); last != nil && last != c && last.Val.err != nil && !isContextErr(last.Val.err) {
		te.Last = last.Val.err
	}
	return te
}

// start returns the call in flight, starting one with ctx if there is none.
func (f *Flight[T]) start(ctx context.Context, fn func(context.Context) (T, error), by *byte) *call[T] {
	c, _ := f.group.Do(nil, func(*call[T]) outcome[T] {
		v, err := fn(ctx)
		return outcome[T]{val: v, err: err, by: by}
	})
	return c
}

// dialCheck opens and closes one TCP connection to addr within ctx and
// describes what happened, or returns "" when there is nothing to add.
func dialCheck(ctx context.Context, addr string) string {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		// Not a TCP address: empty, or a placeholder such as the
		// "FailoverClient" of go-redis's sentinel client.
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
