package healthcheck_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/oarepo/heartbeat/healthcheck"
	"github.com/oarepo/heartbeat/httpapi"
	"github.com/oarepo/heartbeat/signal"
)

func ExampleMain() {
	bus := signal.NewBus()
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
		return signal.Reply{Name: "database", Status: false, Data: map[string]any{"error": "connection refused"}}
	})
	srv := httptest.NewServer(httpapi.Router(bus))
	defer srv.Close()

	code := healthcheck.Main([]string{"-timeout", "2s", srv.URL + "/.well-known/heartbeat/readiness"}, os.Stdout, os.Stderr)
	fmt.Println("exit code", code)
	// Output:
	// database: connection refused
	// exit code 1
}

func ExampleRun() {
	srv := httptest.NewServer(httpapi.Router(signal.NewBus()))
	defer srv.Close()

	res, err := healthcheck.Run(context.Background(), srv.URL+"/.well-known/heartbeat/liveness",
		healthcheck.Options{Header: http.Header{"X-Probe": {"docs"}}})
	fmt.Println(res.Passed(), res.StatusCode, err)
	// Output: true 200 <nil>
}
