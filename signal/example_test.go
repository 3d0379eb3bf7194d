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
	bus.Subscribe(signal.Readiness, func(ctx context.Context) signal.Reply {
		select {} // a receiver that never returns
	}, signal.Named("search"))

	r := bus.Publish(context.Background(), signal.Readiness)[0]
	fmt.Println(r.Name, r.Status, r.Data["error"])
	// Output: search false timed out after 50ms
}

func ExampleSelect() {
	bus := signal.NewBus()
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
		return signal.Reply{Name: "postgres", Status: true}
	})
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
		return signal.Reply{Name: "redis", Status: false}
	})

	only := signal.Select(func(name string) bool { return name == "redis" })
	for _, r := range bus.Publish(context.Background(), signal.Readiness, only) {
		fmt.Println(r.Name, r.Status)
	}
	// Output: redis false
}
