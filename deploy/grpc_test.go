package deploy

import (
	"context"
	"errors"
	"flag"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/oarepo/heartbeat/drain"
	"github.com/oarepo/heartbeat/grpchealth"
	"github.com/oarepo/heartbeat/internal/testenv"
	"github.com/oarepo/heartbeat/monitor"
	"github.com/oarepo/heartbeat/signal"
)

// grpcManifest is the Deployment whose probes are the kubelet's native
// grpc probes.
const grpcManifest = "deployment-grpc.yaml"

// grpcHealthProbe is the version of grpc-health-probe the tests run: the
// probe people put in images for kubelets older than 1.27.
const grpcHealthProbe = "github.com/grpc-ecosystem/grpc-health-probe@v0.4.62"

// grpc-health-probe's exit codes.
const (
	probeHealthy    = 0
	probeRPCFailure = 3 // codes.NotFound and other RPC errors
	probeUnhealthy  = 4 // NOT_SERVING
)

var healthProbe struct {
	once sync.Once
	path string
	err  error
}

// healthProbeBinary builds grpc-health-probe from the module proxy once
// into the user's cache directory, outside the repository; later runs
// reuse it. Without a toolchain able to build it the test is skipped
// locally and fails under CI=true.
func healthProbeBinary(t *testing.T) string {
	t.Helper()
	healthProbe.once.Do(func() {
		cache, err := os.UserCacheDir()
		if err != nil {
			healthProbe.err = err
			return
		}
		dir := filepath.Join(cache, "heartbeat-test", "grpc-health-probe-v0.4.62")
		exe := filepath.Join(dir, "grpc-health-probe")
		if runtime.GOOS == "windows" {
			exe += ".exe"
		}
		if _, err := os.Stat(exe); err == nil {
			healthProbe.path = exe
			return
		}
		cmd := exec.Command("go", "install", grpcHealthProbe)
		// GOWORK=off and -mod=mod: its own go.mod, not this workspace's.
		// GOTOOLCHAIN=local: build with the Go at hand rather than
		// download the newer toolchain its go.mod suggests.
		cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOWORK=off", "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local")
		if out, err := cmd.CombinedOutput(); err != nil {
			healthProbe.err = errors.New("go install " + grpcHealthProbe + ": " + err.Error() + "\n" + string(out))
			return
		}
		healthProbe.path = exe
	})
	if healthProbe.err != nil {
		testenv.Unavailable(t, "grpc-health-probe: %v", healthProbe.err)
	}
	return healthProbe.path
}

// runProbe runs grpc-health-probe against addr for service and returns its
// exit code and output.
func runProbe(t *testing.T, addr, service string) (int, string) {
	t.Helper()
	out, err := exec.Command(healthProbeBinary(t), "-addr="+addr, "-service="+service,
		"-connect-timeout=2s", "-rpc-timeout=2s").CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), string(out)
	}
	require.NoError(t, err, "%s", out)
	return 0, string(out)
}

// grpcFlags are the quickstart flags a gRPC container's args set.
type grpcFlags struct {
	addr, grpcAddr string
	drainDelay     time.Duration
}

func parseGRPCFlags(t *testing.T, c corev1.Container) grpcFlags {
	t.Helper()
	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	var f grpcFlags
	fs.StringVar(&f.addr, "addr", "127.0.0.1:8080", "")
	fs.StringVar(&f.grpcAddr, "grpc-addr", "127.0.0.1:8081", "")
	fs.DurationVar(&f.drainDelay, "drain-delay", 5*time.Second, "")
	fs.Duration("warmup", 0, "")
	require.NoError(t, fs.Parse(c.Args), "the args are flags the quickstart knows")
	return f
}

// grpcServices maps each probe kind to the gRPC service it must ask.
var grpcServices = map[string][]string{
	"startup":   {"startup"},
	"readiness": {"readiness"},
	"liveness":  {"liveness", "liveliness"},
}

