package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oarepo/heartbeat/monitor"
	"github.com/oarepo/heartbeat/signal"
	"github.com/oarepo/heartbeat/statuspage"
)

// getAccept serves one GET with the given Accept header ("" for none).
func getAccept(h http.Handler, path, accept string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestStatusPageAtThePrefixWithAMonitor(t *testing.T) {
	bus := signal.NewBus(signal.WithCacheTTL(0))
	var runs atomic.Int32
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
		runs.Add(1)
		return signal.Reply{Status: false, Data: map[string]any{"error": "refused"}}
	}, signal.Named("<img src=x onerror=alert(1)>"))
	mon := monitor.New(bus)
	defer mon.Close()
	bus.Publish(context.Background(), signal.Readiness)
	require.Equal(t, int32(1), runs.Load())

	mounted := chi.NewRouter()
	mounted.Mount(DefaultPrefix, Router(bus, WithMonitor(mon)))
	for name, h := range map[string]http.Handler{
		"Router":   Router(bus, WithMonitor(mon)),
		"chi":      mounted,
		"ServeMux": http.StripPrefix(DefaultPrefix, Router(bus, WithMonitor(mon))),
	} {
		t.Run(name, func(t *testing.T) {
			for _, path := range []string{DefaultPrefix, DefaultPrefix + "/"} {
				rec := getAccept(h, path, "text/html")
				require.Equal(t, http.StatusOK, rec.Code, path)
				assert.Equal(t, "text/html; charset=utf-8", rec.Header().Get("Content-Type"))
				assert.Equal(t, statuspage.Policy, rec.Header().Get("Content-Security-Policy"))
				assert.NotContains(t, rec.Body.String(), "<img", "the page's HTML holds no check name")
				assert.NotContains(t, rec.Body.String(), "<style", "no inline style")
				assert.NotRegexp(t, `<script>`, rec.Body.String(), "no inline script")
			}
			rec := getAccept(h, DefaultPrefix+"/status.json", "")
			require.Equal(t, http.StatusOK, rec.Code)
			assert.Contains(t, rec.Body.String(), `"name":"\u003cimg src=x onerror=alert(1)\u003e"`)
			assert.Contains(t, rec.Body.String(), `"error":"refused"`)
			for _, asset := range []string{"statuspage.js", "statuspage.css"} {
				rec := getAccept(h, DefaultPrefix+"/"+asset, "")
				assert.Equal(t, http.StatusOK, rec.Code, asset)
				assert.NotEmpty(t, rec.Body.String(), asset)
			}
		})
	}
	assert.Equal(t, int32(1), runs.Load(), "serving the page ran no receiver")
}

func TestStatusPageHonoursDetailsAndCanBeLeftOut(t *testing.T) {
	bus := signal.NewBus()
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
		return signal.Reply{Status: true, Data: map[string]any{"warning": "pool 90% used"}}
	}, signal.Named("pool"))
	mon := monitor.New(bus)
	defer mon.Close()
	bus.Publish(context.Background(), signal.Readiness)

	h := Router(bus, WithMonitor(mon), WithDetails(func(r *http.Request) bool { return r.Header.Get("X-Operator") == "yes" }))
	rec := getAccept(h, DefaultPrefix+"/status.json", "")
	assert.NotContains(t, rec.Body.String(), "pool 90%")
	var st statuspage.State
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &st))
	assert.Equal(t, []statuspage.Check{{Name: "pool", Status: true}}, st.Probes[0].Checks)

	req := httptest.NewRequest(http.MethodGet, DefaultPrefix+"/status.json", nil)
	req.Header.Set("X-Operator", "yes")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	assert.Contains(t, rec.Body.String(), `"warning":"pool 90% used"`)

	for name, h := range map[string]http.Handler{
		"without a monitor": Router(bus),
		"switched off":      Router(bus, WithMonitor(mon), WithoutStatusPage()),
	} {
		for _, path := range []string{DefaultPrefix + "/", DefaultPrefix + "/status.json"} {
			rec := getAccept(h, path, "")
			assert.Equal(t, http.StatusNotFound, rec.Code, "%s: %s", name, path)
			assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
		}
	}
}

func TestTheKubeletsAnswerIsUnchanged(t *testing.T) {
	bus := signal.NewBus()
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
		return signal.Reply{Status: true, Data: map[string]any{"warning": "cluster yellow", "nodes": 3}}
	}, signal.Named("search"))
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
		return signal.Reply{Status: false, Data: map[string]any{"error": "refused"}}
	}, signal.Named("db"))
	mon := monitor.New(bus)
	defer mon.Close()
	const want = `{"status":false,"checks":{"search":{"status":true,"nodes":3,"warning":"cluster yellow"},"db":{"status":false,"error":"refused"}}}`
	for _, h := range []http.Handler{Router(bus), Router(bus, WithMonitor(mon))} {
		for _, accept := range []string{"", "*/*", "application/json", "application/json, */*;q=0.8", "text/html"} {
			rec := getAccept(h, readiness, accept)
			assert.Equal(t, http.StatusInternalServerError, rec.Code, accept)
			assert.Equal(t, want, rec.Body.String(), "Accept: %q", accept)
			assert.Equal(t, http.Header{"Content-Type": {"application/json"}, "Cache-Control": {"no-store"}}, rec.Header(), accept)
		}
	}
}

func TestHealthJSONOnRequest(t *testing.T) {
	bus := signal.NewBus()
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
		return signal.Reply{Status: true, Data: map[string]any{"warning": "cluster yellow", "time": 0.5}}
	}, signal.Named("search"))
	bus.Subscribe(signal.Startup, func(context.Context) signal.Reply {
		return signal.Reply{Status: true, Data: map[string]any{"secret": "x"}}
	}, signal.Named("migrated"))
	anonymous := func(r *http.Request) bool { return r.Header.Get("X-Operator") == "yes" }
	h := Router(bus, WithDetails(anonymous))

	req := httptest.NewRequest(http.MethodGet, readiness, nil)
	req.Header.Set("Accept", "application/health+json")
	req.Header.Set("X-Operator", "yes")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusOK, rec.Code, "a warning passes")
	assert.Equal(t, "application/health+json", rec.Header().Get("Content-Type"))
	assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	var doc struct {
		Status string
		Checks map[string][]map[string]any
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &doc))
	assert.Equal(t, "warn", doc.Status)
	require.Len(t, doc.Checks["search"], 1)
	assert.Equal(t, "cluster yellow", doc.Checks["search"][0]["output"])
	assert.Equal(t, 0.5, doc.Checks["search"][0]["observedValue"])

	rec = getAccept(h, readiness+"/search", "application/health+json")
	assert.Equal(t, `{"status":"warn","checks":{"search":[{"componentId":"search","status":"warn"}]}}`, rec.Body.String(), "per check, and gated")

	for range 2 { // the second answer comes from the latched startup probe
		rec = getAccept(h, DefaultPrefix+"/startup", "application/health+json")
		assert.Equal(t, `{"status":"pass","checks":{"migrated":[{"componentId":"migrated","status":"pass"}]}}`, rec.Body.String())
		rec = getAccept(h, DefaultPrefix+"/startup", "")
		assert.Equal(t, `{"status":true,"checks":{"migrated":{"status":true}}}`, rec.Body.String(), "a latched startup probe is gated too")
	}
	assert.True(t, strings.HasPrefix(getAccept(h, environ, "application/health+json").Header().Get("Content-Type"), "application/json"), "environ keeps its format")
}
