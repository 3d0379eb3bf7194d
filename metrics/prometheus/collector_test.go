package prometheus_test

import (
	"context"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/oarepo/heartbeat/internal/testenv"
	heartbeatprometheus "github.com/oarepo/heartbeat/metrics/prometheus"
	"github.com/oarepo/heartbeat/monitor"
	"github.com/oarepo/heartbeat/signal"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// fixture is a bus with a readiness check the test turns and a passing
// liveliness check, and a collector over its monitor.
type fixture struct {
	bus   *signal.Bus
	mon   *monitor.Monitor
	c     *heartbeatprometheus.Collector
	down  atomic.Bool
	calls atomic.Int64
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{bus: signal.NewBus(signal.WithCacheTTL(0))}
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
	t.Cleanup(f.mon.Close)
	f.c = heartbeatprometheus.NewCollector(f.mon)
	return f
}

func (f *fixture) probe() {
	f.bus.Publish(context.Background(), signal.Readiness)
	f.bus.Publish(context.Background(), signal.Liveliness)
}

// TestCollectAndCompare: two passing runs, one failing, one passing again:
// statuses, runs by outcome and transitions as Prometheus reads them.
func TestCollectAndCompare(t *testing.T) {
	f := newFixture(t)
	f.probe()
	f.probe()
	f.down.Store(true)
	f.probe()
	f.down.Store(false)
	f.probe()

	const want = `
# HELP heartbeat_check_runs_total Runs of the check by outcome (pass, warn, fail, timeout, panic) since the monitor started.
# TYPE heartbeat_check_runs_total counter
heartbeat_check_runs_total{check="database",outcome="fail",probe="readiness"} 1
heartbeat_check_runs_total{check="database",outcome="pass",probe="readiness"} 3
heartbeat_check_runs_total{check="database",outcome="panic",probe="readiness"} 0
heartbeat_check_runs_total{check="database",outcome="timeout",probe="readiness"} 0
heartbeat_check_runs_total{check="database",outcome="warn",probe="readiness"} 0
heartbeat_check_runs_total{check="process",outcome="fail",probe="liveliness"} 0
heartbeat_check_runs_total{check="process",outcome="pass",probe="liveliness"} 4
heartbeat_check_runs_total{check="process",outcome="panic",probe="liveliness"} 0
heartbeat_check_runs_total{check="process",outcome="timeout",probe="liveliness"} 0
heartbeat_check_runs_total{check="process",outcome="warn",probe="liveliness"} 0
# HELP heartbeat_check_status Whether the check passes (1) or not (0), after the monitor's thresholds.
# TYPE heartbeat_check_status gauge
heartbeat_check_status{check="database",probe="readiness"} 1
heartbeat_check_status{check="process",probe="liveliness"} 1
# HELP heartbeat_check_transitions_total Changes of the check's status (flaps) since the monitor started, after the monitor's thresholds.
# TYPE heartbeat_check_transitions_total counter
heartbeat_check_transitions_total{check="database",probe="readiness"} 2
heartbeat_check_transitions_total{check="process",probe="liveliness"} 0
# HELP heartbeat_probe_status Whether every check of the probe passes (1) or not (0), after the monitor's thresholds.
# TYPE heartbeat_probe_status gauge
heartbeat_probe_status{probe="liveliness"} 1
heartbeat_probe_status{probe="readiness"} 1
heartbeat_probe_status{probe="startup"} 1
`
	require.NoError(t, testutil.CollectAndCompare(f.c, strings.NewReader(want),
		"heartbeat_probe_status", "heartbeat_check_status", "heartbeat_check_runs_total", "heartbeat_check_transitions_total"))

	f.down.Store(true)
	f.probe()
	assert.NoError(t, testutil.CollectAndCompare(f.c, strings.NewReader(`
# HELP heartbeat_probe_status Whether every check of the probe passes (1) or not (0), after the monitor's thresholds.
# TYPE heartbeat_probe_status gauge
heartbeat_probe_status{probe="liveliness"} 1
heartbeat_probe_status{probe="readiness"} 0
heartbeat_probe_status{probe="startup"} 1
`), "heartbeat_probe_status"))
}

// TestThresholdsDebounceTheStatusAndFlaps: with WithThresholds(3, 2) a
// single failed run counts as a failed run but changes neither the check's
// status nor its transitions; the third failure in a row does, and it takes
// two passing runs to count it up again.
func TestThresholdsDebounceTheStatusAndFlaps(t *testing.T) {
	f := &fixture{bus: signal.NewBus(signal.WithCacheTTL(0))}
	f.bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
		return signal.Reply{Name: "database", Status: !f.down.Load()}
	}, signal.Named("database"))
	f.mon = monitor.New(f.bus, monitor.WithThresholds(3, 2))
	t.Cleanup(f.mon.Close)
	c := heartbeatprometheus.NewCollector(f.mon)
	probe := func(down bool) {
		f.down.Store(down)
		f.bus.Publish(context.Background(), signal.Readiness)
	}
	value := func(name string) float64 {
		m := gather(t, c)[name]
		require.NotNil(t, m, name)
		if m.GetCounter() != nil {
			return m.GetCounter().GetValue()
		}
		return m.GetGauge().GetValue()
	}
	const (
		status = "heartbeat_check_status database/readiness"
		flaps  = "heartbeat_check_transitions_total database/readiness"
		fails  = "heartbeat_check_runs_total database/fail/readiness"
	)

	probe(false)
	probe(true) // one failure: a failed run, no flap
	probe(false)
	assert.Equal(t, 1.0, value(status))
	assert.Equal(t, 0.0, value(flaps))
	assert.Equal(t, 1.0, value(fails))

	for range 3 {
		probe(true)
	}
	assert.Equal(t, 0.0, value(status), "three failures in a row")
	assert.Equal(t, 1.0, value(flaps))
	probe(false)
	assert.Equal(t, 0.0, value(status), "one success is not yet two")
	probe(false)
	assert.Equal(t, 1.0, value(status))
	assert.Equal(t, 2.0, value(flaps))
	assert.Equal(t, 4.0, value(fails))
}

