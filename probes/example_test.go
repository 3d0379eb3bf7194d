package probes_test

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/oarepo/heartbeat/probes"
	"github.com/oarepo/heartbeat/signal"
)

func ExampleCheck() {
	bus := signal.NewBus()
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
		return signal.Reply{Name: "Database", Status: false, Data: map[string]any{"message": "Error accessing database"}}
	})

	rep := probes.Check(context.Background(), bus, signal.Readiness)
	body, _ := json.Marshal(rep)
	fmt.Println(string(body))
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
