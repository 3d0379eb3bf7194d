package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/oarepo/heartbeat/signal"
)

// baseline writes the same body as a readiness probe with no receivers,
// with the same headers, and does nothing else: the floor a probe handler
// is measured against.
func baseline(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte(`{"status":true,"checks":{}}`))
}

// discard is a ResponseWriter that keeps nothing, so the benchmarks measure
// the handler, not httptest's recorder.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

func benchHandler(b *testing.B, h http.Handler) {
	req := httptest.NewRequest(http.MethodGet, "/.well-known/heartbeat/readiness", nil)
	w := &discard{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, req)
	}
}

func BenchmarkBaseline(b *testing.B) {
	benchHandler(b, http.HandlerFunc(baseline))
}

// BenchmarkReadiness measures the readiness handler with 0 and 10 instant
// receivers, with replies reused (the default) and with reuse off.
func BenchmarkReadiness(b *testing.B) {
	for _, ttl := range []time.Duration{signal.DefaultCacheTTL, 0} {
		for _, n := range []int{0, 10, 100} {
			b.Run(fmt.Sprintf("ttl=%v/receivers=%d", ttl, n), func(b *testing.B) {
				bus := signal.NewBus(signal.WithCacheTTL(ttl))
				for i := range n {
					name := fmt.Sprint("check", i)
					bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
						return signal.Reply{Name: name, Status: true, Data: map[string]any{"time": 0.0001}}
					})
				}
				benchHandler(b, Router(bus))
			})
		}
	}
}

// BenchmarkReadinessSlow measures 20 receivers of 5 ms each with reuse off:
// a probe should take about 5 ms, not 100 ms.
func BenchmarkReadinessSlow(b *testing.B) {
	bus := signal.NewBus(signal.WithCacheTTL(0))
	for i := range 20 {
		bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
			time.Sleep(5 * time.Millisecond)
			return signal.Reply{Name: fmt.Sprint("slow", i), Status: true}
		})
	}
	benchHandler(b, Router(bus))
}
