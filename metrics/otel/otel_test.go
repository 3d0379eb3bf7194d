package otel_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/goleak"

	heartbeatotel "github.com/oarepo/heartbeat/metrics/otel"
	"github.com/oarepo/heartbeat/monitor"
	"github.com/oarepo/heartbeat/signal"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// collect reads every heartbeat data point through the SDK's manual
// reader, keyed by instrument name and attribute values.
func collect(t *testing.T, r *sdkmetric.ManualReader) (map[string]float64, map[string]metricdata.Metrics) {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, r.Collect(context.Background(), &rm))
	values := map[string]float64{}
	metrics := map[string]metricdata.Metrics{}
	key := func(name string, set attribute.Set) string {
		k := name
		for _, a := range []attribute.Key{"probe", "check", "outcome"} {
			if v, ok := set.Value(a); ok {
				k += " " + v.AsString()
			}
		}
		return k
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			metrics[m.Name] = m
			switch d := m.Data.(type) {
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					values[key(m.Name, p.Attributes)] = float64(p.Value)
				}
			case metricdata.Gauge[float64]:
				for _, p := range d.DataPoints {
					values[key(m.Name, p.Attributes)] = p.Value
				}
			case metricdata.Sum[int64]:
				assert.True(t, d.IsMonotonic, m.Name)
				assert.Equal(t, metricdata.CumulativeTemporality, d.Temporality, m.Name)
				for _, p := range d.DataPoints {
					values[key(m.Name, p.Attributes)] = float64(p.Value)
				}
			default:
				t.Fatalf("%s: unexpected data %T", m.Name, m.Data)
			}
		}
	}
	return values, metrics
}

func setup(t *testing.T, bus *signal.Bus) (*sdkmetric.ManualReader, *monitor.Monitor) {
	t.Helper()
	mon := monitor.New(bus)
	t.Cleanup(mon.Close)
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { assert.NoError(t, mp.Shutdown(context.Background())) })
	reg, err := heartbeatotel.Register(mp.Meter("github.com/oarepo/heartbeat"), mon)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, reg.Unregister()) })
	return reader, mon
}

func TestMetrics(t *testing.T) {
	var down atomic.Bool
	var calls atomic.Int64
	bus := signal.NewBus(signal.WithCacheTTL(0))
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
		calls.Add(1)
		time.Sleep(10 * time.Millisecond)
		return signal.Reply{Name: "database", Status: !down.Load()}
	}, signal.Named("database"))
	bus.Subscribe(signal.Liveliness, func(context.Context) signal.Reply {
		return signal.Reply{Name: "process", Status: true}
	}, signal.Named("process"))
	reader, _ := setup(t, bus)

	before := time.Now()
	probe := func() {
		bus.Publish(context.Background(), signal.Readiness)
		bus.Publish(context.Background(), signal.Liveliness)
	}
	probe()
	down.Store(true)
	probe()
	down.Store(false)
	probe()
	down.Store(true)
	probe()

	v, metrics := collect(t, reader)
	assert.Equal(t, map[string]float64{
		"heartbeat.probe.status readiness":                          0,
		"heartbeat.probe.status liveliness":                         1,
		"heartbeat.probe.status startup":                            1,
		"heartbeat.check.status readiness database":                 0,
		"heartbeat.check.status liveliness process":                 1,
		"heartbeat.check.runs readiness database pass":              2,
		"heartbeat.check.runs readiness database fail":              2,
		"heartbeat.check.runs readiness database warn":              0,
		"heartbeat.check.runs readiness database timeout":           0,
		"heartbeat.check.runs readiness database panic":             0,
		"heartbeat.check.runs liveliness process pass":              4,
		"heartbeat.check.runs liveliness process fail":              0,
		"heartbeat.check.runs liveliness process warn":              0,
		"heartbeat.check.runs liveliness process timeout":           0,
		"heartbeat.check.runs liveliness process panic":             0,
		"heartbeat.check.transitions readiness database":            3,
		"heartbeat.check.transitions liveliness process":            0,
		"heartbeat.check.duration readiness database":               v["heartbeat.check.duration readiness database"],
		"heartbeat.check.duration liveliness process":               v["heartbeat.check.duration liveliness process"],
		"heartbeat.check.last_run.timestamp readiness database":     v["heartbeat.check.last_run.timestamp readiness database"],
		"heartbeat.check.last_run.timestamp liveliness process":     v["heartbeat.check.last_run.timestamp liveliness process"],
		"heartbeat.check.last_success.timestamp readiness database": v["heartbeat.check.last_success.timestamp readiness database"],
		"heartbeat.check.last_success.timestamp liveliness process": v["heartbeat.check.last_success.timestamp liveliness process"],
	}, v, "every data point, and no other")
	assert.GreaterOrEqual(t, v["heartbeat.check.duration readiness database"], 0.01, "seconds")
	assert.Less(t, v["heartbeat.check.duration readiness database"], 1.0, "seconds")
	start := float64(before.UnixNano()) / 1e9
	assert.InDelta(t, start, v["heartbeat.check.last_run.timestamp readiness database"], 5, "Unix seconds")
	assert.Greater(t, v["heartbeat.check.last_run.timestamp readiness database"],
		v["heartbeat.check.last_success.timestamp readiness database"], "the latest run failed")

	units := map[string]string{
		"heartbeat.probe.status": "", "heartbeat.check.status": "",
		"heartbeat.check.duration": "s", "heartbeat.check.last_run.timestamp": "s", "heartbeat.check.last_success.timestamp": "s",
		"heartbeat.check.runs": "{run}", "heartbeat.check.transitions": "{transition}",
	}
	for name, unit := range units {
		if assert.Contains(t, metrics, name) {
			assert.Equal(t, unit, metrics[name].Unit, name)
			assert.NotEmpty(t, metrics[name].Description, name)
		}
	}
	assert.Len(t, metrics, len(units))

	n := calls.Load()
	for range 20 {
		collect(t, reader)
	}
	assert.Equal(t, n, calls.Load(), "collecting runs no receiver")
}

