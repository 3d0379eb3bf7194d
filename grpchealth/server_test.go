package grpchealth_test

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/oarepo/heartbeat/drain"
	"github.com/oarepo/heartbeat/grpchealth"
	"github.com/oarepo/heartbeat/monitor"
	"github.com/oarepo/heartbeat/signal"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const (
	serving    = healthpb.HealthCheckResponse_SERVING
	notServing = healthpb.HealthCheckResponse_NOT_SERVING
)

// fixture is a bus whose readiness check the test turns, served over gRPC
// on a loopback port.
type fixture struct {
	bus    *signal.Bus
	mon    *monitor.Monitor
	health *grpchealth.Server
	client healthpb.HealthClient
	down   atomic.Bool  // readiness's "database" fails
	calls  atomic.Int64 // runs of "database"
}

func newFixture(t *testing.T, busOpts []signal.Option, opts ...grpchealth.Option) *fixture {
	t.Helper()
	f := &fixture{bus: signal.NewBus(busOpts...)}
	f.bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
		f.calls.Add(1)
		if f.down.Load() {
			return signal.Reply{Name: "database", Status: false, Data: map[string]any{"error": "connection refused"}}
		}
		return signal.Reply{Name: "database", Status: true}
	}, signal.Named("database"))
	f.bus.Subscribe(signal.Liveliness, func(context.Context) signal.Reply {
		return signal.Reply{Name: "process", Status: true}
	}, signal.Named("process"))
	f.mon = monitor.New(f.bus)
	f.health = grpchealth.New(f.bus, f.mon, opts...)
	f.client = serve(t, f.health)
	t.Cleanup(f.mon.Close)
	return f
}

// serve runs h on a real loopback listener and returns a client of it.
func serve(t testing.TB, h *grpchealth.Server) healthpb.HealthClient {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := grpc.NewServer()
	healthpb.RegisterHealthServer(srv, h)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() {
		conn.Close()
		h.Shutdown() // ends Watch streams, so that GracefulStop returns
		srv.GracefulStop()
		assert.NoError(t, <-served)
	})
	return healthpb.NewHealthClient(conn)
}

func check(t *testing.T, c healthpb.HealthClient, service string) healthpb.HealthCheckResponse_ServingStatus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := c.Check(ctx, &healthpb.HealthCheckRequest{Service: service})
	require.NoError(t, err, "service %q", service)
	return resp.GetStatus()
}

func TestCheckHealthy(t *testing.T) {
	f := newFixture(t, nil)
	for _, svc := range []string{"", "readiness", "liveliness", "liveness", "startup"} {
		assert.Equal(t, serving, check(t, f.client, svc), "service %q", svc)
	}
}

func TestCheckFailing(t *testing.T) {
	f := newFixture(t, nil)
	f.down.Store(true)
	assert.Equal(t, notServing, check(t, f.client, "readiness"))
	assert.Equal(t, notServing, check(t, f.client, ""), "the server as a whole needs readiness")
	assert.Equal(t, serving, check(t, f.client, "liveliness"))
	assert.Equal(t, serving, check(t, f.client, "liveness"))
	assert.Equal(t, serving, check(t, f.client, "startup"), "a probe without receivers passes, as over HTTP")
}

// TestCheckAnswersAsTheBusDoes: Check publishes, so it sees a change at
// once (no thresholds, no stale state), like an HTTP probe.
func TestCheckAnswersAsTheBusDoes(t *testing.T) {
	f := newFixture(t, []signal.Option{signal.WithCacheTTL(0)})
	assert.Equal(t, serving, check(t, f.client, "readiness"))
	f.down.Store(true)
	assert.Equal(t, notServing, check(t, f.client, "readiness"))
	f.down.Store(false)
	assert.Equal(t, serving, check(t, f.client, "readiness"))
}

func TestCheckUnknownService(t *testing.T) {
	f := newFixture(t, nil)
	_, err := f.client.Check(context.Background(), &healthpb.HealthCheckRequest{Service: "grpc.health.v1.Health"})
	assert.Equal(t, codes.NotFound, status.Code(err), "%v", err)
}

