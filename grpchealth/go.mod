module github.com/oarepo/heartbeat/grpchealth

go 1.25.0

replace github.com/oarepo/heartbeat => ..
