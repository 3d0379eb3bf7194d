package main

import (
	"context"
	"io"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/oarepo/heartbeat/monitor"
	"github.com/oarepo/heartbeat/signal"
)

// TestFleet: /metrics reports what a probe ran, gRPC health answers from
// the same receivers, and stop returns although a Watch stream is open.
func TestFleet(t *testing.T) {
	bus := newBus(0)
	mon := monitor.New(bus)
	defer mon.Close()
	f, err := startFleet(bus, mon, "127.0.0.1:0")
	require.NoError(t, err)
	stopped := false
	defer func() {
		if !stopped {
			f.stop()
		}
	}()

	bus.Publish(context.Background(), signal.Readiness) // a probe
	srv := httptest.NewServer(f.metrics)
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Contains(t, string(body), `heartbeat_check_status{check="sample",probe="readiness"} 1`)
	assert.Contains(t, string(body), "go_goroutines ", "the Go runtime's metrics beside")

	conn, err := grpc.NewClient(f.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	client := healthpb.NewHealthClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, svc := range []string{"", "readiness", "liveness", "startup"} {
		r, err := client.Check(ctx, &healthpb.HealthCheckRequest{Service: svc})
		require.NoError(t, err, svc)
		assert.Equal(t, healthpb.HealthCheckResponse_SERVING, r.GetStatus(), "service %q", svc)
	}

	stream, err := client.Watch(ctx, &healthpb.HealthCheckRequest{Service: "readiness"})
	require.NoError(t, err)
	first, err := stream.Recv()
	require.NoError(t, err)
	assert.Equal(t, healthpb.HealthCheckResponse_SERVING, first.GetStatus())
	done := make(chan struct{})
	go func() { f.stop(); close(done) }()
	select {
	case <-done:
		stopped = true
	case <-time.After(5 * time.Second):
		t.Fatal("stop waited for the open Watch stream")
	}
}

func TestFleetWithoutGRPC(t *testing.T) {
	bus := newBus(0)
	mon := monitor.New(bus)
	defer mon.Close()
	f, err := startFleet(bus, mon, "")
	require.NoError(t, err)
	defer f.stop()
	assert.Empty(t, f.grpcAddr)
	assert.NotNil(t, f.metrics)
}

func TestFleetAddressInUse(t *testing.T) {
	bus := newBus(0)
	mon := monitor.New(bus)
	defer mon.Close()
	first, err := startFleet(bus, mon, "127.0.0.1:0")
	require.NoError(t, err)
	defer first.stop()
	_, err = startFleet(bus, mon, first.grpcAddr)
	assert.ErrorContains(t, err, "listen for gRPC health on "+first.grpcAddr)
}
