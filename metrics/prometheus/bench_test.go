package prometheus_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	heartbeatprometheus "github.com/oarepo/heartbeat/metrics/prometheus"
	"github.com/oarepo/heartbeat/monitor"
	"github.com/oarepo/heartbeat/signal"
)

// BenchmarkGather is one scrape's work for a service with 10 readiness
// checks: reading the monitor and building the metric families.
func BenchmarkGather(b *testing.B) {
	bus := signal.NewBus()
	for i := range 10 {
		name := fmt.Sprintf("check%d", i)
		bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
			return signal.Reply{Name: name, Status: true}
		}, signal.Named(name))
	}
	mon := monitor.New(bus)
	defer mon.Close()
	bus.Publish(context.Background(), signal.Readiness)
	reg := prometheus.NewRegistry()
	reg.MustRegister(heartbeatprometheus.NewCollector(mon))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := reg.Gather(); err != nil {
			b.Fatal(err)
		}
	}
}
