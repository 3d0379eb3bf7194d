module github.com/oarepo/heartbeat

go 1.25.0
