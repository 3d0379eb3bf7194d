// Package otel exports heartbeat's check results as OpenTelemetry metrics.
//
// Register creates observable instruments on a metric.Meter and one
// callback that, at each collection, reads the results a monitor.Monitor
// has stored from the runs that probes caused. It never runs a receiver:
// collecting costs a copy of the stored state, however slow or hung the
// checks are, and the values are as fresh as the last probe
// (heartbeat.check.last_run.timestamp says how fresh).
//
// # Names
//
// OpenTelemetry has no semantic convention for health checks (the proposal,
// open-telemetry/semantic-conventions#1106, is still open), so these names
// are heartbeat's own. They follow the general naming rules of the
// specification: a "heartbeat." namespace, dotted lower-case names, UCUM
// units ("s") or annotations ("{run}") instead of units in names, and no
// "_total" suffix. Within those rules they are chosen so that the usual
// translation to Prometheus (dots to underscores, a "_seconds" suffix for
// unit "s", "_total" for a monotonic counter, annotations dropped), as done
// by the OpenTelemetry Prometheus exporter, gives exactly the names of
// package metrics/prometheus, so one set of alert rules and one dashboard
// (deploy/prometheus) serve both:
//
//	heartbeat.probe.status                  gauge, no unit   1 when every check of the probe passes, else 0
//	heartbeat.check.status                  gauge, no unit   1 when the check passes, else 0
//	heartbeat.check.duration                gauge, s         how long the latest run took
//	heartbeat.check.last_run.timestamp      gauge, s         when the latest run ended (Unix time)
//	heartbeat.check.last_success.timestamp  gauge, s         when a run last passed; absent until one passes
//	heartbeat.check.runs                    counter, {run}   runs by outcome
//	heartbeat.check.transitions             counter, {transition} status changes (flaps)
//
// The attributes are probe ("readiness", "liveliness", "startup"), check
// (the receiver's name) and, on heartbeat.check.runs, outcome ("pass",
// "warn", "fail", "timeout", "panic"). They are not namespaced: the
// instruments already are, and the same keys as the Prometheus labels keep
// queries identical. Their values come only from those names, so the number
// of series is bounded by the checks a program subscribes. The duration is a
// gauge of the latest run, not a histogram: the monitor keeps the latest
// run, and a histogram filled at collection time would count each run once
// per collection.
//
// A check's data points appear with its first run. Statuses and
// transitions are the monitor's, after its thresholds
// (monitor.WithThresholds); a probe's status is 0 until each of its checks
// has run.
package otel