// gather returns the collector's metrics by name and label values joined
// with "/" in the labels' sorted order, e.g. "heartbeat_check_status database/readiness".
func gather(t *testing.T, c prometheus.Collector) map[string]*dto.Metric {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(c))
	mfs, err := reg.Gather()
	require.NoError(t, err)
	out := map[string]*dto.Metric{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var values []string
			for _, l := range m.GetLabel() {
				values = append(values, l.GetValue())
			}
			out[mf.GetName()+" "+strings.Join(values, "/")] = m
		}
	}
	return out
}

// TestTimesAndDurations: the duration of the latest run in seconds, and the
// times of the latest run and success as Unix seconds.
func TestTimesAndDurations(t *testing.T) {
	bus := signal.NewBus(signal.WithCacheTTL(0))
	var down atomic.Bool
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
		time.Sleep(20 * time.Millisecond)
		return signal.Reply{Name: "slow", Status: !down.Load()}
	}, signal.Named("slow"))
	mon := monitor.New(bus)
	t.Cleanup(mon.Close)
	c := heartbeatprometheus.NewCollector(mon)

	before := time.Now()
	bus.Publish(context.Background(), signal.Readiness)
	m := gather(t, c)
	// labels sort by name: check, then probe
	assert.InDelta(t, 0.02, m["heartbeat_check_duration_seconds slow/readiness"].GetGauge().GetValue(), 0.5)
	assert.GreaterOrEqual(t, m["heartbeat_check_duration_seconds slow/readiness"].GetGauge().GetValue(), 0.02)
	success := m["heartbeat_check_last_success_timestamp_seconds slow/readiness"].GetGauge().GetValue()
	assert.InDelta(t, float64(before.UnixNano())/1e9, success, 1)
	lastRun := m["heartbeat_check_last_run_timestamp_seconds slow/readiness"].GetGauge().GetValue()
	assert.Equal(t, success, lastRun)

	time.Sleep(10 * time.Millisecond)
	down.Store(true)
	bus.Publish(context.Background(), signal.Readiness)
	m = gather(t, c)
	assert.Equal(t, success, m["heartbeat_check_last_success_timestamp_seconds slow/readiness"].GetGauge().GetValue(),
		"a failing run leaves the last success where it was")
	assert.Greater(t, m["heartbeat_check_last_run_timestamp_seconds slow/readiness"].GetGauge().GetValue(), success)
}

