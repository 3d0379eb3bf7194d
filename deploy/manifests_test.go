package deploy

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/oarepo/heartbeat/drain"
	"github.com/oarepo/heartbeat/healthcheck"
	"github.com/oarepo/heartbeat/httpapi"
	"github.com/oarepo/heartbeat/signal"
)

// manifests are the files docs/kubernetes.md quotes.
var manifests = []string{"deployment.yaml", "deployment-exec.yaml"}

// bin holds the example server and the probe binary, built once by TestMain
// and shared by every test of the package.
var bin struct{ quickstart, heartbeat string }

// TestMain builds the binaries, runs the tests and then fails the run if a
// goroutine is left over: TestRealPrometheus and the scenario servers run
// receivers, a monitor and HTTP servers in this process.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(mainRun{m})
}

// mainRun is m with the binaries built before its tests and removed after,
// so that goleak.VerifyTestMain, which exits, runs after the cleanup.
type mainRun struct{ m *testing.M }

func (r mainRun) Run() int {
	dir, err := os.MkdirTemp("", "heartbeat-deploy")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	exe := ""
	if runtime.GOOS == "windows" {
		exe = ".exe"
	}
	bin.quickstart = filepath.Join(dir, "quickstart"+exe)
	bin.heartbeat = filepath.Join(dir, "heartbeat"+exe)
	// One go build for both, into the directory (each binary named after
	// its package), without debug information, which the tests never
	// read. Built with -race when this test binary is, so that it reuses
	// the packages the other modules' tests have just compiled the same
	// way instead of compiling every dependency once more.
	args := []string{"build", "-ldflags=-s -w", "-o", dir + string(filepath.Separator)}
	if raceEnabled() {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, "./examples/quickstart", "./cmd/heartbeat")...)
	cmd.Dir = ".." // the repository's root: the binaries the manifests run
	if b, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, b)
		return 1
	}
	return r.m.Run()
}

// raceEnabled reports whether this test binary was built with -race.
func raceEnabled() bool {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range info.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// load parses a manifest strictly: an unknown or misspelt field (timeoutSecond)
// is an error, not a silently dropped setting.
func load(t *testing.T, file string) *appsv1.Deployment {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("kubernetes", file))
	require.NoError(t, err)
	var d appsv1.Deployment
	require.NoError(t, yaml.UnmarshalStrict(b, &d), file)
	require.Equal(t, "apps/v1", d.APIVersion, file)
	require.Equal(t, "Deployment", d.Kind, file)
	require.Len(t, d.Spec.Template.Spec.Containers, 1, file)
	return &d
}

func TestStrictParsingCatchesTypos(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("kubernetes", "deployment.yaml"))
	require.NoError(t, err)
	typo := strings.Replace(string(b), "timeoutSeconds:", "timeoutSecond:", 1)
	require.NotEqual(t, string(b), typo)
	var d appsv1.Deployment
	assert.ErrorContains(t, yaml.UnmarshalStrict([]byte(typo), &d), "timeoutSecond")
}

// serverFlags are the quickstart flags a container's args set.
type serverFlags struct {
	addr       string
	drainDelay time.Duration
}

// flags reads the container's args the way the quickstart does.
func flags(t *testing.T, c corev1.Container) serverFlags {
	t.Helper()
	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	var f serverFlags
	fs.StringVar(&f.addr, "addr", "127.0.0.1:8080", "")
	fs.DurationVar(&f.drainDelay, "drain-delay", 5*time.Second, "")
	fs.Duration("warmup", 0, "")
	require.NoError(t, fs.Parse(c.Args), "the args are flags the quickstart knows")
	return f
}

func port(t *testing.T, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	require.NoError(t, err, addr)
	n, err := strconv.Atoi(p)
	require.NoError(t, err, addr)
	return n
}

// probes returns the container's probes by kind, each required.
func probes(t *testing.T, c corev1.Container) map[string]*corev1.Probe {
	t.Helper()
	ps := map[string]*corev1.Probe{"startup": c.StartupProbe, "readiness": c.ReadinessProbe, "liveness": c.LivenessProbe}
	for kind, p := range ps {
		require.NotNil(t, p, "%s probe", kind)
	}
	return ps
}

