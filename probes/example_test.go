package probes_test

import (
	"context"
	"fmt"
	"time"

	"github.com/oarepo/heartbeat/probes"
	"github.com/oarepo/heartbeat/signal"
)

func ExampleCheck() {
	bus := signal.NewBus()
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
		return signal.Reply{Name: "Database", Status: false, Data: map[string]any{"message": "Error accessing database"}}
	})

	rep := probes.Check(context.Background(), bus, signal.Readiness)
	fmt.Println(string(rep.AppendJSON(nil)))
	// Output: {"status":false,"checks":{"Database":{"status":false,"message":"Error accessing database"}}}
}

func ExampleEnviron() {
	bus := signal.NewBus()
	bus.Subscribe(signal.Environ, func(context.Context) signal.Reply {
		return signal.Reply{Status: true, Data: map[string]any{"region": "eu-west"}}
	})

	rep := probes.Environ(context.Background(), bus)
	fmt.Println(rep.Status, probes.BuildInfo().Go.Version != "")
	// Output: true true
}

func ExampleTracker() {
	tr := probes.NewTracker(nil, func(t probes.Transition) {
		if !t.Initial && t.Check != "" {
			fmt.Printf("%s/%s: %v -> %v %s\n", t.Probe, t.Check, t.From, t.To, t.Error)
		}
	})
	status := true
	bus := signal.NewBus(signal.WithCacheTTL(0))
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
		if status {
			return signal.Reply{Name: "db", Status: true}
		}
		return signal.Reply{Name: "db", Status: false, Data: map[string]any{"error": "connection refused"}}
	})
	for _, s := range []bool{true, true, false, false, true} {
		status = s
		tr.Observe("readiness", time.Now(), probes.Check(context.Background(), bus, signal.Readiness), true)
	}
	// Output:
	// readiness/db: true -> false connection refused
	// readiness/db: false -> true
}
