package signal_test

import (
	"context"
	"fmt"
	"time"

	"github.com/oarepo/heartbeat/signal"
)

func ExampleBus_Subscribe() {
	bus := signal.NewBus()
	unsubscribe := bus.Subscribe(signal.Readiness, func(ctx context.Context) signal.Reply {
		return signal.Reply{Name: "database", Status: true, Data: map[string]any{"time": 0.002}}
	})
	defer unsubscribe()

	for _, r := range bus.Publish(context.Background(), signal.Readiness) {
		fmt.Println(r.Name, r.Status, r.Data["time"])
	}
	// Output: database true 0.002
}

func ExampleBus_Publish_timeout() {
	bus := signal.NewBus(signal.WithTimeout(50 * time.Millisecond))
	stuck := make(chan struct{})
	defer close(stuck)
	bus.Subscribe(signal.Readiness, func(ctx context.Context) signal.Reply {
		<-stuck // a receiver that ignores its context and hangs
		return signal.Reply{Status: true}
	}, signal.Named("search"))

	r := bus.Publish(context.Background(), signal.Readiness)[0]
	fmt.Println(r.Name, r.Status, r.Data["error"])
	// Output: search false timed out after 50ms
}

func ExampleSelect() {
	bus := signal.NewBus()
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
		return signal.Reply{Name: "postgres", Status: true}
	}, signal.Named("postgres"))
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
		return signal.Reply{Name: "redis", Status: false}
	}, signal.Named("redis"))

	only := signal.Select(func(name string) bool { return name == "redis" })
	for _, r := range bus.Publish(context.Background(), signal.Readiness, only) {
		fmt.Println(r.Name, r.Status)
	}
	// Output: redis false
}

func ExampleWithMiddleware() {
	// A middleware that prints every reply, for every receiver on the bus.
	logged := func(next signal.Receiver) signal.Receiver {
		return func(ctx context.Context) signal.Reply {
			r := next(ctx)
			fmt.Println("checked", r.Name, r.Status)
			return r
		}
	}
	bus := signal.NewBus(signal.WithMiddleware(logged))
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
		return signal.Reply{Name: "cache", Status: true}
	})
	bus.Publish(context.Background(), signal.Readiness)
	// Output: checked cache true
}

func ExampleBus_Observe() {
	bus := signal.NewBus()
	stop := bus.Observe(func(sig string, r signal.Result) {
		fmt.Println(sig, r.Reply.Name, r.Reply.Status, r.Reused)
	})
	defer stop()
	bus.Subscribe(signal.Liveliness, func(context.Context) signal.Reply {
		return signal.Reply{Name: "loop", Status: true}
	})
	bus.Publish(context.Background(), signal.Liveliness)
	bus.Publish(context.Background(), signal.Liveliness) // reused: not a run
	// Output: oarepo.probe.liveliness loop true false
}
