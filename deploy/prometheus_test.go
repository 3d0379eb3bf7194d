package deploy

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oarepo/heartbeat/drain"
	heartbeatprometheus "github.com/oarepo/heartbeat/metrics/prometheus"
	"github.com/oarepo/heartbeat/monitor"
	"github.com/oarepo/heartbeat/signal"
)

var (
	rulesFile     = filepath.Join("prometheus", "rules.yaml")
	rulesTestFile = filepath.Join("prometheus", "rules_test.yaml")
	dashboardFile = filepath.Join("prometheus", "dashboard.json")
)

func promtool(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command(binary(t, "promtool", "HEARTBEAT_PROMTOOL"), args...).CombinedOutput()
	require.NoError(t, err, "promtool %v:\n%s", args, out)
}

func TestAlertRulesCheck(t *testing.T) {
	promtool(t, "check", "rules", rulesFile)
}

// TestAlertRulesUnitTests runs rules_test.yaml, whose cases fire each alert
// and leave it silent on the series next to it.
func TestAlertRulesUnitTests(t *testing.T) {
	promtool(t, "test", "rules", rulesTestFile)
}

// dashboard is the part of a Grafana dashboard the tests read.
type dashboard struct {
	Templating struct {
		List []struct {
			Name, Type, Query string
		}
	}
	Panels []struct {
		ID         int
		Title      string
		Datasource struct{ UID string }
		Targets    []struct {
			RefID      string
			Expr       string
			Datasource struct{ UID string }
		}
	}
}

func loadDashboard(t *testing.T) dashboard {
	t.Helper()
	b, err := os.ReadFile(dashboardFile)
	require.NoError(t, err)
	var d dashboard
	require.NoError(t, json.Unmarshal(b, &d))
	require.NotEmpty(t, d.Panels)
	return d
}

// TestDashboardShape checks what Grafana needs to import the dashboard
// anywhere: panels with unique ids and queries, all on the data source the
// user picks.
func TestDashboardShape(t *testing.T) {
	d := loadDashboard(t)
	ids := map[int]bool{}
	for _, p := range d.Panels {
		assert.False(t, ids[p.ID], "panel id %d is used twice", p.ID)
		ids[p.ID] = true
		assert.Equal(t, "${datasource}", p.Datasource.UID, p.Title)
		require.NotEmpty(t, p.Targets, "panel %q has no query", p.Title)
		refs := map[string]bool{}
		for _, q := range p.Targets {
			assert.NotEmpty(t, q.Expr, p.Title)
			assert.Contains(t, q.Expr, "heartbeat_", "%s: a query of heartbeat's metrics", p.Title)
			assert.False(t, refs[q.RefID], "%s: refId %s twice", p.Title, q.RefID)
			refs[q.RefID] = true
			assert.Equal(t, "${datasource}", q.Datasource.UID, p.Title)
		}
	}
	var names []string
	for _, v := range d.Templating.List {
		names = append(names, v.Name)
	}
	assert.Equal(t, []string{"datasource", "job", "instance", "probe"}, names)
}

// grafana replaces the dashboard's variables and Grafana's macros the way
// Grafana would with "All" selected.
var grafana = strings.NewReplacer(
	"$job", ".*", "$instance", ".*", "$probe", ".*",
	"$__rate_interval", "15s", "$__range", "5m",
)

// labelValues is Grafana's label_values(selector, label) variable query.
var labelValues = regexp.MustCompile(`^label_values\((.*), (\w+)\)$`)

// scenario is a service with heartbeat's collector whose checks the test
// turns: the database fails when down is set; search hangs past its
// deadline when hang is set.
type scenario struct {
	down, hang atomic.Bool
	release    chan struct{} // ends a hung search run at once
	addr       string        // host:port of /metrics
}

