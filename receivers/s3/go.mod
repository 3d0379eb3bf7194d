module github.com/oarepo/heartbeat/receivers/s3

go 1.25.0

replace github.com/oarepo/heartbeat => ../..
