package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/go-chi/chi/v5"

	"github.com/oarepo/heartbeat/drain"
	"github.com/oarepo/heartbeat/httpapi"
	"github.com/oarepo/heartbeat/probes"
	"github.com/oarepo/heartbeat/signal"
)

func ExampleRouter() {
	bus := signal.NewBus()
	bus.Subscribe(signal.Readiness, func(ctx context.Context) signal.Reply {
		return signal.Reply{Name: "database", Status: true}
	})

	r := chi.NewRouter()
	r.Mount("/", httpapi.Router(bus))

	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/.well-known/heartbeat/readiness", nil))
	fmt.Println(rec.Code, rec.Body.String())
	// Output: 200 {"status":true,"checks":{"database":{"status":true}}}
}

func ExampleRouter_netHTTP() {
	bus := signal.NewBus()
	mux := http.NewServeMux()
	mux.Handle("/.well-known/heartbeat/", httpapi.Router(bus))

	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/.well-known/heartbeat/liveliness", nil))
	fmt.Println(rec.Code, rec.Body.String())
	// Output: 200 {"status":true,"checks":{}}
}

func ExampleWithPrefix() {
	h := httpapi.Router(signal.NewBus(), httpapi.WithPrefix("/healthz"))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz/readiness", nil))
	fmt.Println(rec.Code)
	// Output: 200
}

func ExampleOnTransition() {
	bus := signal.NewBus()
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
		return signal.Reply{Name: "database", Status: false, Data: map[string]any{"error": "connection refused"}}
	})
	h := httpapi.Router(bus, httpapi.OnTransition(func(t probes.Transition) {
		if t.Check != "" {
			fmt.Printf("%s/%s initial=%v status=%v: %s\n", t.Probe, t.Check, t.Initial, t.To, t.Error)
		}
	}))
	for range 3 { // three probes, one transition
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/.well-known/heartbeat/readiness", nil))
	}
	// Output: readiness/database initial=true status=false: connection refused
}

func ExampleRouter_perCheck() {
	bus := signal.NewBus()
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply { return signal.Reply{Name: "database", Status: true} }, signal.Named("database"))
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply { return signal.Reply{Name: "search", Status: false} }, signal.Named("search"))
	h := httpapi.Router(bus)

	for _, path := range []string{"/readiness/database", "/readiness?exclude=search&exclude=cache", "/readiness/cache"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/.well-known/heartbeat"+path, nil))
		fmt.Print(rec.Code, " ", rec.Body.String(), "\n")
	}
	// Output:
	// 200 {"status":true,"checks":{"database":{"status":true}}}
	// 200 {"status":true,"checks":{"database":{"status":true}},"excluded":["search"],"unmatched_exclude":["cache"]}
	// 404 {"status":false,"error":"the readiness probe has no check \"cache\"; its checks: database, search"}
}

func ExampleRouter_startup() {
	bus := signal.NewBus()
	bus.Subscribe(signal.Startup, func(context.Context) signal.Reply {
		return signal.Reply{Name: "migrations", Status: true}
	}, signal.Named("migrations"))
	h := httpapi.Router(bus)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/.well-known/heartbeat/startup", nil))
	fmt.Println(rec.Code, rec.Body.String())
	// Output: 200 {"status":true,"checks":{"migrations":{"status":true}}}
}

func ExampleWithDrain() {
	d := &drain.Drain{}
	h := httpapi.Router(signal.NewBus(), httpapi.WithDrain(d))
	d.Start("received terminated") // what Drain.Serve does on SIGTERM

	for _, probe := range []string{"readiness", "liveness"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/.well-known/heartbeat/"+probe, nil))
		fmt.Println(probe, rec.Code)
	}
	// Output:
	// readiness 500
	// liveness 200
}