func startScenario(t *testing.T) *scenario {
	t.Helper()
	s := &scenario{release: make(chan struct{})}
	bus := signal.NewBus(signal.WithTimeout(300*time.Millisecond), signal.WithCacheTTL(0))
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
		if s.down.Load() {
			return signal.Reply{Name: "database", Status: false, Data: map[string]any{"error": "connection refused"}}
		}
		return signal.Reply{Name: "database", Status: true}
	}, signal.Named("database"))
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
		if s.hang.Load() {
			// It ignores its context, as a client without deadlines does:
			// the bus reports it timed out; the run ends a second later.
			select {
			case <-s.release:
			case <-time.After(time.Second):
			}
		}
		return signal.Reply{Name: "search", Status: true}
	}, signal.Named("search"))
	bus.Subscribe(signal.Liveliness, func(context.Context) signal.Reply {
		return signal.Reply{Name: "process", Status: true}
	}, signal.Named("process"))
	bus.Subscribe(signal.Startup, func(context.Context) signal.Reply {
		return signal.Reply{Name: "warmup", Status: true}
	}, signal.Named("warmup"))

	mon := monitor.New(bus)
	reg := prometheus.NewRegistry()
	reg.MustRegister(heartbeatprometheus.NewCollector(mon))
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	s.addr = strings.TrimPrefix(srv.URL, "http://")

	// A kubelet of its own: the metrics report only what probes ran.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			for _, sig := range []string{signal.Readiness, signal.Liveliness, signal.Startup} {
				bus.Publish(context.Background(), sig)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	t.Cleanup(func() {
		close(stop)
		wg.Wait()
		close(s.release)
		srv.Close()
		mon.Close()
	})
	return s
}