// TestCheckHungReceiver: a receiver that never returns is answered
// NOT_SERVING at the bus's deadline; the RPC does not hang.
func TestCheckHungReceiver(t *testing.T) {
	release := make(chan struct{})
	bus := signal.NewBus(signal.WithTimeout(200 * time.Millisecond))
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
		<-release // ignores its context, like a client without deadlines
		return signal.Reply{Name: "search", Status: true}
	}, signal.Named("search"))
	mon := monitor.New(bus)
	t.Cleanup(mon.Close)
	t.Cleanup(func() { close(release) }) // after the server is gone: runs last-in first-out
	client := serve(t, grpchealth.New(bus, mon))

	start := time.Now()
	assert.Equal(t, notServing, check(t, client, "readiness"))
	assert.Less(t, time.Since(start), 2*time.Second, "answered by the 200ms deadline, not by the client's 5s")
	assert.Equal(t, notServing, check(t, client, ""))
	assert.Equal(t, serving, check(t, client, "liveness"), "other probes are not held up")
}

// TestCheckCoalesces: concurrent gRPC probes share one run of a slow
// receiver, as HTTP probes do: a gRPC probe costs what an HTTP probe costs.
func TestCheckCoalesces(t *testing.T) {
	var runs atomic.Int64
	bus := signal.NewBus(signal.WithCacheTTL(0))
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
		runs.Add(1)
		time.Sleep(300 * time.Millisecond)
		return signal.Reply{Name: "slow", Status: true}
	}, signal.Named("slow"))
	mon := monitor.New(bus)
	t.Cleanup(mon.Close)
	client := serve(t, grpchealth.New(bus, mon))

	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := client.Check(context.Background(), &healthpb.HealthCheckRequest{Service: "readiness"})
			if assert.NoError(t, err) {
				assert.Equal(t, serving, resp.GetStatus())
			}
		}()
	}
	wg.Wait()
	assert.LessOrEqual(t, runs.Load(), int64(2), "20 concurrent probes, one run (two if some arrived after it ended)")
}

func TestList(t *testing.T) {
	f := newFixture(t, nil)
	f.down.Store(true)
	resp, err := f.client.List(context.Background(), &healthpb.HealthListRequest{})
	require.NoError(t, err)
	got := map[string]healthpb.HealthCheckResponse_ServingStatus{}
	for name, st := range resp.GetStatuses() {
		got[name] = st.GetStatus()
	}
	assert.Equal(t, map[string]healthpb.HealthCheckResponse_ServingStatus{
		"": notServing, "readiness": notServing, "liveliness": serving, "liveness": serving, "startup": serving,
	}, got)
}

// TestStartupLatches: once a startup Check has passed with every check,
// startup stays SERVING without running its checks again, as the HTTP
// startup probe latches; Watch and List say so too, and other services
// still publish.
func TestStartupLatches(t *testing.T) {
	f := newFixture(t, []signal.Option{signal.WithCacheTTL(0)}, grpchealth.WithWatchInterval(20*time.Millisecond))
	var runs atomic.Int64
	f.bus.Subscribe(signal.Startup, func(context.Context) signal.Reply {
		// passes on its first run only
		return signal.Reply{Name: "warmup", Status: runs.Add(1) == 1}
	}, signal.Named("warmup"))
	f.bus.Subscribe(signal.Startup, func(context.Context) signal.Reply {
		return signal.Reply{Name: "migrations", Status: true}
	}, signal.Named("migrations"))

	require.Equal(t, serving, check(t, f.client, "startup"), "the first run passes")
	require.Equal(t, int64(1), runs.Load())
	for range 3 {
		assert.Equal(t, serving, check(t, f.client, "startup"), "latched")
	}
	ch := watch(t, f.client, "startup")
	assert.Equal(t, serving, next(t, ch, 5*time.Second), "Watch starts latched")
	resp, err := f.client.List(context.Background(), &healthpb.HealthListRequest{})
	require.NoError(t, err)
	assert.Equal(t, serving, resp.GetStatuses()["startup"].GetStatus(), "List too")
	select {
	case st := <-ch:
		t.Fatalf("Watch changed after the latch: %v", st)
	case <-time.After(200 * time.Millisecond): // ten watch intervals
	}
	assert.Equal(t, int64(1), runs.Load(), "the startup receiver is not run again")

	before := f.calls.Load()
	assert.Equal(t, serving, check(t, f.client, "readiness"))
	assert.Greater(t, f.calls.Load(), before, "readiness still publishes")

	f.health.Shutdown()
	assert.Equal(t, notServing, check(t, f.client, "startup"), "Shutdown overrides the latch")
}

