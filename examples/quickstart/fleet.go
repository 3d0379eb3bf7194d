package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/oarepo/heartbeat/grpchealth"
	"github.com/oarepo/heartbeat/metrics/prometheus"
	"github.com/oarepo/heartbeat/monitor"
	"github.com/oarepo/heartbeat/signal"
)

// fleet is what the people who run many copies of the service watch: the
// Prometheus metrics and the gRPC health service, both from the receivers
// the HTTP probes run.
type fleet struct {
	// metrics serves /metrics: the monitor's stored results, never a run.
	metrics http.Handler

	health   *grpchealth.Server // nil when gRPC is off
	grpc     *grpc.Server
	grpcAddr string // where gRPC health listens
	served   chan error
}

// startFleet builds the /metrics handler over mon and, unless grpcAddr is
// empty, serves gRPC health for bus on it. Call stop once the HTTP server
// is done.
func startFleet(bus *signal.Bus, mon *monitor.Monitor, grpcAddr string) (*fleet, error) {
	reg := prom.NewRegistry()
	reg.MustRegister(prometheus.NewCollector(mon),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	f := &fleet{metrics: promhttp.HandlerFor(reg, promhttp.HandlerOpts{})}
	if grpcAddr == "" {
		return f, nil
	}

	ln, err := net.Listen("tcp", grpcAddr)
	if err != nil {
		return nil, fmt.Errorf("listen for gRPC health on %s: %w", grpcAddr, err)
	}
	f.health = grpchealth.New(bus, mon)
	f.grpc = grpc.NewServer()
	healthpb.RegisterHealthServer(f.grpc, f.health)
	f.grpcAddr = ln.Addr().String()
	f.served = make(chan error, 1)
	go func() { f.served <- f.grpc.Serve(ln) }()
	slog.Info("serving gRPC health", "addr", f.grpcAddr, "services", `readiness, liveliness, liveness, startup, ""`)
	return f, nil
}

// stop ends the Watch streams and lets the gRPC calls in flight finish,
// each bounded by its receivers' deadlines.
func (f *fleet) stop() {
	if f.grpc == nil {
		return
	}
	f.health.Shutdown()
	f.grpc.GracefulStop()
	if err := <-f.served; err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		slog.Error("gRPC health stopped", "error", err)
	}
}
