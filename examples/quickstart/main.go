// Command quickstart is a small service with heartbeat's probes: it serves
// readiness, liveliness and environ on 127.0.0.1:8080 (see -addr) with a few
// sample receivers, all of which pass.
//
//	go run ./examples/quickstart
//	curl -i http://127.0.0.1:8080/.well-known/heartbeat/readiness
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/oarepo/heartbeat/httpapi"
	hbsignal "github.com/oarepo/heartbeat/signal"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, nil); err != nil {
		slog.Error("quickstart stopped", "error", err)
		os.Exit(1)
	}
}

// run serves until ctx is done. When ready is not nil it receives the
// listening address, which lets tests use port 0.
func run(ctx context.Context, addr string, ready chan<- string) error {
	bus := newBus()
	r := chi.NewRouter()
	r.Get("/", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "quickstart: probes under /.well-known/heartbeat/")
	})
	r.Mount("/", httpapi.Router(bus))

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: r, ReadHeaderTimeout: 5 * time.Second}
	slog.Info("serving heartbeat probes", "url", "http://"+ln.Addr().String()+httpapi.DefaultPrefix+"/readiness")
	if ready != nil {
		ready <- ln.Addr().String()
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// newBus subscribes the sample receivers.
func newBus() *hbsignal.Bus {
	bus := hbsignal.NewBus()
	started := time.Now()

	// Readiness: something the service needs before it takes traffic.
	bus.Subscribe(hbsignal.Readiness, func(ctx context.Context) hbsignal.Reply {
		t := time.Now()
		err := ctx.Err() // a real check would ping a backend with ctx here
		if err != nil {
			return hbsignal.Reply{Name: "sample", Status: false, Data: map[string]any{"error": err.Error()}}
		}
		return hbsignal.Reply{Name: "sample", Status: true, Data: map[string]any{"time": time.Since(t).Seconds()}}
	}, hbsignal.Named("sample"))

	// Liveliness: only what this process itself can fix by restarting.
	bus.Subscribe(hbsignal.Liveliness, func(context.Context) hbsignal.Reply {
		return hbsignal.Reply{Name: "process", Status: true, Data: map[string]any{
			"goroutines": runtime.NumGoroutine(),
			"uptime":     time.Since(started).Round(time.Second).String(),
		}}
	}, hbsignal.Named("process"))

	// Environ: what is running here, merged into the built-in description.
	bus.Subscribe(hbsignal.Environ, func(context.Context) hbsignal.Reply {
		return hbsignal.Reply{Status: true, Data: map[string]any{"service": "quickstart"}}
	})
	return bus
}