// TestGRPCManifestNumbers checks the gRPC manifest against the relations
// docs/kubernetes.md justifies for the HTTP ones, and its probes against
// the services the server answers.
func TestGRPCManifestNumbers(t *testing.T) {
	d := load(t, grpcManifest)
	c := d.Spec.Template.Spec.Containers[0]
	f := parseGRPCFlags(t, c)
	assert.Equal(t, d.Spec.Selector.MatchLabels, d.Spec.Template.Labels, "the selector selects the pods")
	declared := map[int32]bool{}
	for _, p := range c.Ports {
		declared[p.ContainerPort] = true
	}
	assert.True(t, declared[int32(port(t, f.grpcAddr))], "the container declares the gRPC port")
	assert.True(t, declared[int32(port(t, f.addr))], "the container declares the HTTP port of /metrics")
	h, _, err := net.SplitHostPort(f.grpcAddr)
	require.NoError(t, err)
	assert.Empty(t, h, "gRPC listens on every interface: the kubelet probes the pod's IP")

	ps := probes(t, c)
	sec := func(n int32) time.Duration { return time.Duration(n) * time.Second }
	for kind, p := range ps {
		require.NotNil(t, p.GRPC, "%s is a grpc probe", kind)
		assert.EqualValues(t, port(t, f.grpcAddr), p.GRPC.Port, "%s probes the gRPC port", kind)
		require.NotNil(t, p.GRPC.Service, "%s names its service: the default \"\" is readiness and liveliness both", kind)
		assert.Contains(t, grpcServices[kind], *p.GRPC.Service, kind)
		assert.Greater(t, sec(p.TimeoutSeconds), signal.DefaultTimeout, "%s outwaits the receivers' deadline", kind)
		assert.GreaterOrEqual(t, sec(p.PeriodSeconds), signal.DefaultCacheTTL, kind)
		assert.GreaterOrEqual(t, p.FailureThreshold, int32(2), "%s: one slow answer is not an outage", kind)
	}
	window := func(p *corev1.Probe) time.Duration { return sec(p.PeriodSeconds) * time.Duration(p.FailureThreshold) }
	assert.Less(t, window(ps["readiness"]), window(ps["liveness"]), "a failing pod leaves the Service before it is restarted")
	assert.GreaterOrEqual(t, window(ps["startup"]), 30*time.Second, "time enough to start")
	require.NotNil(t, d.Spec.Template.Spec.TerminationGracePeriodSeconds)
	grace := time.Duration(*d.Spec.Template.Spec.TerminationGracePeriodSeconds) * time.Second
	assert.Greater(t, grace, f.drainDelay+drain.DefaultTimeout, "SIGKILL comes after the drain")
	assert.Equal(t, "/metrics", d.Spec.Template.Annotations["prometheus.io/path"])
	assert.Equal(t, "8080", d.Spec.Template.Annotations["prometheus.io/port"])
}

