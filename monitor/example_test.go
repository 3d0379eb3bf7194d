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

// A check that keeps passing but starts or stops warning makes a
// transition whose status does not change, and a log line.
func ExampleTransition_warning() {
	bus := signal.NewBus(signal.WithCacheTTL(0))
	warning := ""
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
		return signal.Reply{Status: true, Data: map[string]any{"warning": warning}}
	}, signal.Named("search"))

	m := monitor.New(bus, monitor.OnTransition(func(t monitor.Transition) {
		if t.Check != "" && !t.Initial && t.From == t.To {
			fmt.Printf("%s/%s: warning %q\n", t.Probe, t.Check, t.Warning)
		}
	}))
	defer m.Close()
	for _, w := range []string{"", "cluster yellow", "cluster yellow", ""} {
		warning = w
		bus.Publish(context.Background(), signal.Readiness)
	}
	p, _ := m.Probe("readiness")
	fmt.Println(p.Checks[0].History, p.Checks[0].Transitions)
	// Output:
	// readiness/search: warning "cluster yellow"
	// readiness/search: warning ""
	// [pass warn warn pass] 0
}