// TestRealPrometheus has a real Prometheus scrape the collector every
// second while the test fails a check and hangs another, and asserts what
// Prometheus stored, how it evaluated the alert rules, and that every query
// of the dashboard runs and finds data.
func TestRealPrometheus(t *testing.T) {
	s := startScenario(t)
	p := startPrometheus(t, map[string]string{"scenario": s.addr}, rulesFile)
	const wait = 20 * time.Second

	p.waitValue(t, `up{job="scenario"}`, equals(1), wait, "the target is scraped")
	p.waitValue(t, `heartbeat_check_status{probe="readiness",check="database"}`, equals(1), wait, "the database passes")
	p.waitValue(t, `heartbeat_probe_status{probe="readiness"}`, equals(1), wait, "readiness passes")
	passes := p.waitValue(t, `heartbeat_check_runs_total{check="database",outcome="pass"}`, atLeast(1), wait, "passing runs are counted")
	fails, err := p.value(`heartbeat_check_runs_total{check="database",outcome="fail"}`)
	require.NoError(t, err, "every outcome is exported from the start")
	assert.Zero(t, fails)

	s.down.Store(true)
	p.waitValue(t, `heartbeat_check_status{probe="readiness",check="database"}`, equals(0), wait, "the failing database is seen")
	p.waitValue(t, `heartbeat_probe_status{probe="readiness"}`, equals(0), wait, "readiness fails with it")
	p.waitValue(t, `heartbeat_probe_status{probe="liveliness"}`, equals(1), wait, "liveliness does not")
	p.waitValue(t, `heartbeat_check_runs_total{check="database",outcome="fail"}`, atLeast(1), wait, "failed runs are counted")
	p.waitValue(t, `heartbeat_check_transitions_total{check="database"}`, atLeast(1), wait, "the change is counted")
	lastSuccess, err := p.value(`heartbeat_check_last_success_timestamp_seconds{check="database"}`)
	require.NoError(t, err)
	assert.Greater(t, lastSuccess, float64(time.Now().Add(-time.Minute).Unix()), "the last success is a recent Unix time")

	s.hang.Store(true)
	p.waitValue(t, `heartbeat_check_runs_total{check="search",outcome="timeout"}`, atLeast(3), wait, "timeouts are counted")
	p.waitValue(t, `heartbeat_check_duration_seconds{check="search"}`, atLeast(0.25), wait,
		"a run cut off at its 300ms deadline lasted about that long")
	p.waitValue(t, `count(ALERTS{alertname="HeartbeatCheckTimingOut",alertstate="firing",check="search"})`, equals(1), wait,
		"the real Prometheus fires the timeout alert")
	p.waitValue(t, `count(ALERTS{alertname="HeartbeatCheckFailing",alertstate="pending",check="database"})`, equals(1), wait,
		"the failing-check alert waits out its 10 minutes")

	s.down.Store(false)
	p.waitValue(t, `heartbeat_check_status{check="database"}`, equals(1), wait, "the database recovers")
	p.waitValue(t, `heartbeat_check_transitions_total{check="database"}`, atLeast(2), wait, "down and up again: two changes")
	p.waitValue(t, `heartbeat_check_runs_total{check="database",outcome="pass"}`, func(v float64) bool { return v > passes }, wait,
		"passing runs go on being counted")

	t.Run("rules evaluate", func(t *testing.T) {
		var data struct {
			Groups []struct {
				Rules []struct{ Name, Health, LastError string }
			}
		}
		require.NoError(t, p.api("/api/v1/rules", nil, &data))
		n := 0
		for _, g := range data.Groups {
			for _, r := range g.Rules {
				n++
				assert.Equal(t, "ok", r.Health, "%s: %s", r.Name, r.LastError)
			}
		}
		assert.Equal(t, 4, n, "the rules of rules.yaml are loaded")
	})

	// Search still hangs, so a check is failing, runs time out and the
	// database has flapped: every panel has something to show.
	t.Run("dashboard queries", func(t *testing.T) {
		d := loadDashboard(t)
		for _, v := range d.Templating.List {
			if v.Type != "query" {
				continue
			}
			m := labelValues.FindStringSubmatch(v.Query)
			require.NotNil(t, m, "variable %s: %s", v.Name, v.Query)
			var values []string
			require.NoError(t, p.api("/api/v1/label/"+m[2]+"/values", url.Values{"match[]": {grafana.Replace(m[1])}}, &values))
			assert.NotEmpty(t, values, "variable %s: %s", v.Name, v.Query)
		}
		for _, panel := range d.Panels {
			for _, q := range panel.Targets {
				expr := grafana.Replace(q.Expr)
				got, err := p.query(expr)
				if assert.NoError(t, err, "panel %q", panel.Title) {
					assert.NotEmpty(t, got, "panel %q: %s", panel.Title, expr)
				}
			}
		}
	})
}

