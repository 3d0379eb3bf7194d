module github.com/oarepo/heartbeat/receivers/sql

go 1.25.0

replace github.com/oarepo/heartbeat => ../..