// probedOnce returns a monitor of a bus whose one readiness check,
// "database", has passed once.
func probedOnce(t *testing.T) *monitor.Monitor {
	t.Helper()
	bus := signal.NewBus()
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
		return signal.Reply{Name: "database", Status: true}
	}, signal.Named("database"))
	mon := monitor.New(bus)
	t.Cleanup(mon.Close)
	bus.Publish(context.Background(), signal.Readiness)
	return mon
}

// TestUnregister: after Unregister the callback no longer reads the
// monitor.
func TestUnregister(t *testing.T) {
	mon := probedOnce(t)
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { assert.NoError(t, mp.Shutdown(context.Background())) })
	reg, err := heartbeatotel.Register(mp.Meter("test"), mon)
	require.NoError(t, err)

	v, _ := collect(t, reader)
	assert.Equal(t, 1.0, v["heartbeat.check.status readiness database"])
	require.NoError(t, reg.Unregister())
	v, _ = collect(t, reader)
	assert.Empty(t, v)
}

// TestTimeoutAndPanic: a hung receiver counts as a timeout, a panicking one
// as a panic.
func TestTimeoutAndPanic(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	bus := signal.NewBus(signal.WithTimeout(100 * time.Millisecond))
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
		<-release
		return signal.Reply{Name: "hung", Status: true}
	}, signal.Named("hung"))
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
		panic("boom")
	}, signal.Named("crash"))
	reader, _ := setup(t, bus)
	bus.Publish(context.Background(), signal.Readiness)

	v, _ := collect(t, reader)
	assert.Equal(t, 1.0, v["heartbeat.check.runs readiness hung timeout"])
	assert.Equal(t, 1.0, v["heartbeat.check.runs readiness crash panic"])
	assert.Equal(t, 0.0, v["heartbeat.check.status readiness hung"])
	assert.Equal(t, 0.0, v["heartbeat.probe.status readiness"])
	_, ok := v["heartbeat.check.last_success.timestamp readiness hung"]
	assert.False(t, ok, "absent until a run passes")
}

// TestWarn: a check that passes with a warning counts its runs under
// outcome "warn" and keeps its status, and its probe's, at 1.
func TestWarn(t *testing.T) {
	bus := signal.NewBus(signal.WithCacheTTL(0))
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
		return signal.Reply{Name: "search", Status: true, Data: map[string]any{"warning": "cluster health is yellow"}}
	}, signal.Named("search"))
	reader, _ := setup(t, bus)
	bus.Publish(context.Background(), signal.Readiness)
	bus.Publish(context.Background(), signal.Readiness)

	v, _ := collect(t, reader)
	assert.Equal(t, 2.0, v["heartbeat.check.runs readiness search warn"])
	assert.Equal(t, 0.0, v["heartbeat.check.runs readiness search pass"], "a warn run is not also a pass run")
	assert.Equal(t, 0.0, v["heartbeat.check.runs readiness search fail"])
	assert.Equal(t, 1.0, v["heartbeat.check.status readiness search"], "a warning is a pass")
	assert.Equal(t, 1.0, v["heartbeat.probe.status readiness"])
	assert.Equal(t, 0.0, v["heartbeat.check.transitions readiness search"])
	assert.Contains(t, v, "heartbeat.check.last_success.timestamp readiness search", "a warn run is a success")
}
