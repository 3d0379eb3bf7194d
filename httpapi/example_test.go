package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/go-chi/chi/v5"

	"github.com/oarepo/heartbeat/httpapi"
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