// target is where a probe sends its request, as port and path, and for an
// exec probe the probe command's own timeout.
type target struct {
	port    int
	path    string
	timeout time.Duration // exec probes only
}

func probeTarget(t *testing.T, c corev1.Container, p *corev1.Probe) target {
	t.Helper()
	switch {
	case p.HTTPGet != nil:
		n := p.HTTPGet.Port.IntValue()
		if name := p.HTTPGet.Port.StrVal; name != "" {
			n = 0
			for _, cp := range c.Ports {
				if cp.Name == name {
					n = int(cp.ContainerPort)
				}
			}
			require.NotZero(t, n, "the probe names port %q, which the container does not declare", name)
		}
		return target{port: n, path: p.HTTPGet.Path}
	case p.Exec != nil:
		cmd := p.Exec.Command
		require.GreaterOrEqual(t, len(cmd), 3, "%v", cmd)
		require.Equal(t, []string{"/heartbeat", "probe"}, cmd[:2], "the image's probe binary and command")
		fs := flag.NewFlagSet("probe", flag.ContinueOnError)
		timeout := fs.Duration("timeout", healthcheck.DefaultTimeout, "")
		fs.Var(new(headers), "header", "")
		require.NoError(t, fs.Parse(cmd[2:]), "%v", cmd)
		require.Equal(t, 1, fs.NArg(), "one URL: %v", cmd)
		u, err := url.Parse(fs.Arg(0))
		require.NoError(t, err)
		assert.Contains(t, []string{"127.0.0.1", "localhost"}, u.Hostname(), "an exec probe runs inside the container")
		return target{port: port(t, u.Host), path: u.Path, timeout: *timeout}
	default:
		t.Fatalf("a probe that is neither httpGet nor exec: %+v", p.ProbeHandler)
		return target{}
	}
}

type headers []string

func (h *headers) String() string     { return strings.Join(*h, ",") }
func (h *headers) Set(s string) error { *h = append(*h, s); return nil }

// TestManifestNumbers checks the relations docs/kubernetes.md justifies, so
// that changing one number without the others fails here.
func TestManifestNumbers(t *testing.T) {
	for _, file := range manifests {
		t.Run(file, func(t *testing.T) {
			d := load(t, file)
			c := d.Spec.Template.Spec.Containers[0]
			f := flags(t, c)
			assert.Equal(t, d.Spec.Selector.MatchLabels, d.Spec.Template.Labels, "the selector selects the pods")
			ps := probes(t, c)
			sec := func(n int32) time.Duration { return time.Duration(n) * time.Second }

			for kind, p := range ps {
				tg := probeTarget(t, c, p)
				assert.Equal(t, port(t, f.addr), tg.port, "%s probes the port the server listens on", kind)
				assert.True(t, strings.HasPrefix(tg.path, httpapi.DefaultPrefix+"/"), "%s path %s", kind, tg.path)
				// A probe must outwait the receivers' deadline, or the kubelet
				// cuts off the answer that says which check hung.
				assert.Greater(t, sec(p.TimeoutSeconds), signal.DefaultTimeout, kind)
				if tg.timeout > 0 {
					assert.Greater(t, tg.timeout, signal.DefaultTimeout, "%s: the probe command outwaits the receivers", kind)
					assert.Less(t, tg.timeout, sec(p.TimeoutSeconds), "%s: the kubelet outwaits the probe command", kind)
				}
				// Probing more often than replies are reused reads the same reply twice.
				assert.GreaterOrEqual(t, sec(p.PeriodSeconds), signal.DefaultCacheTTL, kind)
				assert.GreaterOrEqual(t, p.FailureThreshold, int32(2), "%s: one slow answer is not an outage", kind)
			}
			assert.EqualValues(t, 1, ps["readiness"].SuccessThreshold)
			window := func(p *corev1.Probe) time.Duration { return sec(p.PeriodSeconds) * time.Duration(p.FailureThreshold) }
			assert.Less(t, window(ps["readiness"]), window(ps["liveness"]),
				"a failing pod leaves the Service before it is restarted")
			assert.GreaterOrEqual(t, window(ps["startup"]), 30*time.Second, "time enough to start")

			require.NotNil(t, d.Spec.Template.Spec.TerminationGracePeriodSeconds)
			grace := time.Duration(*d.Spec.Template.Spec.TerminationGracePeriodSeconds) * time.Second
			assert.Greater(t, f.drainDelay, time.Duration(0), "the server drains before it stops")
			assert.Greater(t, grace, f.drainDelay+drain.DefaultTimeout,
				"SIGKILL comes after the drain delay and the wait for requests in flight")
		})
	}
}

