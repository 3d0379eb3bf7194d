package prometheus_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"

	heartbeatprometheus "github.com/oarepo/heartbeat/metrics/prometheus"
	"github.com/oarepo/heartbeat/monitor"
	"github.com/oarepo/heartbeat/signal"
)

// The collector reports what the probes ran: here one readiness probe
// whose database check failed. Serve it on /metrics with promhttp.
func ExampleNewCollector() {
	bus := signal.NewBus()
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
		return signal.Reply{Name: "database", Status: false, Data: map[string]any{"error": "connection refused"}}
	}, signal.Named("database"))
	mon := monitor.New(bus)
	defer mon.Close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(heartbeatprometheus.NewCollector(mon))
	http.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))

	bus.Publish(context.Background(), signal.Readiness) // a probe, as the kubelet's
	err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP heartbeat_check_status Whether the check passes (1) or not (0), after the monitor's thresholds.
# TYPE heartbeat_check_status gauge
heartbeat_check_status{check="database",probe="readiness"} 0
`), "heartbeat_check_status")
	fmt.Println(err)
	n, _ := testutil.GatherAndCount(reg, "heartbeat_check_runs_total")
	fmt.Println(n, "runs counters: pass, warn, fail, timeout, panic")
	// Output:
	// <nil>
	// 5 runs counters: pass, warn, fail, timeout, panic
}
