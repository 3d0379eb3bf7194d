package healthjson_test

import (
	"context"
	"fmt"

	"github.com/oarepo/heartbeat/internal/healthjson"
	"github.com/oarepo/heartbeat/probes"
	"github.com/oarepo/heartbeat/signal"
)

func Example() {
	bus := signal.NewBus()
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
		return signal.Reply{Status: true, Data: map[string]any{"warning": "cluster yellow"}}
	}, signal.Named("search"))

	fmt.Println(healthjson.Wanted("*/*"), healthjson.Wanted("application/health+json"))
	rep := probes.Check(context.Background(), bus, signal.Readiness)
	fmt.Println(string(healthjson.Encode(rep, false)))
	// Output:
	// false true
	// {"status":"warn","checks":{"search":[{"componentId":"search","status":"warn"}]}}
}