// TestManifestsProbeTheExampleServer runs the quickstart with each
// manifest's args and sends every probe the manifest defines, the way the
// kubelet would: HTTP GET on the path and port, or the exec command.
func TestManifestsProbeTheExampleServer(t *testing.T) {
	t.Parallel()
	for _, file := range manifests {
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			d := load(t, file)
			c := d.Spec.Template.Spec.Containers[0]
			want := port(t, flags(t, c).addr)
			// These manifests probe over HTTP only; gRPC health, on by default
			// at a fixed port, is switched off so that servers run side by side.
			addr, proc := startServer(t, append(append([]string{}, c.Args...), "-grpc-addr="))

			for kind, p := range probes(t, c) {
				tg := probeTarget(t, c, p)
				require.Equal(t, want, tg.port)
				if p.HTTPGet != nil {
					code := get(t, "http://"+addr+tg.path)
					assert.Equal(t, http.StatusOK, code, "%s: GET %s", kind, tg.path)
					continue
				}
				cmd := append([]string{}, p.Exec.Command...)
				cmd[0] = bin.heartbeat
				last := len(cmd) - 1
				cmd[last] = strings.Replace(cmd[last], "127.0.0.1:"+strconv.Itoa(want), addr, 1)
				cmd[last] = strings.Replace(cmd[last], "localhost:"+strconv.Itoa(want), addr, 1)
				out, err := exec.Command(cmd[0], cmd[1:]...).CombinedOutput()
				assert.NoError(t, err, "%s: %v: %s", kind, cmd, out)
			}

			if runtime.GOOS == "windows" {
				return
			}
			// SIGTERM, as the kubelet sends on pod deletion: readiness fails,
			// liveness keeps passing, the server still answers.
			require.NoError(t, proc.Process.Signal(syscall.SIGTERM))
			assert.Eventually(t, func() bool {
				return get(t, "http://"+addr+httpapi.DefaultPrefix+"/readiness") == http.StatusInternalServerError
			}, 5*time.Second, 20*time.Millisecond, "readiness fails once the drain starts")
			assert.Equal(t, http.StatusOK, get(t, "http://"+addr+httpapi.DefaultPrefix+"/liveness"))
		})
	}
}

// startServer runs the quickstart with args, its -addr moved to a free port
// on 127.0.0.1, and waits until it answers.
func startServer(t *testing.T, args []string) (string, *exec.Cmd) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())

	// gRPC health off unless args turn it on (the last of a flag wins): its
	// fixed default port would clash between runs; and the free -addr last.
	args = append(append([]string{"-grpc-addr="}, args...), "-addr="+addr)
	cmd := exec.Command(bin.quickstart, args...)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})

	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			return addr, cmd
		}
		select {
		case err := <-exited:
			exited <- err // for the cleanup, which waits for it
			t.Fatalf("the quickstart exited with %v before it listened", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the quickstart did not listen on %s within 10s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func get(t *testing.T, url string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	require.NoError(t, err)
	req.Header.Set("User-Agent", "kube-probe/1.35")
	resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("GET %s: no answer within 5s", url)
	}
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestDocsQuoteTheManifests keeps docs/kubernetes.md and the files it
// quotes the same.
func TestDocsQuoteTheManifests(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "kubernetes.md"))
	require.NoError(t, err)
	for _, file := range manifests {
		b, err := os.ReadFile(filepath.Join("kubernetes", file))
		require.NoError(t, err)
		assert.Contains(t, string(doc), "```yaml\n"+string(b)+"```\n", "docs/kubernetes.md quotes %s verbatim", file)
	}
	dockerfile, err := os.ReadFile("Dockerfile")
	require.NoError(t, err)
	assert.Contains(t, string(dockerfile), `CMD ["/heartbeat", "probe", "http://127.0.0.1:8080/.well-known/heartbeat/liveness"]`,
		"the HEALTHCHECK the docs show")
}
