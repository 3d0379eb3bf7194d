module github.com/oarepo/heartbeat/receivers/rabbitmq

go 1.25.0

replace github.com/oarepo/heartbeat => ../..

require (
	github.com/oarepo/heartbeat v0.0.0-00010101000000-000000000000
	github.com/rabbitmq/amqp091-go v1.16.0
	github.com/stretchr/testify v1.12.1
	go.uber.org/goleak v1.3.0
)

require (
	github.com/asaskevich/EventBus v0.0.0-20200907212545-49d423059eef // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
)
