package statuspage

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/oarepo/heartbeat/monitor"
	"github.com/oarepo/heartbeat/signal"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func serve(h http.Handler, method, target string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	return rec
}

func TestThePageFindsItsResourcesWithOrWithoutASlash(t *testing.T) {
	bus := signal.NewBus()
	mon := monitor.New(bus)
	defer mon.Close()
	h := Handler(mon)
	for target, base := range map[string]string{"/status": "status/", "/status/": "", "/status?x=/y": "status/"} {
		rec := serve(h, http.MethodGet, target)
		require.Equal(t, http.StatusOK, rec.Code, target)
		assert.Contains(t, rec.Body.String(), `<script src="`+base+`statuspage.js" defer></script>`, target)
		assert.Contains(t, rec.Body.String(), `<link rel="stylesheet" href="`+base+`statuspage.css">`, target)
		for k, v := range map[string]string{
			"Content-Security-Policy": Policy, "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
			"Content-Type": "text/html; charset=utf-8",
		} {
			assert.Equal(t, v, rec.Header().Get(k), "%s: %s", target, k)
		}
	}
	js := serve(h, http.MethodGet, "/status/statuspage.js")
	assert.Equal(t, "text/javascript; charset=utf-8", js.Header().Get("Content-Type"))
	assert.NotContains(t, js.Body.String(), "innerHTML", "the script builds text nodes only")
	assert.Equal(t, "text/css; charset=utf-8", serve(h, http.MethodGet, "/status/statuspage.css").Header().Get("Content-Type"))

	rec := serve(h, http.MethodPost, "/status/")
	assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	assert.Equal(t, "GET, HEAD", rec.Header().Get("Allow"))
}

func TestStateFailuresFirstAndGated(t *testing.T) {
	bus := signal.NewBus(signal.WithCacheTTL(0))
	reply := func(status bool, data map[string]any) signal.Receiver {
		return func(context.Context) signal.Reply { return signal.Reply{Status: status, Data: data} }
	}
	bus.Subscribe(signal.Readiness, reply(true, nil), signal.Named("ok"))
	bus.Subscribe(signal.Readiness, reply(true, map[string]any{"warning": "yellow"}), signal.Named("warns"))
	bus.Subscribe(signal.Readiness, reply(false, map[string]any{"error": "refused"}), signal.Named("down"))
	bus.Subscribe(signal.Liveliness, reply(true, nil), signal.Named("never-run"))
	mon := monitor.New(bus, monitor.WithHistory(2))
	defer mon.Close()
	for range 3 {
		bus.Publish(context.Background(), signal.Readiness)
	}

	operator := false
	h := Handler(mon, WithRefresh(time.Second), WithDetails(func(*http.Request) bool { return operator }))
	state := func() State {
		rec := serve(h, http.MethodGet, "/status/status.json")
		require.Equal(t, http.StatusOK, rec.Code)
		assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
		var st State
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &st))
		return st
	}

	st := state()
	assert.False(t, st.Detailed)
	assert.Equal(t, 1.0, st.Refresh)
	require.Len(t, st.Probes, 3)
	assert.Equal(t, []Check{{Name: "down"}, {Name: "ok", Status: true}, {Name: "warns", Status: true}}, st.Probes[0].Checks,
		"anonymous: names and statuses, failures first, a warning not given away")
	assert.Equal(t, []Check{{Name: "never-run", Pending: true}}, st.Probes[1].Checks,
		"anonymous: a check not run yet is told from a failing one")

	operator = true
	st = state()
	assert.True(t, st.Detailed)
	checks := st.Probes[0].Checks
	require.Len(t, checks, 3)
	assert.Equal(t, []string{"down", "warns", "ok"}, []string{checks[0].Name, checks[1].Name, checks[2].Name})
	assert.Equal(t, "refused", checks[0].Error)
	assert.Equal(t, []monitor.Outcome{monitor.Fail, monitor.Fail}, checks[0].History, "bounded by WithHistory")
	assert.True(t, checks[0].LastSuccess.IsZero())
	assert.False(t, checks[0].LastTransition.IsZero())
	assert.Equal(t, "yellow", checks[1].Warning)
	assert.Equal(t, monitor.Warn, checks[1].Outcome)
	assert.WithinDuration(t, time.Now(), checks[2].LastSuccess, time.Minute)
	assert.False(t, checks[0].Pending, "a failing check has run")
	assert.Equal(t, Check{Name: "never-run", Pending: true}, st.Probes[1].Checks[0], "not run: nothing to show")
}

func TestWithRefreshKeepsTheDefaultBelowHalfASecond(t *testing.T) {
	c := config{refresh: DefaultRefresh}
	WithRefresh(time.Millisecond)(&c)
	assert.Equal(t, DefaultRefresh, c.refresh)
	WithRefresh(2 * time.Second)(&c)
	assert.Equal(t, 2*time.Second, c.refresh)
}
