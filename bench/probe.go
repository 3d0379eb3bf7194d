package bench

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// Probe runs b.N probes of tg, after one that fills any cache.
func Probe(b *testing.B, tg Target) {
	req := httptest.NewRequest(http.MethodGet, tg.Path, nil)
	warm := httptest.NewRecorder()
	tg.Handler.ServeHTTP(warm, req)
	if warm.Code != http.StatusOK {
		b.Fatalf("warm-up probe: status %d, body %s", warm.Code, warm.Body)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		rec := httptest.NewRecorder()
		tg.Handler.ServeHTTP(rec, req)
	}
}