func TestNoSuccessNoTimestamp(t *testing.T) {
	bus := signal.NewBus()
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
		return signal.Reply{Name: "never", Status: false}
	}, signal.Named("never"))
	mon := monitor.New(bus)
	t.Cleanup(mon.Close)
	bus.Publish(context.Background(), signal.Readiness)
	m := gather(t, heartbeatprometheus.NewCollector(mon))
	assert.Contains(t, m, "heartbeat_check_last_run_timestamp_seconds never/readiness")
	assert.NotContains(t, m, "heartbeat_check_last_success_timestamp_seconds never/readiness", "absent until a run passes")
}

// TestTimeoutAndPanic: a hung receiver counts as a timeout, a panicking one
// as a panic, and both fail their check.
func TestTimeoutAndPanic(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	bus := signal.NewBus(signal.WithTimeout(100*time.Millisecond), signal.WithCacheTTL(0))
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
		<-release
		return signal.Reply{Name: "hung", Status: true}
	}, signal.Named("hung"))
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
		panic("boom")
	}, signal.Named("crash"))
	mon := monitor.New(bus)
	t.Cleanup(mon.Close)
	bus.Publish(context.Background(), signal.Readiness)

	m := gather(t, heartbeatprometheus.NewCollector(mon))
	assert.EqualValues(t, 1, m["heartbeat_check_runs_total hung/timeout/readiness"].GetCounter().GetValue())
	assert.EqualValues(t, 0, m["heartbeat_check_runs_total hung/fail/readiness"].GetCounter().GetValue())
	assert.EqualValues(t, 1, m["heartbeat_check_runs_total crash/panic/readiness"].GetCounter().GetValue())
	assert.EqualValues(t, 0, m["heartbeat_check_status hung/readiness"].GetGauge().GetValue())
	assert.EqualValues(t, 0, m["heartbeat_check_status crash/readiness"].GetGauge().GetValue())
	assert.EqualValues(t, 0, m["heartbeat_probe_status readiness"].GetGauge().GetValue())
}

// TestWarn: a check that passes with a warning counts its runs under
// outcome "warn" and keeps its status, and its probe's, at 1.
func TestWarn(t *testing.T) {
	bus := signal.NewBus(signal.WithCacheTTL(0))
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
		return signal.Reply{Name: "search", Status: true, Data: map[string]any{"warning": "cluster health is yellow"}}
	}, signal.Named("search"))
	mon := monitor.New(bus)
	t.Cleanup(mon.Close)
	c := heartbeatprometheus.NewCollector(mon)
	bus.Publish(context.Background(), signal.Readiness)
	bus.Publish(context.Background(), signal.Readiness)

	assert.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(`
# HELP heartbeat_check_runs_total Runs of the check by outcome (pass, warn, fail, timeout, panic) since the monitor started.
# TYPE heartbeat_check_runs_total counter
heartbeat_check_runs_total{check="search",outcome="fail",probe="readiness"} 0
heartbeat_check_runs_total{check="search",outcome="pass",probe="readiness"} 0
heartbeat_check_runs_total{check="search",outcome="panic",probe="readiness"} 0
heartbeat_check_runs_total{check="search",outcome="timeout",probe="readiness"} 0
heartbeat_check_runs_total{check="search",outcome="warn",probe="readiness"} 2
# HELP heartbeat_check_status Whether the check passes (1) or not (0), after the monitor's thresholds.
# TYPE heartbeat_check_status gauge
heartbeat_check_status{check="search",probe="readiness"} 1
# HELP heartbeat_check_transitions_total Changes of the check's status (flaps) since the monitor started, after the monitor's thresholds.
# TYPE heartbeat_check_transitions_total counter
heartbeat_check_transitions_total{check="search",probe="readiness"} 0
# HELP heartbeat_probe_status Whether every check of the probe passes (1) or not (0), after the monitor's thresholds.
# TYPE heartbeat_probe_status gauge
heartbeat_probe_status{probe="liveliness"} 1
heartbeat_probe_status{probe="readiness"} 1
heartbeat_probe_status{probe="startup"} 1
`), "heartbeat_probe_status", "heartbeat_check_status", "heartbeat_check_runs_total", "heartbeat_check_transitions_total"),
		"a warning is a pass: status 1, runs counted as warn")
	assert.Contains(t, gather(t, c), "heartbeat_check_last_success_timestamp_seconds search/readiness", "a warn run is a success")
}