// TestStartupLatchesOnlyOnAPass: a failing startup is published on every
// Check until it passes with every check.
func TestStartupLatchesOnlyOnAPass(t *testing.T) {
	f := newFixture(t, []signal.Option{signal.WithCacheTTL(0)})
	var runs atomic.Int64
	f.bus.Subscribe(signal.Startup, func(context.Context) signal.Reply {
		return signal.Reply{Name: "warmup", Status: runs.Add(1) >= 3}
	}, signal.Named("warmup"))
	f.bus.Subscribe(signal.Startup, func(context.Context) signal.Reply {
		return signal.Reply{Name: "migrations", Status: true}
	}, signal.Named("migrations"))

	assert.Equal(t, notServing, check(t, f.client, "startup"))
	assert.Equal(t, notServing, check(t, f.client, "startup"), "a failure does not latch")
	assert.Equal(t, serving, check(t, f.client, "startup"), "the third run passes")
	assert.Equal(t, serving, check(t, f.client, "startup"))
	assert.Equal(t, int64(3), runs.Load(), "no run after the pass")
}

// TestWatchStartupLatches: a Watch of startup that has sent SERVING keeps
// SERVING, and its own publishes stop running the startup checks.
func TestWatchStartupLatches(t *testing.T) {
	f := newFixture(t, []signal.Option{signal.WithCacheTTL(0)}, grpchealth.WithWatchInterval(20*time.Millisecond))
	var runs atomic.Int64
	f.bus.Subscribe(signal.Startup, func(context.Context) signal.Reply {
		return signal.Reply{Name: "warmup", Status: runs.Add(1) == 1}
	}, signal.Named("warmup"))

	ch := watch(t, f.client, "startup")
	assert.Equal(t, serving, next(t, ch, 5*time.Second))
	select {
	case st := <-ch:
		t.Fatalf("Watch changed after it had sent SERVING: %v", st)
	case <-time.After(200 * time.Millisecond):
	}
	assert.Equal(t, int64(1), runs.Load(), "the stream's publishes skip a latched startup")
	assert.Equal(t, serving, check(t, f.client, "startup"), "and Check is latched too")
	assert.Equal(t, int64(1), runs.Load())
}

// TestDrain: the drain's check on the bus fails readiness over gRPC too.
func TestDrain(t *testing.T) {
	d := &drain.Drain{}
	f := newFixture(t, nil)
	d.Subscribe(f.bus)
	assert.Equal(t, serving, check(t, f.client, "readiness"))
	d.Start("test")
	assert.Equal(t, notServing, check(t, f.client, "readiness"), "a draining server is not ready")
	assert.Equal(t, notServing, check(t, f.client, ""))
	assert.Equal(t, serving, check(t, f.client, "liveness"), "a draining server is alive")
}

