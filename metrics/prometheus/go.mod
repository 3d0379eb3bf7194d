module github.com/oarepo/heartbeat/metrics/prometheus

go 1.25.0

replace github.com/oarepo/heartbeat => ../..
