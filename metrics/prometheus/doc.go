// Package prometheus exports heartbeat's check results as Prometheus metrics.
//
// A Collector reads the results a monitor.Monitor has stored from the runs
// that probes (the kubelet, a load balancer, gRPC health) caused, and turns
// them into constant metrics at scrape time. It never runs a receiver: a
// scrape costs a copy of the stored state, however slow or hung the checks
// are, and scraping more often never calls a backend more often. The other
// side of that promise is that the metrics are as fresh as the last probe;
// heartbeat_check_last_run_timestamp_seconds says how fresh that is.
//
// The metrics follow Kubernetes' stable health-check metrics (the gauge
// kubernetes_healthcheck{name,type} and the counter
// kubernetes_healthchecks_total{name,type,status}) with heartbeat's labels:
// probe ("readiness", "liveliness", "startup") and check (the receiver's
// name). Label values come only from those names, so the number of series is
// bounded by the checks a program subscribes, never by requests or errors:
//
//	heartbeat_probe_status{probe}                               1 when every check of the probe passes, else 0
//	heartbeat_check_status{probe,check}                         1 when the check passes, else 0
//	heartbeat_check_duration_seconds{probe,check}               how long the latest run took
//	heartbeat_check_last_run_timestamp_seconds{probe,check}     when the latest run ended (Unix time)
//	heartbeat_check_last_success_timestamp_seconds{probe,check} when a run last passed; absent until one passes
//	heartbeat_check_runs_total{probe,check,outcome}             runs by outcome: pass, warn, fail, timeout, panic
//	heartbeat_check_transitions_total{probe,check}              status changes (flaps)
//
// A check's series appear with its first run: a check subscribed but never
// run has nothing to report. The probe's status is the monitor's, which is
// 0 until each of its checks has run. The statuses and transitions are the
// monitor's, after its thresholds (monitor.WithThresholds): what tells
// people, not what the kubelet was answered. Every outcome of the runs
// counter is exported from a check's first run, at zero until it happens,
// so that rate() and increase() see the first one.
package prometheus
