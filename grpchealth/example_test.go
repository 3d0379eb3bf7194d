package grpchealth_test

import (
	"context"
	"fmt"
	"net"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/oarepo/heartbeat/grpchealth"
	"github.com/oarepo/heartbeat/monitor"
	"github.com/oarepo/heartbeat/signal"
)

// A gRPC server answers grpc.health.v1.Health from the receivers that the
// HTTP probes run.
func Example() {
	bus := signal.NewBus()
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
		return signal.Reply{Name: "database", Status: false, Data: map[string]any{"error": "connection refused"}}
	}, signal.Named("database"))
	mon := monitor.New(bus)
	defer mon.Close()

	health := grpchealth.New(bus, mon)
	srv := grpc.NewServer()
	healthpb.RegisterHealthServer(srv, health)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	go srv.Serve(ln)
	defer func() {
		health.Shutdown() // ends Watch streams first
		srv.GracefulStop()
	}()

	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()
	client := healthpb.NewHealthClient(conn)
	for _, service := range []string{"readiness", "liveness", ""} {
		resp, err := client.Check(context.Background(), &healthpb.HealthCheckRequest{Service: service})
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%q: %v\n", service, resp.GetStatus())
	}
	// Output:
	// "readiness": NOT_SERVING
	// "liveness": SERVING
	// "": NOT_SERVING
}
