module github.com/oarepo/heartbeat/metrics/otel

go 1.25.0

replace github.com/oarepo/heartbeat => ../..
