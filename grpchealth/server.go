package grpchealth

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/oarepo/heartbeat/monitor"
	"github.com/oarepo/heartbeat/signal"
)

// DefaultWatchInterval is how often an open Watch stream publishes the
// signals it watches when WithWatchInterval does not say otherwise. Half the
// kubelet's default probe period: a change is seen within 5s even when
// nothing else probes, at the cost of one publish per stream every 5s, most
// of which reuse a recent reply.
const DefaultWatchInterval = 5 * time.Second

// probeSignals maps the monitor's probe names to their signals.
var probeSignals = map[string]string{
	"readiness":  signal.Readiness,
	"liveliness": signal.Liveliness,
	"startup":    signal.Startup,
}

// services maps each service name to the probes whose AND it reports.
var services = map[string][]string{
	"":           {"readiness", "liveliness"},
	"readiness":  {"readiness"},
	"liveliness": {"liveliness"},
	"liveness":   {"liveliness"},
	"startup":    {"startup"},
}

// Server is a grpc.health.v1.Health server over a bus. Register it with
// healthpb.RegisterHealthServer. It is safe for concurrent use.
//
// Its startup service latches, as the HTTP startup probe does: once the
// server has answered it SERVING (a Check or List whose publish of
// signal.Startup passed with every check, or a Watch of "startup" that sent
// SERVING), it answers SERVING for the rest of the Server's life without
// publishing signal.Startup again, until Shutdown.
type Server struct {
	healthpb.UnimplementedHealthServer

	bus      *signal.Bus
	mon      *monitor.Monitor
	interval time.Duration

	// started is set once the startup service has been answered SERVING.
	started atomic.Bool

	closeOnce sync.Once
	closed    chan struct{}
}

// Option configures a Server.
type Option func(*Server)

// WithWatchInterval sets how often an open Watch stream publishes the
// signals it watches; the default is DefaultWatchInterval (5s). A zero or
// negative d keeps the default.
func WithWatchInterval(d time.Duration) Option {
	return func(s *Server) {
		if d > 0 {
			s.interval = d
		}
	}
}

// New returns a Server that answers Check and List by publishing on bus and
// Watch from mon, which must observe the same bus (monitor.New(bus)).
func New(bus *signal.Bus, mon *monitor.Monitor, opts ...Option) *Server {
	s := &Server{bus: bus, mon: mon, interval: DefaultWatchInterval, closed: make(chan struct{})}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Shutdown makes every service NOT_SERVING from now on and ends every open
// Watch stream after telling it so, so that grpc.Server.GracefulStop, which
// waits for every stream, can finish. Call it before GracefulStop.
func (s *Server) Shutdown() {
	s.closeOnce.Do(func() { close(s.closed) })
}

func (s *Server) isShutdown() bool {
	select {
	case <-s.closed:
		return true
	default:
		return false
	}
}

// Check answers the service's status by publishing its probes' signals,
// like an HTTP probe; a startup that has passed is not published again (see
// Server). An unknown service is codes.NotFound.
func (s *Server) Check(ctx context.Context, req *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	probes, ok := services[req.GetService()]
	if !ok {
		return nil, status.Error(codes.NotFound, "unknown service")
	}
	got := s.publish(ctx, probes)
	s.latch(got)
	return response(all(got, probes)), nil
}

// List answers every service, publishing each probe's signal once (startup
// only until it has passed).
func (s *Server) List(ctx context.Context, _ *healthpb.HealthListRequest) (*healthpb.HealthListResponse, error) {
	got := s.publish(ctx, []string{"readiness", "liveliness", "startup"})
	s.latch(got)
	out := &healthpb.HealthListResponse{Statuses: make(map[string]*healthpb.HealthCheckResponse, len(services))}
	for name, probes := range services {
		out.Statuses[name] = response(all(got, probes))
	}
	return out, nil
}

// Watch sends the service's status at once and again whenever it changes,
// until the client goes away or Shutdown.
func (s *Server) Watch(req *healthpb.HealthCheckRequest, stream grpc.ServerStreamingServer[healthpb.HealthCheckResponse]) error {
	ctx := stream.Context()
	probes, ok := services[req.GetService()]
	if !ok {
		// The protocol keeps the stream open: a service may become known.
		// Ours never does, so the one message stands until the client leaves.
		if err := stream.Send(&healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVICE_UNKNOWN}); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
		case <-s.closed:
		}
		return nil
	}

	changed := make(chan struct{}, 1)
	stopListening := s.mon.Listen(func(t monitor.Transition) {
		if t.Check == "" && slices.Contains(probes, t.Probe) {
			select {
			case changed <- struct{}{}:
			default: // one pending wake-up is enough: it reads the latest state
			}
		}
	})
	defer stopListening()
	tick := time.NewTicker(s.interval)
	defer tick.Stop()

	var sent *healthpb.HealthCheckResponse_ServingStatus
	send := func() error {
		got := s.stored(probes)
		s.latch(got)
		st := response(all(got, probes)).Status
		if sent != nil && *sent == st {
			return nil
		}
		sent = &st
		return stream.Send(&healthpb.HealthCheckResponse{Status: st})
	}

	s.publish(ctx, probes)
	for {
		if err := send(); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.closed:
			return send()
		case <-changed:
		case <-tick.C:
			s.publish(ctx, probes)
		}
	}
}

// publish publishes the probes' signals at once and reports each probe's
// status as the bus answered it (no thresholds). A latched startup passes
// without a publish.
func (s *Server) publish(ctx context.Context, probes []string) map[string]bool {
	got := make(map[string]bool, len(probes))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, p := range probes {
		if p == "startup" && s.started.Load() {
			mu.Lock() // the goroutines of the probes before it may be writing
			got[p] = true
			mu.Unlock()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok := true
			for _, r := range s.bus.Publish(ctx, probeSignals[p]) {
				ok = ok && r.Status
			}
			mu.Lock()
			got[p] = ok
			mu.Unlock()
		}()
	}
	wg.Wait()
	return s.shut(got)
}

// stored reports each probe's status as the monitor holds it (after its
// thresholds); a latched startup passes.
func (s *Server) stored(probes []string) map[string]bool {
	got := make(map[string]bool, len(probes))
	for _, p := range probes {
		if p == "startup" && s.started.Load() {
			got[p] = true
			continue
		}
		st, ok := s.mon.Probe(p)
		got[p] = ok && st.Status
	}
	return s.shut(got)
}

// latch latches the startup service when got, an answer about to be given,
// has it passing with every check. After Shutdown got is all false.
func (s *Server) latch(got map[string]bool) {
	if got["startup"] {
		s.started.Store(true)
	}
}

// shut makes every status false after Shutdown.
func (s *Server) shut(got map[string]bool) map[string]bool {
	if s.isShutdown() {
		for p := range got {
			got[p] = false
		}
	}
	return got
}

func all(got map[string]bool, probes []string) bool {
	for _, p := range probes {
		if !got[p] {
			return false
		}
	}
	return true
}

func response(serving bool) *healthpb.HealthCheckResponse {
	if serving {
		return &healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVING}
	}
	return &healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_NOT_SERVING}
}
