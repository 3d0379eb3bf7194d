package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/go-chi/chi/v5"

	"github.com/oarepo/heartbeat/httpapi"
	"github.com/oarepo/heartbeat/monitor"
	"github.com/oarepo/heartbeat/signal"
)

func get(h http.Handler, path string) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	fmt.Println(rec.Code, rec.Body.String())
}

// With chi, mount the probes at their prefix: the application's own 404 and
// 405 answers stay its own.
func ExampleRouter() {
	bus := signal.NewBus()
	bus.Subscribe(signal.Readiness, func(ctx context.Context) signal.Reply {
		return signal.Reply{Name: "database", Status: true}
	}, signal.Named("database"))

	r := chi.NewRouter()
	r.Mount(httpapi.DefaultPrefix, httpapi.Router(bus))

	get(r, "/.well-known/heartbeat/readiness")
	get(r, "/.well-known/heartbeat/readiness/database?_=1733000000")
	// Output:
	// 200 {"status":true,"checks":{"database":{"status":true}}}
	// 200 {"status":true,"checks":{"database":{"status":true}}}
}

// With net/http, hand the router everything below the prefix; it strips the
// prefix itself.
func ExampleRouter_netHTTP() {
	mux := http.NewServeMux()
	mux.Handle(httpapi.DefaultPrefix+"/", httpapi.Router(signal.NewBus()))
	get(mux, "/.well-known/heartbeat/liveliness")
	// Output: 200 {"status":true,"checks":{}}
}

// Handler serves one probe where a cluster expects it, such as /readyz,
// with its per-check paths.
func ExampleHandler() {
	bus := signal.NewBus()
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
		return signal.Reply{Name: "cache", Status: false, Data: map[string]any{"error": "connection refused"}}
	}, signal.Named("cache"))

	mux := http.NewServeMux()
	readyz := httpapi.Handler(bus, signal.Readiness)
	mux.Handle("GET /readyz", readyz)
	mux.Handle("GET /readyz/{check}", readyz)
	get(mux, "/readyz")
	get(mux, "/readyz/cache")
	// Output:
	// 500 {"status":false,"checks":{"cache":{"status":false,"error":"connection refused"}}}
	// 500 {"status":false,"checks":{"cache":{"status":false,"error":"connection refused"}}}
}

func ExampleWithPrefix() {
	h := httpapi.Router(signal.NewBus(), httpapi.WithPrefix("/healthz"))
	get(h, "/healthz/readiness")
	// Output: 200 {"status":true,"checks":{}}
}

func ExampleRouter_perCheck() {
	bus := signal.NewBus()
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply { return signal.Reply{Name: "database", Status: true} }, signal.Named("database"))
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply { return signal.Reply{Name: "search", Status: false} }, signal.Named("search"))
	h := httpapi.Router(bus)

	for _, path := range []string{"/readiness/database", "/readiness?exclude=search,cache", "/readiness/cache"} {
		get(h, "/.well-known/heartbeat"+path)
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
	get(httpapi.Router(bus), "/.well-known/heartbeat/startup")
	// Output: 200 {"status":true,"checks":{"migrations":{"status":true}}}
}

// Callers without the token see statuses only.
func ExampleWithDetails() {
	bus := signal.NewBus()
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
		return signal.Reply{Name: "db", Status: false, Data: map[string]any{"error": "db.internal:5432: connection refused"}}
	}, signal.Named("db"))
	h := httpapi.Router(bus, httpapi.WithDetails(func(r *http.Request) bool {
		return r.Header.Get("Authorization") == "Bearer s3cret"
	}))
	get(h, "/.well-known/heartbeat/readiness")
	// Output: 500 {"status":false,"checks":{"db":{"status":false}}}
}

// Given the bus's Monitor, Router serves the status page at its prefix.
func ExampleWithMonitor() {
	bus := signal.NewBus()
	mon := monitor.New(bus)
	defer mon.Close()

	r := chi.NewRouter()
	r.Mount(httpapi.DefaultPrefix, httpapi.Router(bus, httpapi.WithMonitor(mon)))

	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/.well-known/heartbeat/", nil))
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"))
	// Output: 200 text/html; charset=utf-8
}

// A caller that asks for application/health+json gets the IETF draft's
// format; every other caller, the kubelet included, the wire format.
func ExampleRouter_healthJSON() {
	bus := signal.NewBus()
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
		return signal.Reply{Status: true, Data: map[string]any{"warning": "cluster yellow"}}
	}, signal.Named("search"))
	h := httpapi.Router(bus, httpapi.WithDetails(func(*http.Request) bool { return false }))

	req := httptest.NewRequest(http.MethodGet, "/.well-known/heartbeat/readiness", nil)
	req.Header.Set("Accept", "application/health+json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"), rec.Body.String())
	get(h, "/.well-known/heartbeat/readiness")
	// Output:
	// 200 application/health+json {"status":"warn","checks":{"search":[{"componentId":"search","status":"warn"}]}}
	// 200 {"status":true,"checks":{"search":{"status":true}}}
}
