package prometheus

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/oarepo/heartbeat/monitor"
)

// outcomes are the values of the outcome label, each exported for every
// check from the start.
var outcomes = []monitor.Outcome{monitor.Pass, monitor.Warn, monitor.Fail, monitor.Timeout, monitor.Panic}

// Collector is a prometheus.Collector over the results a monitor has
// stored. Register it once (prometheus.MustRegister(NewCollector(m))); it
// is safe for concurrent scrapes.
type Collector struct {
	mon *monitor.Monitor

	probeStatus *prometheus.Desc
	status      *prometheus.Desc
	duration    *prometheus.Desc
	lastRun     *prometheus.Desc
	lastSuccess *prometheus.Desc
	runs        *prometheus.Desc
	transitions *prometheus.Desc
}

// NewCollector returns a Collector that reports what m has stored.
func NewCollector(m *monitor.Monitor) *Collector {
	check := []string{"probe", "check"}
	return &Collector{
		mon: m,
		probeStatus: prometheus.NewDesc("heartbeat_probe_status",
			"Whether every check of the probe passes (1) or not (0), after the monitor's thresholds.",
			[]string{"probe"}, nil),
		status: prometheus.NewDesc("heartbeat_check_status",
			"Whether the check passes (1) or not (0), after the monitor's thresholds.",
			check, nil),
		duration: prometheus.NewDesc("heartbeat_check_duration_seconds",
			"How long the check's latest run took; a run cut off at its deadline counts until then.",
			check, nil),
		lastRun: prometheus.NewDesc("heartbeat_check_last_run_timestamp_seconds",
			"When the check's latest run ended, or was given up on at its deadline, in seconds since the Unix epoch.",
			check, nil),
		lastSuccess: prometheus.NewDesc("heartbeat_check_last_success_timestamp_seconds",
			"When a run of the check last passed, in seconds since the Unix epoch; absent until one passes.",
			check, nil),
		runs: prometheus.NewDesc("heartbeat_check_runs_total",
			"Runs of the check by outcome (pass, warn, fail, timeout, panic) since the monitor started.",
			[]string{"probe", "check", "outcome"}, nil),
		transitions: prometheus.NewDesc("heartbeat_check_transitions_total",
			"Changes of the check's status (flaps) since the monitor started, after the monitor's thresholds.",
			check, nil),
	}
}

// Describe sends the descriptors of every metric the Collector exports.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.probeStatus, c.status, c.duration, c.lastRun, c.lastSuccess, c.runs, c.transitions} {
		ch <- d
	}
}

// Collect sends the stored state as constant metrics. It reads the monitor
// only: no receiver runs.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	for _, p := range c.mon.Probes() {
		ch <- prometheus.MustNewConstMetric(c.probeStatus, prometheus.GaugeValue, boolValue(p.Status), p.Name)
		for _, k := range p.Checks {
			if k.Outcome == "" {
				continue // subscribed, never run: nothing to report yet
			}
			ch <- prometheus.MustNewConstMetric(c.status, prometheus.GaugeValue, boolValue(k.Status), p.Name, k.Name)
			ch <- prometheus.MustNewConstMetric(c.duration, prometheus.GaugeValue, k.Duration.Seconds(), p.Name, k.Name)
			ch <- prometheus.MustNewConstMetric(c.lastRun, prometheus.GaugeValue, unixSeconds(k.LastRun), p.Name, k.Name)
			if !k.LastSuccess.IsZero() {
				ch <- prometheus.MustNewConstMetric(c.lastSuccess, prometheus.GaugeValue, unixSeconds(k.LastSuccess), p.Name, k.Name)
			}
			for _, o := range outcomes {
				ch <- prometheus.MustNewConstMetric(c.runs, prometheus.CounterValue, float64(k.Runs[o]), p.Name, k.Name, string(o))
			}
			ch <- prometheus.MustNewConstMetric(c.transitions, prometheus.CounterValue, float64(k.Transitions), p.Name, k.Name)
		}
	}
}

func boolValue(b bool) float64 {
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