// TestScrapeRunsNoReceiver: scraping reads the stored results only, and
// answers at once while a receiver hangs.
func TestScrapeRunsNoReceiver(t *testing.T) {
	f := newFixture(t)
	f.probe()
	require.EqualValues(t, 1, f.calls.Load())
	for range 50 {
		testutil.CollectAndCount(f.c)
	}
	assert.EqualValues(t, 1, f.calls.Load(), "50 scrapes, no run")

	release := make(chan struct{})
	bus := signal.NewBus(signal.WithTimeout(50 * time.Millisecond))
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
		<-release
		return signal.Reply{Name: "hung", Status: true}
	}, signal.Named("hung"))
	mon := monitor.New(bus)
	t.Cleanup(mon.Close)
	t.Cleanup(func() { close(release) })
	bus.Publish(context.Background(), signal.Readiness) // the run goes on, hung
	start := time.Now()
	assert.Positive(t, testutil.CollectAndCount(heartbeatprometheus.NewCollector(mon)))
	// Wrong is never: the receiver is released only when the test ends.
	assert.Less(t, time.Since(start), 5*time.Second, "a scrape does not wait for a hung receiver")
}

func TestLint(t *testing.T) {
	f := newFixture(t)
	f.probe()
	problems, err := testutil.CollectAndLint(f.c)
	require.NoError(t, err)
	assert.Empty(t, problems)
}

// TestPromtoolCheckMetrics runs Prometheus's own linter on the exposition
// that promhttp serves.
func TestPromtoolCheckMetrics(t *testing.T) {
	tool, err := exec.LookPath("promtool")
	if err != nil {
		testenv.Unavailable(t, "promtool (Debian package prometheus): %v", err)
	}
	f := newFixture(t)
	f.probe()
	reg := prometheus.NewRegistry()
	reg.MustRegister(f.c)
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Contains(t, string(body), "heartbeat_check_status{")

	cmd := exec.Command(tool, "check", "metrics")
	cmd.Stdin = strings.NewReader(string(body))
	out, err := cmd.CombinedOutput()
	assert.NoError(t, err, "promtool check metrics:\n%s", out)
	assert.Empty(t, strings.TrimSpace(string(out)), "no lint problems")
}

// TestCardinality: the series are bounded by the checks, not by what
// happens: many runs with ever-different errors add no series.
func TestCardinality(t *testing.T) {
	var n atomic.Int64
	bus := signal.NewBus(signal.WithCacheTTL(0))
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
		i := n.Add(1)
		return signal.Reply{Name: "database", Status: i%2 == 1, Data: map[string]any{"error": time.Now().String()}}
	}, signal.Named("database"))
	mon := monitor.New(bus)
	t.Cleanup(mon.Close)
	c := heartbeatprometheus.NewCollector(mon)
	bus.Publish(context.Background(), signal.Readiness)
	first := testutil.CollectAndCount(c)
	for range 20 {
		bus.Publish(context.Background(), signal.Readiness)
	}
	assert.Equal(t, first, testutil.CollectAndCount(c))
}

// TestDocumented: every metric the collector exports is explained in
// docs/observability.md and in the package doc.
func TestDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "observability.md"))
	require.NoError(t, err)
	pkg, err := os.ReadFile("doc.go")
	require.NoError(t, err)
	f := newFixture(t)
	f.probe()
	for name := range gatherNames(t, f.c) {
		assert.Contains(t, string(doc), "`"+name+"`", "docs/observability.md")
		assert.Contains(t, string(pkg), name+"{", "doc.go")
	}
}

func gatherNames(t *testing.T, c prometheus.Collector) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	for k := range gather(t, c) {
		names[strings.Fields(k)[0]] = true
	}
	require.Len(t, names, 7)
	return names
}

// TestNeverRunCheck: a check subscribed but never run (excluded from every
// probe so far) has no series, and its probe is not reported passing.
func TestNeverRunCheck(t *testing.T) {
	bus := signal.NewBus()
	for _, name := range []string{"database", "search"} {
		bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
			return signal.Reply{Name: name, Status: true}
		}, signal.Named(name))
	}
	mon := monitor.New(bus)
	t.Cleanup(mon.Close)
	bus.Publish(context.Background(), signal.Readiness, signal.Select(func(name string) bool { return name == "database" }))
	m := gather(t, heartbeatprometheus.NewCollector(mon))
	assert.Contains(t, m, "heartbeat_check_status database/readiness")
	for k := range m {
		assert.NotContains(t, k, "search", "no series for a check that never ran")
	}
	assert.EqualValues(t, 0, m["heartbeat_probe_status readiness"].GetGauge().GetValue(), "not every check has run")
}
