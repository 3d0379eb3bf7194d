// Package drain takes a server out of rotation before it stops: readiness
// fails at once, the server keeps serving for a delay while endpoints and
// load balancers stop sending it traffic, then it shuts down and lets the
// requests in flight finish.
//
// It is the --shutdown-delay-duration pattern of kube-apiserver. Without it,
// a pod that exits on SIGTERM refuses connections that kube-proxy, an
// ingress controller or a cloud load balancer still routes to it for the few
// seconds they take to notice the pod is terminating.
//
// A Drain holds the state; its check, subscribed to readiness like any other
// receiver, makes the readiness probe report it, and Serve or Shutdown drive
// an http.Server through it:
//
//	d := &drain.Drain{Delay: 5 * time.Second}
//	d.Subscribe(bus) // the "shutdown" check on readiness
//	srv := &http.Server{Handler: httpapi.Router(bus)}
//	err := d.Serve(ctx, srv, ln) // until SIGTERM, SIGINT or ctx ends
package drain

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	ossignal "os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/oarepo/heartbeat/signal"
)

// DefaultTimeout is how long Shutdown waits for requests in flight after the
// delay when Drain.Timeout is zero. It is a third of the kubelet's default
// termination grace period of 30 s, leaving room for a delay of several
// seconds before it.
const DefaultTimeout = 10 * time.Second

// Drain is the shutdown state of one server. The zero Drain is ready to use:
// not draining, no delay, DefaultTimeout. A Drain is safe for concurrent use;
// fill in its fields before it is shared.
type Drain struct {
	// Delay is how long readiness fails, while the server still serves,
	// before Shutdown closes the listeners. Optional; zero closes them at
	// once. Set it to the time your load balancers take to stop routing to a
	// pod: a few seconds for kube-proxy, the probe interval times the
	// failure threshold for a load balancer that probes readiness itself.
	Delay time.Duration
	// Timeout bounds how long Shutdown waits, after the delay, for requests
	// in flight to finish before it closes their connections. Optional; zero
	// means DefaultTimeout (10s).
	Timeout time.Duration
	// Logger receives one record when the drain starts and one when the
	// server has shut down. Optional; nil logs nothing.
	Logger *slog.Logger

	state atomic.Pointer[State]
}

// State says why and since when a server is draining.
type State struct {
	// Reason is what started the drain, such as "received terminated".
	Reason string
	// Since is when the drain started.
	Since time.Time
}

// Start puts the server into draining: from now on State reports it, and a
// the check (Subscribe, Check) fails readiness with the reason. Only
// the first call has an effect, so the first reason is kept; Start reports
// whether this call was it. A draining server never becomes ready again:
// draining is the way out of a process, not a pause.
func (d *Drain) Start(reason string) bool {
	s := &State{Reason: reason, Since: time.Now()}
	if !d.state.CompareAndSwap(nil, s) {
		return false
	}
	if d.Logger != nil {
		d.Logger.Info("heartbeat: draining, readiness now fails",
			"reason", reason, "delay", d.Delay, "timeout", d.timeout())
	}
	return true
}

// State returns the drain's state, or nil while the server is not draining.
// It is one atomic load, cheap enough for every probe.
func (d *Drain) State() *State {
	return d.state.Load()
}

// Check is the drain's readiness check: it passes until the drain starts,
// then fails with "draining: <reason>" and the time it started, "since".
// It answers at once, from one atomic load.
func (d *Drain) Check(context.Context) signal.Reply {
	st := d.State()
	if st == nil {
		return signal.Reply{Name: CheckName, Status: true}
	}
	return signal.Reply{Name: CheckName, Status: false, Data: map[string]any{
		"error": "draining: " + st.Reason,
		"since": st.Since.UTC().Format(time.RFC3339Nano),
	}}
}

// CheckName is the name Subscribe gives the drain's check.
const CheckName = "shutdown"

// Subscribe subscribes the drain's Check to bus's readiness, named
// CheckName, with reuse off so that readiness fails with the very next probe
// once the drain starts, and returns the function that unsubscribes it. As
// an ordinary check it can be excluded, probed on its own path
// (/readiness/shutdown) and observed like any other.
func (d *Drain) Subscribe(bus *signal.Bus) (unsubscribe func()) {
	return bus.Subscribe(signal.Readiness, d.Check, signal.Named(CheckName), signal.WithCacheTTL(0))
}

func (d *Drain) timeout() time.Duration {
	if d.Timeout > 0 {
		return d.Timeout
	}
	return DefaultTimeout
}

// Shutdown drains srv: it starts the drain if nothing has yet, waits until
// Delay has passed since the drain started, then calls srv.Shutdown, which
// closes the listeners and waits up to Timeout for requests in flight. If
// they do not finish in time, or ctx ends first, their connections are
// closed and Shutdown returns the error that says so. When ctx ends during
// the delay the rest of the delay is skipped, so a second signal can stop a
// server at once.
func (d *Drain) Shutdown(ctx context.Context, srv *http.Server) error {
	d.Start("shutting down")
	if wait := time.Until(d.State().Since.Add(d.Delay)); wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	sctx, cancel := context.WithTimeout(ctx, d.timeout())
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
		return fmt.Errorf("drain: requests in flight did not finish, their connections were closed: %w", err)
	}
	if d.Logger != nil {
		d.Logger.Info("heartbeat: drained, server shut down",
			"after", time.Since(d.State().Since).Round(time.Millisecond))
	}
	return nil
}

// Serve serves srv on ln until SIGTERM or SIGINT arrives or ctx ends, then
// drains it (see Shutdown) and returns nil once it has shut down cleanly. A
// second signal during the drain skips the rest of the delay and stops
// waiting for requests in flight. An error of srv.Serve itself is returned
// as it is.
func (d *Drain) Serve(ctx context.Context, srv *http.Server, ln net.Listener) error {
	sigs := make(chan os.Signal, 2)
	ossignal.Notify(sigs, syscall.SIGTERM, os.Interrupt)
	defer ossignal.Stop(sigs)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case s := <-sigs:
		d.Start("received " + s.String())
	case <-ctx.Done():
		d.Start(context.Cause(ctx).Error())
	}

	// The drain outlives ctx, which has usually just ended; only a second
	// signal cuts it short.
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	go func() {
		select {
		case <-sigs:
			cancel()
		case <-sctx.Done():
		}
	}()
	err := d.Shutdown(sctx, srv)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}
