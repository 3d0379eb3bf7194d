package grpchealth_test

import (
	"context"
	"testing"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/oarepo/heartbeat/grpchealth"
	"github.com/oarepo/heartbeat/monitor"
	"github.com/oarepo/heartbeat/signal"
)

// BenchmarkCheck is one gRPC readiness probe over loopback with the
// default cache: the receiver's reply is reused, as it is for HTTP probes
// within the TTL.
func BenchmarkCheck(b *testing.B) {
	bus := signal.NewBus()
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
		return signal.Reply{Name: "database", Status: true}
	}, signal.Named("database"))
	mon := monitor.New(bus)
	defer mon.Close()
	client := serve(b, grpchealth.New(bus, mon))
	req := &healthpb.HealthCheckRequest{Service: "readiness"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := client.Check(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}
