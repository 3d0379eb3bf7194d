// Command quickstart is a small service with heartbeat's probes: it serves
// readiness, liveliness (also as liveness), startup and environ on
// 127.0.0.1:8080 (see -addr) with a few sample receivers, all of which pass.
// It compiles no database, search, queue or storage client: examples/backends
// wires the bundled receivers to real servers.
//
//	go run ./examples/quickstart
//	curl -i http://127.0.0.1:8080/.well-known/heartbeat/readiness
//	open http://127.0.0.1:8080/.well-known/heartbeat/   # the status page; it moves as probes run
//
// On SIGTERM or Ctrl-C it drains: readiness fails at once with a "shutdown"
// check, the server keeps serving for -drain-delay (5s) so that load
// balancers stop sending it traffic, then it shuts down and lets requests in
// flight finish. A second signal stops it at once. docs/kubernetes.md runs
// it in a Deployment.
//
// It also serves Prometheus metrics on /metrics and the gRPC health service
// on 127.0.0.1:8081 (see -grpc-addr; docs/observability.md).
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/oarepo/heartbeat/drain"
	"github.com/oarepo/heartbeat/httpapi"
	"github.com/oarepo/heartbeat/monitor"
	"github.com/oarepo/heartbeat/signal"
)

// options are the command's flags.
type options struct {
	addr       string        // where to listen
	drainDelay time.Duration // how long readiness fails before the server shuts down
	warmup     time.Duration // how long the sample startup check fails
	grpcAddr   string        // where gRPC health listens; "" turns it off
}

func main() {
	var o options
	flag.StringVar(&o.addr, "addr", "127.0.0.1:8080", "address to listen on; in a container use :8080")
	flag.DurationVar(&o.drainDelay, "drain-delay", 5*time.Second,
		"on SIGTERM, how long readiness fails while the server still serves, before it shuts down")
	flag.DurationVar(&o.warmup, "warmup", 0, "how long the sample startup check fails after start")
	flag.StringVar(&o.grpcAddr, "grpc-addr", "127.0.0.1:8081", `address of the gRPC health service; in a container use :8081; "" turns it off`)
	flag.Parse()

	if err := run(context.Background(), o, nil); err != nil {
		slog.Error("quickstart stopped", "error", err)
		os.Exit(1)
	}
}

// run serves until SIGTERM, SIGINT or the end of ctx, then drains. When
// ready is not nil it receives the listening address, which lets tests use
// port 0.
func run(ctx context.Context, o options, ready chan<- string) error {
	bus := newBus(o.warmup)
	d := &drain.Drain{Delay: o.drainDelay, Logger: slog.Default()}
	d.Subscribe(bus) // readiness fails with a "shutdown" check once the drain starts
	mon := monitor.New(bus, monitor.WithLogger(slog.Default()))
	defer mon.Close()
	f, err := startFleet(bus, mon, o.grpcAddr)
	if err != nil {
		return err
	}
	defer f.stop()
	r := chi.NewRouter()
	r.Handle("/metrics", f.metrics)
	r.Get("/", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "quickstart: probes and the status page under /.well-known/heartbeat/")
	})
	r.Mount(httpapi.DefaultPrefix, httpapi.Router(bus, httpapi.WithMonitor(mon)))

	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", o.addr, err)
	}
	srv := &http.Server{Handler: r, ReadHeaderTimeout: 5 * time.Second}
	slog.Info("serving heartbeat probes", "url", "http://"+ln.Addr().String()+httpapi.DefaultPrefix+"/readiness",
		"drain-delay", o.drainDelay)
	if ready != nil {
		ready <- ln.Addr().String()
	}
	return d.Serve(ctx, srv, ln)
}

// newBus subscribes the sample receivers.
func newBus(warmup time.Duration) *signal.Bus {
	bus := signal.NewBus()
	started := time.Now()

	// Startup: what must be done once before the other probes mean anything,
	// such as migrations or a cache warm-up. Once it has passed, the startup
	// probe stays passing and this receiver is not run again.
	bus.Subscribe(signal.Startup, func(context.Context) signal.Reply {
		if left := warmup - time.Since(started); left > 0 {
			return signal.Reply{Name: "warmup", Status: false, Data: map[string]any{
				"error": fmt.Sprintf("warming up, %v left", left.Round(time.Second)),
			}}
		}
		return signal.Reply{Name: "warmup", Status: true}
	}, signal.Named("warmup"))

	// Readiness: something the service needs before it takes traffic.
	bus.Subscribe(signal.Readiness, func(ctx context.Context) signal.Reply {
		t := time.Now()
		err := ctx.Err() // a real check would ping a backend with ctx here
		if err != nil {
			return signal.Reply{Name: "sample", Status: false, Data: map[string]any{"error": err.Error()}}
		}
		return signal.Reply{Name: "sample", Status: true, Data: map[string]any{"time": time.Since(t).Seconds()}}
	}, signal.Named("sample"))

	// Liveliness: only what this process itself can fix by restarting.
	bus.Subscribe(signal.Liveliness, func(context.Context) signal.Reply {
		return signal.Reply{Name: "process", Status: true, Data: map[string]any{
			"goroutines": runtime.NumGoroutine(),
			"uptime":     time.Since(started).Round(time.Second).String(),
		}}
	}, signal.Named("process"))

	// Environ: what is running here, merged into the built-in description.
	bus.Subscribe(signal.Environ, func(context.Context) signal.Reply {
		return signal.Reply{Status: true, Data: map[string]any{"service": "quickstart"}}
	})
	return bus
}
