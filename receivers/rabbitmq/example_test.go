package rabbitmq_test

import (
	"context"
	"fmt"
	"log"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/oarepo/heartbeat/receivers/rabbitmq"
	"github.com/oarepo/heartbeat/signal"
)

func ExampleNew() {
	// Give up on a broker that accepts TCP and never answers after 5 s
	// instead of amqp.Dial's 30 s; see the package documentation.
	conn, err := amqp.DialConfig("amqp://guest:guest@127.0.0.1:5672/", amqp.Config{
		Dial: amqp.DefaultDial(5 * time.Second),
	})
	if err != nil {
		log.Fatal(err) // the error carries no password
	}
	defer conn.Close()

	bus := signal.NewBus()
	defer bus.Subscribe(signal.Readiness, rabbitmq.New(conn, rabbitmq.WithName("broker")))()

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	for _, reply := range bus.Publish(ctx, signal.Readiness) {
		fmt.Println(reply.Name, reply.Status, reply.Data["server"], reply.Data["error"])
	}
}

func ExampleWithQueue() {
	conn, err := amqp.DialConfig("amqp://guest:guest@127.0.0.1:5672/", amqp.Config{
		Dial: amqp.DefaultDial(5 * time.Second),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()

	// The Celery workers' queue: its ready messages and consumers, read by
	// a passive declare that creates nothing.
	check := rabbitmq.New(conn, rabbitmq.WithQueue("celery"))

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	reply := check(ctx)
	fmt.Println(reply.Status, reply.Data["messages"], reply.Data["consumers"], reply.Data["error"])
}

// An application that redials hands the receiver a function that returns
// its connection of the moment; while it has none, the check reports why
// the last dial failed.
func ExampleNewFunc() {
	var (
		mu      sync.Mutex
		conn    *amqp.Connection
		dialErr error
	)
	redial := func() { // run again on NotifyClose, in the application's own loop
		c, err := amqp.DialConfig("amqp://guest:guest@127.0.0.1:1/", amqp.Config{
			Dial: amqp.DefaultDial(5 * time.Second),
		})
		mu.Lock()
		defer mu.Unlock()
		conn, dialErr = c, err
	}
	redial()

	check := rabbitmq.NewFunc(func() (*amqp.Connection, error) {
		mu.Lock()
		defer mu.Unlock()
		return conn, dialErr
	})

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	reply := check(ctx)
	fmt.Println(reply.Name, reply.Status)
	fmt.Println(reply.Data["error"])
	// Output:
	// rabbitmq false
	// dial tcp 127.0.0.1:1: connect: connection refused
}
