// Package rabbitmq is a heartbeat receiver that checks a RabbitMQ broker through the application's own amqp091-go connection.
package rabbitmq