// watch opens a Watch stream and returns its messages on a channel, closed
// when the stream ends.
func watch(t *testing.T, c healthpb.HealthClient, service string) <-chan healthpb.HealthCheckResponse_ServingStatus {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stream, err := c.Watch(ctx, &healthpb.HealthCheckRequest{Service: service})
	require.NoError(t, err)
	out := make(chan healthpb.HealthCheckResponse_ServingStatus, 16)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(out)
		for {
			resp, err := stream.Recv()
			if err != nil {
				return
			}
			out <- resp.GetStatus()
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return out
}

func next(t *testing.T, ch <-chan healthpb.HealthCheckResponse_ServingStatus, within time.Duration) healthpb.HealthCheckResponse_ServingStatus {
	t.Helper()
	select {
	case st, ok := <-ch:
		require.True(t, ok, "the stream ended")
		return st
	case <-time.After(within):
		t.Fatalf("no Watch message within %v", within)
		return 0
	}
}

// TestWatchPolls: with nothing else probing, the stream's own publishes
// see the flip within a few watch intervals.
func TestWatchPolls(t *testing.T) {
	f := newFixture(t, []signal.Option{signal.WithCacheTTL(0)}, grpchealth.WithWatchInterval(50*time.Millisecond))
	ch := watch(t, f.client, "readiness")
	assert.Equal(t, serving, next(t, ch, 5*time.Second), "the current status at once")
	f.down.Store(true)
	assert.Equal(t, notServing, next(t, ch, 5*time.Second), "the flip")
	f.down.Store(false)
	assert.Equal(t, serving, next(t, ch, 5*time.Second), "and back")
	select {
	case st := <-ch:
		t.Fatalf("a message without a change: %v", st)
	case <-time.After(300 * time.Millisecond): // several intervals
	}
}

// TestWatchFollowsTransitions: with the stream's own publishes far apart,
// a change another probe sees (here a publish, as an HTTP probe makes)
// reaches the stream through the monitor's transitions.
func TestWatchFollowsTransitions(t *testing.T) {
	f := newFixture(t, []signal.Option{signal.WithCacheTTL(0)}, grpchealth.WithWatchInterval(time.Hour))
	ch := watch(t, f.client, "")
	assert.Equal(t, serving, next(t, ch, 5*time.Second))
	f.down.Store(true)
	f.bus.Publish(context.Background(), signal.Readiness)
	assert.Equal(t, notServing, next(t, ch, 5*time.Second), "the probe-level transition reaches the stream")
}

// TestWatchThresholds: Watch reports the monitor's status, after its
// thresholds, while Check answers as the bus does.
func TestWatchThresholds(t *testing.T) {
	f := &fixture{bus: signal.NewBus(signal.WithCacheTTL(0))}
	f.bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
		return signal.Reply{Name: "database", Status: !f.down.Load()}
	}, signal.Named("database"))
	mon := monitor.New(f.bus, monitor.WithThresholds(3, 1))
	t.Cleanup(mon.Close)
	client := serve(t, grpchealth.New(f.bus, mon, grpchealth.WithWatchInterval(time.Hour)))

	ch := watch(t, client, "readiness")
	assert.Equal(t, serving, next(t, ch, 5*time.Second))
	f.down.Store(true)
	for i := range 2 {
		assert.Equal(t, notServing, check(t, client, "readiness"), "Check: failure %d", i+1)
	}
	select {
	case st := <-ch:
		t.Fatalf("Watch changed before the third failure: %v", st)
	case <-time.After(200 * time.Millisecond):
	}
	assert.Equal(t, notServing, check(t, client, "readiness"))
	assert.Equal(t, notServing, next(t, ch, 5*time.Second), "the third failure in a row")
}

func TestWatchUnknownService(t *testing.T) {
	f := newFixture(t, nil)
	ch := watch(t, f.client, "nope")
	assert.Equal(t, healthpb.HealthCheckResponse_SERVICE_UNKNOWN, next(t, ch, 5*time.Second))
	select {
	case st, ok := <-ch:
		t.Fatalf("the stream should stay open with nothing more to say: %v %v", st, ok)
	case <-time.After(100 * time.Millisecond):
	}
}

// TestShutdownEndsWatch: Shutdown tells every stream NOT_SERVING and ends
// it, so that GracefulStop can return.
func TestShutdownEndsWatch(t *testing.T) {
	f := newFixture(t, nil)
	ch := watch(t, f.client, "liveness")
	assert.Equal(t, serving, next(t, ch, 5*time.Second))
	f.health.Shutdown()
	assert.Equal(t, notServing, next(t, ch, 5*time.Second))
	select {
	case _, ok := <-ch:
		assert.False(t, ok, "the stream ends")
	case <-time.After(5 * time.Second):
		t.Fatal("the stream did not end")
	}
	assert.Equal(t, notServing, check(t, f.client, "liveness"), "Check says so too")
}