// startGRPCServer runs the quickstart with args and both addresses moved to
// free loopback ports, and waits until gRPC accepts connections.
func startGRPCServer(t *testing.T, args []string) (httpAddr, grpcAddr string, proc *exec.Cmd) {
	t.Helper()
	grpcAddr = freeAddr(t)
	httpAddr, proc = startServer(t, append(append([]string{}, args...), "-grpc-addr="+grpcAddr))
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", grpcAddr, time.Second)
		if err == nil {
			c.Close()
			return httpAddr, grpcAddr, proc
		}
		if time.Now().After(deadline) {
			t.Fatalf("the quickstart did not serve gRPC on %s within 10s: %v", grpcAddr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestGRPCManifestProbesTheExampleServer runs every probe of the gRPC
// manifest with grpc-health-probe against the real example server, as the
// kubelet would, then drains the server with SIGTERM: readiness and ""
// become NOT_SERVING while liveness keeps serving.
func TestGRPCManifestProbesTheExampleServer(t *testing.T) {
	healthProbeBinary(t) // build it before the server runs
	c := load(t, grpcManifest).Spec.Template.Spec.Containers[0]
	_, addr, proc := startGRPCServer(t, c.Args)

	for kind, p := range probes(t, c) {
		code, out := runProbe(t, addr, *p.GRPC.Service)
		assert.Equal(t, probeHealthy, code, "%s probe, service %q: %s", kind, *p.GRPC.Service, out)
	}
	for _, svc := range []string{"", "liveliness"} {
		code, out := runProbe(t, addr, svc)
		assert.Equal(t, probeHealthy, code, "service %q: %s", svc, out)
	}
	code, out := runProbe(t, addr, "no-such-service")
	assert.Equal(t, probeRPCFailure, code, "an unknown service is NotFound: %s", out)
	assert.Contains(t, out, "NotFound")

	if runtime.GOOS == "windows" {
		return
	}
	require.NoError(t, proc.Process.Signal(syscall.SIGTERM))
	assert.Eventually(t, func() bool {
		code, _ := runProbe(t, addr, "readiness")
		return code == probeUnhealthy
	}, 5*time.Second, 50*time.Millisecond, "readiness is NOT_SERVING once the drain starts")
	code, out = runProbe(t, addr, "")
	assert.Equal(t, probeUnhealthy, code, "the server as a whole is not serving while it drains: %s", out)
	code, out = runProbe(t, addr, "liveness")
	assert.Equal(t, probeHealthy, code, "a draining server is still alive: %s", out)
}

// TestGRPCHealthProbeUnhealthy has the example's startup check fail (a long
// warm-up): grpc-health-probe exits with its "unhealthy" code for startup
// only.
func TestGRPCHealthProbeUnhealthy(t *testing.T) {
	healthProbeBinary(t)
	_, addr, _ := startGRPCServer(t, []string{"-warmup=1h"})
	code, out := runProbe(t, addr, "startup")
	assert.Equal(t, probeUnhealthy, code, "%s", out)
	assert.Contains(t, out, "NOT_SERVING")
	for _, svc := range []string{"", "readiness", "liveness"} {
		code, out := runProbe(t, addr, svc)
		assert.Equal(t, probeHealthy, code, "service %q: %s", svc, out)
	}
}

// TestObservabilityDocQuotesTheGRPCManifest keeps docs/observability.md and
// the manifest it quotes the same.
func TestObservabilityDocQuotesTheGRPCManifest(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "observability.md"))
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join("kubernetes", grpcManifest))
	require.NoError(t, err)
	assert.Contains(t, string(doc), "```yaml\n"+string(b)+"```\n", "docs/observability.md quotes %s verbatim", grpcManifest)
}

// TestGRPCHealthProbeHungReceiver: a readiness receiver that never returns
// is answered NOT_SERVING at the bus's deadline, inside the one second a
// kubelet grpc probe waits (timeoutSeconds: 1): grpc-health-probe, with that
// RPC timeout, exits "unhealthy", not with a timeout, while liveness still
// serves. The server is heartbeat's grpchealth in this process, over a real
// loopback listener, as the quickstart serves it.
func TestGRPCHealthProbeHungReceiver(t *testing.T) {
	probe := healthProbeBinary(t)
	release := make(chan struct{})
	bus := signal.NewBus()
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
		<-release // hangs, deaf to its context, until the test ends
		return signal.Reply{Name: "search", Status: true}
	}, signal.Named("search"))
	bus.Subscribe(signal.Liveliness, func(context.Context) signal.Reply {
		return signal.Reply{Name: "process", Status: true}
	}, signal.Named("process"))
	mon := monitor.New(bus)
	health := grpchealth.New(bus, mon)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := grpc.NewServer()
	healthpb.RegisterHealthServer(srv, health)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		health.Shutdown()
		srv.GracefulStop()
		assert.NoError(t, <-served)
		close(release) // let the hung receiver's goroutine end, for goleak
		mon.Close()
	})

	run := func(service string) (int, string, time.Duration) {
		start := time.Now()
		out, err := exec.Command(probe, "-addr="+ln.Addr().String(), "-service="+service,
			"-connect-timeout=2s", "-rpc-timeout=2s").CombinedOutput()
		took := time.Since(start)
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode(), string(out), took
		}
		require.NoError(t, err, "%s", out)
		return 0, string(out), took
	}
	for _, svc := range []string{"readiness", ""} {
		code, out, took := run(svc)
		assert.Equal(t, probeUnhealthy, code, "service %q is NOT_SERVING, not a timeout: %s", svc, out)
		assert.Contains(t, out, "NOT_SERVING", "service %q", svc)
		assert.Less(t, took, 5*time.Second, "service %q: answered by the deadline (%v)", svc, took)
	}
	code, out, _ := run("liveness")
	assert.Equal(t, probeHealthy, code, "a hung readiness receiver leaves liveness alone: %s", out)
}
