// Package prometheus exports heartbeat's check results as Prometheus metrics.
package prometheus
