package otel

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/oarepo/heartbeat/monitor"
)

// outcomes are the values of the outcome attribute, each observed for every
// check from the start, so that a rate sees the first one.
var outcomes = []monitor.Outcome{monitor.Pass, monitor.Warn, monitor.Fail, monitor.Timeout, monitor.Panic}

// Register creates heartbeat's instruments on meter and a callback that
// observes what m has stored at each collection. Unregister the returned
// registration to stop observing m (for instance before m.Close).
func Register(meter metric.Meter, m *monitor.Monitor) (metric.Registration, error) {
	var in instruments
	var errs [7]error
	in.probeStatus, errs[0] = meter.Int64ObservableGauge("heartbeat.probe.status",
		metric.WithDescription("Whether every check of the probe passes (1) or not (0), after the monitor's thresholds."))
	in.status, errs[1] = meter.Int64ObservableGauge("heartbeat.check.status",
		metric.WithDescription("Whether the check passes (1) or not (0), after the monitor's thresholds."))
	in.duration, errs[2] = meter.Float64ObservableGauge("heartbeat.check.duration", metric.WithUnit("s"),
		metric.WithDescription("How long the check's latest run took; a run cut off at its deadline counts until then."))
	in.lastRun, errs[3] = meter.Float64ObservableGauge("heartbeat.check.last_run.timestamp", metric.WithUnit("s"),
		metric.WithDescription("When the check's latest run ended, or was given up on at its deadline, in seconds since the Unix epoch."))
	in.lastSuccess, errs[4] = meter.Float64ObservableGauge("heartbeat.check.last_success.timestamp", metric.WithUnit("s"),
		metric.WithDescription("When a run of the check last passed, in seconds since the Unix epoch; absent until one passes."))
	in.runs, errs[5] = meter.Int64ObservableCounter("heartbeat.check.runs", metric.WithUnit("{run}"),
		metric.WithDescription("Runs of the check by outcome (pass, warn, fail, timeout, panic) since the monitor started."))
	in.transitions, errs[6] = meter.Int64ObservableCounter("heartbeat.check.transitions", metric.WithUnit("{transition}"),
		metric.WithDescription("Changes of the check's status (flaps) since the monitor started, after the monitor's thresholds."))
	if err := errors.Join(errs[:]...); err != nil {
		return nil, fmt.Errorf("heartbeat metrics: create instruments: %w", err)
	}
	reg, err := meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		in.observe(o, m.Probes())
		return nil
	}, in.probeStatus, in.status, in.duration, in.lastRun, in.lastSuccess, in.runs, in.transitions)
	if err != nil {
		return nil, fmt.Errorf("heartbeat metrics: register callback: %w", err)
	}
	return reg, nil
}

// instruments are the observable instruments Register creates.
type instruments struct {
	probeStatus, status            metric.Int64ObservableGauge
	duration, lastRun, lastSuccess metric.Float64ObservableGauge
	runs, transitions              metric.Int64ObservableCounter
}

func (in *instruments) observe(o metric.Observer, probes []monitor.Probe) {
	for _, p := range probes {
		o.ObserveInt64(in.probeStatus, boolValue(p.Status), metric.WithAttributes(attribute.String("probe", p.Name)))
		for _, k := range p.Checks {
			if k.Outcome == "" {
				continue // subscribed, never run: nothing to report yet
			}
			attrs := metric.WithAttributes(attribute.String("probe", p.Name), attribute.String("check", k.Name))
			o.ObserveInt64(in.status, boolValue(k.Status), attrs)
			o.ObserveFloat64(in.duration, k.Duration.Seconds(), attrs)
			o.ObserveFloat64(in.lastRun, unixSeconds(k.LastRun), attrs)
			if !k.LastSuccess.IsZero() {
				o.ObserveFloat64(in.lastSuccess, unixSeconds(k.LastSuccess), attrs)
			}
			for _, out := range outcomes {
				o.ObserveInt64(in.runs, int64(k.Runs[out]), metric.WithAttributes(
					attribute.String("probe", p.Name), attribute.String("check", k.Name), attribute.String("outcome", string(out))))
			}
			o.ObserveInt64(in.transitions, int64(k.Transitions), attrs)
		}
	}
}

func boolValue(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// unixSeconds keeps sub-second precision: runs a few milliseconds apart
// are told apart.
func unixSeconds(t time.Time) float64 {
	return float64(t.UnixNano()) / 1e9
}
