package otel_test

import (
	"context"
	"sort"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	heartbeatotel "github.com/oarepo/heartbeat/metrics/otel"
)

// TestPrometheusNames: through the OpenTelemetry Prometheus exporter the
// instruments get the names and labels of package metrics/prometheus, so
// that deploy/prometheus's rules and dashboard serve both.
func TestPrometheusNames(t *testing.T) {
	mon := probedOnce(t)

	reg := prometheus.NewRegistry()
	exporter, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithoutScopeInfo(), otelprom.WithoutTargetInfo())
	require.NoError(t, err)
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))
	t.Cleanup(func() { assert.NoError(t, mp.Shutdown(context.Background())) })
	_, err = heartbeatotel.Register(mp.Meter("github.com/oarepo/heartbeat"), mon)
	require.NoError(t, err)

	mfs, err := reg.Gather()
	require.NoError(t, err)
	labels := map[string][]string{}
	for _, mf := range mfs {
		var names []string
		for _, l := range mf.GetMetric()[0].GetLabel() {
			names = append(names, l.GetName())
		}
		sort.Strings(names)
		labels[mf.GetName()] = names
	}
	assert.Equal(t, map[string][]string{
		"heartbeat_probe_status":                         {"probe"},
		"heartbeat_check_status":                         {"check", "probe"},
		"heartbeat_check_duration_seconds":               {"check", "probe"},
		"heartbeat_check_last_run_timestamp_seconds":     {"check", "probe"},
		"heartbeat_check_last_success_timestamp_seconds": {"check", "probe"},
		"heartbeat_check_runs_total":                     {"check", "outcome", "probe"},
		"heartbeat_check_transitions_total":              {"check", "probe"},
	}, labels)
}
