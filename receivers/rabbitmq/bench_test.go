package rabbitmq_test

import (
	"context"
	"testing"
	"time"

	"github.com/oarepo/heartbeat/receivers/rabbitmq"
)

// BenchmarkBareRoundTrip is the client's own channel open and close, the
// round trip the receiver makes: the baseline.
func BenchmarkBareRoundTrip(b *testing.B) {
	conn := dial(b, brokerURL(b))
	b.ReportAllocs()
	for b.Loop() {
		ch, err := conn.Channel()
		if err != nil {
			b.Fatal(err)
		}
		if err := ch.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReceiver is the receiver as the bus calls it, under a deadline.
// Compared with BenchmarkBareRoundTrip it shows the receiver's overhead
// (state check, goroutine, timer, reply map).
func BenchmarkReceiver(b *testing.B) {
	r := rabbitmq.New(dial(b, brokerURL(b)))
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	b.ReportAllocs()
	for b.Loop() {
		if reply := r(ctx); !reply.Status {
			b.Fatal(reply.Data)
		}
	}
}

// BenchmarkBarePassiveDeclare is the channel round trip plus a passive
// declare of an existing queue, without the receiver.
func BenchmarkBarePassiveDeclare(b *testing.B) {
	conn := dial(b, brokerURL(b))
	name := ownQueue(b, conn)
	b.ReportAllocs()
	for b.Loop() {
		ch, err := conn.Channel()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := ch.QueueDeclarePassive(name, false, false, false, false, nil); err != nil {
			b.Fatal(err)
		}
		if err := ch.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReceiverWithQueue is the receiver with WithQueue, to compare
// with BenchmarkBarePassiveDeclare.
func BenchmarkReceiverWithQueue(b *testing.B) {
	conn := dial(b, brokerURL(b))
	r := rabbitmq.New(conn, rabbitmq.WithQueue(ownQueue(b, conn)))
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	b.ReportAllocs()
	for b.Loop() {
		if reply := r(ctx); !reply.Status {
			b.Fatal(reply.Data)
		}
	}
}
