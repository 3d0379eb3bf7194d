// Package otel exports heartbeat's check results as OpenTelemetry metrics.
package otel
