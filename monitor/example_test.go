package monitor_test

import (
	"context"
	"fmt"

	"github.com/oarepo/heartbeat/monitor"
	"github.com/oarepo/heartbeat/signal"
)

func Example() {
	bus := signal.NewBus(signal.WithCacheTTL(0))
	up := true
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
		if up {
			return signal.Reply{Status: true}
		}
		return signal.Reply{Status: false, Data: map[string]any{"error": "connection refused"}}
	}, signal.Named("db"))

	m := monitor.New(bus, monitor.OnTransition(func(t monitor.Transition) {
		if !t.Initial && t.Check != "" {
			fmt.Printf("%s/%s: %v -> %v %q\n", t.Probe, t.Check, t.From, t.To, t.Error)
		}
	}))
	defer m.Close()
	for _, status := range []bool{true, true, false, false, true} {
		up = status
		bus.Publish(context.Background(), signal.Readiness)
	}
	p, _ := m.Probe("readiness")
	fmt.Println(p.Checks[0].History)
	// Output:
	// readiness/db: true -> false "connection refused"
	// readiness/db: false -> true ""
	// [pass pass fail fail pass]
}
