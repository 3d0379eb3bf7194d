package otel_test

import (
	"context"
	"fmt"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	heartbeatotel "github.com/oarepo/heartbeat/metrics/otel"
	"github.com/oarepo/heartbeat/monitor"
	"github.com/oarepo/heartbeat/signal"
)

// Register puts heartbeat's instruments on a meter; any reader or exporter
// of the SDK collects them. Here a manual reader reads the status of the
// one check a probe ran.
func ExampleRegister() {
	bus := signal.NewBus()
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
		return signal.Reply{Name: "database", Status: true}
	}, signal.Named("database"))
	mon := monitor.New(bus)
	defer mon.Close()

	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())
	if _, err := heartbeatotel.Register(mp.Meter("github.com/oarepo/heartbeat"), mon); err != nil {
		fmt.Println(err)
		return
	}

	bus.Publish(context.Background(), signal.Readiness) // a probe, as the kubelet's
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		fmt.Println(err)
		return
	}
	for _, m := range rm.ScopeMetrics[0].Metrics {
		if m.Name != "heartbeat.check.status" {
			continue
		}
		for _, p := range m.Data.(metricdata.Gauge[int64]).DataPoints {
			probe, _ := p.Attributes.Value("probe")
			check, _ := p.Attributes.Value("check")
			fmt.Println(m.Name, probe.AsString(), check.AsString(), p.Value)
		}
	}
	// Output: heartbeat.check.status readiness database 1
}