// TestPrometheusScrapesTheExample has a real Prometheus scrape the
// quickstart's /metrics while its startup check warms up, and sees the
// check fail, then pass. Then the quickstart gets SIGTERM, as the kubelet
// sends on pod deletion, and Prometheus, still scraping while the server
// drains, sees readiness fail with the "shutdown" check and nothing else
// change.
func TestPrometheusScrapesTheExample(t *testing.T) {
	// A drain far longer than the test waits: every scrape of the drain
	// finds the server still serving.
	addr, proc := startServer(t, []string{"-warmup=15s", "-drain-delay=5m", "-grpc-addr="})
	p := startPrometheus(t, map[string]string{"quickstart": addr})

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the kubelet's probes; the metrics report only what probes ran
		defer wg.Done()
		client := &http.Client{Timeout: 2 * time.Second}
		for {
			for _, probe := range []string{"startup", "readiness", "liveness"} {
				if resp, err := client.Get("http://" + addr + "/.well-known/heartbeat/" + probe); err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
	t.Cleanup(func() { close(stop); wg.Wait() })

	p.waitValue(t, `heartbeat_check_status{job="quickstart",probe="startup",check="warmup"}`, equals(0), 15*time.Second, "warming up")
	p.waitValue(t, `heartbeat_probe_status{job="quickstart",probe="startup"}`, equals(0), 5*time.Second, "startup fails")
	p.waitValue(t, `heartbeat_check_status{job="quickstart",probe="startup",check="warmup"}`, equals(1), 30*time.Second, "warmed up")
	p.waitValue(t, `heartbeat_check_transitions_total{job="quickstart",check="warmup"}`, atLeast(1), 5*time.Second, "one change")
	p.waitValue(t, `heartbeat_probe_status{job="quickstart",probe="startup"}`, equals(1), 5*time.Second, "startup passes")

	const wait = 30 * time.Second
	shutdown := `{job="quickstart",probe="readiness",check="` + drain.CheckName + `"}`
	p.waitValue(t, `heartbeat_probe_status{job="quickstart",probe="readiness"}`, equals(1), wait, "readiness passes")
	p.waitValue(t, `heartbeat_check_status`+shutdown, equals(1), wait, "the shutdown check passes before the drain")
	p.waitValue(t, `heartbeat_check_status{job="quickstart",probe="readiness",check="sample"}`, equals(1), wait, "the sample check passes")
	p.waitValue(t, `heartbeat_probe_status{job="quickstart",probe="liveliness"}`, equals(1), wait, "liveliness passes")
	transitions, err := p.value(`heartbeat_check_transitions_total` + shutdown)
	require.NoError(t, err)
	assert.Zero(t, transitions, "the shutdown check has not changed yet")

	if runtime.GOOS == "windows" {
		t.Skip("the drain starts on SIGTERM, which Windows cannot send")
	}
	require.NoError(t, proc.Process.Signal(syscall.SIGTERM))
	p.waitValue(t, `heartbeat_probe_status{job="quickstart",probe="readiness"}`, equals(0), wait, "readiness fails once the drain starts")
	p.waitValue(t, `heartbeat_check_status`+shutdown, equals(0), wait, "the shutdown check fails")
	p.waitValue(t, `heartbeat_check_transitions_total`+shutdown, atLeast(1), wait, "the change is counted")
	p.waitValue(t, `heartbeat_check_runs_total{job="quickstart",check="`+drain.CheckName+`",outcome="fail"}`, atLeast(1), wait,
		"failed runs are counted")

	// The server still serves while it drains: it is scraped, and only the
	// shutdown check changed.
	for expr, want := range map[string]float64{
		`up{job="quickstart"}`: 1,
		`heartbeat_check_status{job="quickstart",probe="readiness",check="sample"}`: 1,
		`heartbeat_probe_status{job="quickstart",probe="liveliness"}`:               1,
		`heartbeat_probe_status{job="quickstart",probe="startup"}`:                  1,
	} {
		v, err := p.value(expr)
		if assert.NoError(t, err, expr) {
			assert.Equal(t, want, v, expr)
		}
	}
}

// TestPromtoolChecksTheExamplesMetrics runs promtool check metrics, its
// linter of names, units and help texts, on the quickstart's /metrics.
func TestPromtoolChecksTheExamplesMetrics(t *testing.T) {
	tool := binary(t, "promtool", "HEARTBEAT_PROMTOOL")
	addr, _ := startServer(t, []string{"-grpc-addr="})
	for _, probe := range []string{"readiness", "liveness", "startup"} { // results for the collector to report
		require.Equal(t, http.StatusOK, get(t, "http://"+addr+"/.well-known/heartbeat/"+probe))
	}
	resp, err := http.Get("http://" + addr + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	for _, name := range []string{"heartbeat_probe_status", "heartbeat_check_status", "heartbeat_check_runs_total"} {
		assert.Contains(t, string(body), "\n"+name+"{", "the exposition has %s", name)
	}

	cmd := exec.Command(tool, "check", "metrics")
	cmd.Stdin = strings.NewReader(string(body))
	out, err := cmd.CombinedOutput()
	assert.NoError(t, err, "promtool check metrics:\n%s", out)
}
