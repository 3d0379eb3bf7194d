package statuspage_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/oarepo/heartbeat/monitor"
	"github.com/oarepo/heartbeat/signal"
	"github.com/oarepo/heartbeat/statuspage"
)

// The page at /status/ of a net/http server; httpapi.Router serves it under
// its prefix when given httpapi.WithMonitor.
func ExampleHandler() {
	bus := signal.NewBus()
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
		return signal.Reply{Status: true, Data: map[string]any{"warning": "cluster yellow"}}
	}, signal.Named("search"))
	mon := monitor.New(bus)
	defer mon.Close()
	bus.Publish(context.Background(), signal.Readiness) // as a probe would

	mux := http.NewServeMux()
	mux.Handle("/status/", statuspage.Handler(mon))
	for _, path := range []string{"/status/", "/status/status.json"} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		fmt.Println(path, rec.Code, rec.Header().Get("Content-Type"))
	}
	// Output:
	// /status/ 200 text/html; charset=utf-8
	// /status/status.json 200 application/json
}
