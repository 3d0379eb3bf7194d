module github.com/oarepo/heartbeat/receivers/rabbitmq

go 1.25.0

replace github.com/oarepo/heartbeat => ../..
