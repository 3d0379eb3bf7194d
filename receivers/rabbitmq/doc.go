// Package rabbitmq is a heartbeat receiver that checks a RabbitMQ broker
// through the amqp091-go connection the application already holds. It never
// dials a connection of its own and never declares, publishes to or consumes
// from the application's queues.
//
//	import heartbeatrabbitmq "github.com/oarepo/heartbeat/receivers/rabbitmq"
//
//	conn, err := amqp.DialConfig(url, amqp.Config{Dial: amqp.DefaultDial(5 * time.Second)})
//	…
//	bus.Subscribe(signal.Readiness, heartbeatrabbitmq.New(conn,
//		heartbeatrabbitmq.WithQueue("celery")))
//
// An application that redials when its connection closes passes a
// function that returns the connection in use instead (NewFunc).
//
// # What a check proves
//
// Each check first looks, without any I/O, at what the connection already
// knows: a closed connection fails with the reason it closed ("connection is
// closed: Exception (501) Reason: "EOF""), and a connection the broker has
// blocked (a memory or disk alarm: publishing stops until it clears) fails
// with the broker's reason ("connection blocked by the broker: low on
// memory"). The blocked state comes from NotifyBlocked, registered once when
// the receiver is made and followed by one goroutine that ends when the
// connection closes.
//
// Otherwise the check makes a round trip on the existing connection: it
// opens a channel and closes it again, which proves the broker answers now,
// not only that the TCP connection is up. With WithQueue it also declares the
// named queue passively on that throw-away channel: a passive declare creates
// nothing, and the broker answers with the queue's ready message count and
// consumer count, or with 404 NOT_FOUND, which fails the check as "queue …
// not found".
//
// amqp091-go's calls take no context, so the round trip runs on a goroutine
// and the check answers by the probe's deadline whatever the broker does
// ("timed out after 750ms: the server at 127.0.0.1:5672 accepts TCP
// connections but the call got no answer in time", with the bus's default
// timeout, 800ms less its 50ms margin). At most one round trip
// per receiver is in flight: a probe that arrives while an earlier one still
// waits joins it instead of opening another channel.
//
// # Data
//
// On success the reply's data holds "time" (the round trip in seconds,
// float64) and "server" (product and version from the broker's connection
// properties, such as "RabbitMQ 3.10.8"); with WithQueue also "queue" (its
// name), "messages" (ready messages, not counting unacknowledged ones) and
// "consumers". On failure it holds "error", scrubbed by package redact with
// the strings given to WithSecrets as extra secrets.
//
// # Client settings
//
//   - amqp.Dial waits up to 30 s for a broker that accepts TCP and never
//     answers. Dial with amqp.DialConfig and Config.Dial:
//     amqp.DefaultDial(5 * time.Second), so a start-up against a hung
//     broker fails in seconds; the dial error then names the cause
//     ("connection refused", "i/o timeout", "username or password not
//     allowed") without the password.
//   - Keep heartbeats on (the default, 10 s): a broker that vanishes without
//     closing the TCP connection is only noticed by the client after three
//     missed heartbeats. Until then the connection looks open and the
//     round trip is what catches it, by the probe's deadline.
//   - A connection that closes stays closed, and a receiver made by New
//     reports it closed from then on, which is what readiness should say
//     of an application that never redials. An application that redials
//     on NotifyClose and replaces its connection uses NewFunc instead,
//     with a function that returns the connection in use or the last dial
//     error: the check then follows each new connection and, while there
//     is none, reports why the dial failed.
//
// Check a shared broker on readiness, not on liveliness: a liveness failure
// restarts the container, so a broker outage checked there restarts every
// pod of the service at once and fixes nothing.
package rabbitmq
