package httpapi

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oarepo/heartbeat/drain"
	"github.com/oarepo/heartbeat/signal"
)

const startup = "/.well-known/heartbeat/startup"

func TestLivenessIsAnAliasOfLiveliness(t *testing.T) {
	bus := signal.NewBus()
	bus.Subscribe(signal.Liveliness, func(context.Context) signal.Reply { return signal.Reply{Name: "loop", Status: false} })
	h := Router(bus)
	a, _ := serve(t, h, http.MethodGet, liveliness)
	b, _ := serve(t, h, http.MethodGet, "/.well-known/heartbeat/liveness")
	assert.Equal(t, http.StatusInternalServerError, b.Code)
	assert.Equal(t, a.Body.String(), b.Body.String())
	c, _ := serve(t, h, http.MethodGet, "/.well-known/heartbeat/liveness/loop")
	assert.Equal(t, http.StatusInternalServerError, c.Code)
}

func TestStartupLatchesOnceEveryCheckPassedTogether(t *testing.T) {
	bus := signal.NewBus(signal.WithCacheTTL(0))
	var migrated, warmed atomic.Bool
	var calls atomic.Int32
	bus.Subscribe(signal.Startup, func(context.Context) signal.Reply {
		calls.Add(1)
		return signal.Reply{Name: "migrations", Status: migrated.Load()}
	}, signal.Named("migrations"))
	bus.Subscribe(signal.Startup, func(context.Context) signal.Reply {
		calls.Add(1)
		return signal.Reply{Name: "cache", Status: warmed.Load()}
	}, signal.Named("cache"))
	h := Router(bus)

	rec, body := serve(t, h, http.MethodGet, startup)
	assert.Equal(t, http.StatusInternalServerError, rec.Code)
	assert.Equal(t, false, body["status"])

	// Each check passing on its own, in different probes, is not a start.
	migrated.Store(true)
	rec, _ = serve(t, h, http.MethodGet, startup+"/migrations")
	assert.Equal(t, http.StatusOK, rec.Code)
	rec, _ = serve(t, h, http.MethodGet, startup+"?exclude=cache")
	assert.Equal(t, http.StatusOK, rec.Code)
	migrated.Store(false)
	warmed.Store(true)
	rec, _ = serve(t, h, http.MethodGet, startup)
	assert.Equal(t, http.StatusInternalServerError, rec.Code, "never passed together yet")

	migrated.Store(true)
	rec, _ = serve(t, h, http.MethodGet, startup)
	require.Equal(t, http.StatusOK, rec.Code)
	passed := rec.Body.String()
	assert.JSONEq(t, `{"status":true,"checks":{"migrations":{"status":true},"cache":{"status":true}}}`, passed)

	// Latched: later failures do not matter, and nothing runs again.
	migrated.Store(false)
	warmed.Store(false)
	before := calls.Load()
	for range 3 {
		rec, _ = serve(t, h, http.MethodGet, startup)
		assert.Equal(t, http.StatusOK, rec.Code)
		assert.Equal(t, passed, rec.Body.String())
	}
	assert.Equal(t, before, calls.Load(), "a latched startup probe runs no receiver")

	// The latch belongs to the router: a new one starts over.
	rec, _ = serve(t, Router(bus), http.MethodGet, startup)
	assert.Equal(t, http.StatusInternalServerError, rec.Code)
}

func TestStartupWithoutReceiversPasses(t *testing.T) {
	rec, _ := serve(t, Router(signal.NewBus()), http.MethodGet, startup)
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.JSONEq(t, `{"status":true,"checks":{}}`, rec.Body.String())
}

func TestPerCheckPaths(t *testing.T) {
	bus := signal.NewBus()
	var searchCalls atomic.Int32
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
		return signal.Reply{Name: "db", Status: true, Data: map[string]any{"time": 0.5}}
	}, signal.Named("db"))
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
		searchCalls.Add(1)
		return signal.Reply{Name: "search", Status: false, Data: map[string]any{"error": "red cluster"}}
	}) // unnamed: its name is learnt from its reply
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
		return signal.Reply{Name: "a/b c", Status: true}
	}, signal.Named("a/b c"))
	h := Router(bus)

	rec, _ := serve(t, h, http.MethodGet, readiness+"/db")
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.JSONEq(t, `{"status":true,"checks":{"db":{"status":true,"time":0.5}}}`, rec.Body.String())
	assert.Zero(t, searchCalls.Load(), "selecting a check never runs another to learn its name")
	rec, _ = serve(t, h, http.MethodGet, readiness+"/search")
	assert.Equal(t, http.StatusNotFound, rec.Code, "before its first reply the unnamed receiver goes by its function's name")

	serve(t, h, http.MethodGet, readiness) // the whole probe runs it: now it is "search"
	rec, _ = serve(t, h, http.MethodGet, readiness+"/search")
	assert.Equal(t, http.StatusInternalServerError, rec.Code)
	assert.JSONEq(t, `{"status":false,"checks":{"search":{"status":false,"error":"red cluster"}}}`, rec.Body.String())

	rec, _ = serve(t, h, http.MethodGet, readiness+"/a%2Fb%20c")
	assert.Equal(t, http.StatusOK, rec.Code, rec.Body.String())

	rec, body := serve(t, h, http.MethodGet, readiness+"/nope")
	assert.Equal(t, http.StatusNotFound, rec.Code)
	assert.Equal(t, false, body["status"])
	assert.Equal(t, `the readiness probe has no check "nope"; its checks: db, search, a/b c`, body["error"])

	rec, _ = serve(t, h, http.MethodGet, liveliness+"/db")
	assert.Equal(t, http.StatusNotFound, rec.Code, "checks belong to their probe")

	rec, _ = serve(t, h, http.MethodGet, readiness+"/db?exclude=db&_=1")
	assert.Equal(t, http.StatusOK, rec.Code, "a single check ignores exclude, like any other parameter")

	head, _ := serve(t, h, http.MethodHead, readiness+"/db")
	assert.Equal(t, http.StatusOK, head.Code)
}

func TestExclude(t *testing.T) {
	bus := signal.NewBus()
	for _, c := range []struct {
		name string
		ok   bool
	}{{"db", true}, {"search", false}, {"cache", false}} {
		bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
			return signal.Reply{Name: c.name, Status: c.ok}
		}, signal.Named(c.name))
	}
	h := Router(bus)

	cases := []struct {
		query     string
		code      int
		checks    []string
		excluded  []any
		unmatched []any
	}{
		{"?exclude=search", http.StatusInternalServerError, []string{"db", "cache"}, []any{"search"}, nil},
		{"?exclude=search&exclude=cache", http.StatusOK, []string{"db"}, []any{"search", "cache"}, nil},
		{"?exclude=search&exclude=cache&exclude=search", http.StatusOK, []string{"db"}, []any{"search", "cache"}, nil},
		{"?exclude=search&exclude=cahce&exclude=cache", http.StatusOK, []string{"db"}, []any{"search", "cache"}, []any{"cahce"}},
		{"?exclude=typo", http.StatusInternalServerError, []string{"db", "search", "cache"}, nil, []any{"typo"}},
		{"?exclude=search,cache", http.StatusOK, []string{"db"}, []any{"search", "cache"}, nil},
		{"?exclude=search,%20cache&verbose", http.StatusOK, []string{"db"}, []any{"search", "cache"}, nil},
		{"?exclude=db&exclude=search&exclude=cache", http.StatusOK, nil, []any{"db", "search", "cache"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			rec, body := serve(t, h, http.MethodGet, readiness+tc.query)
			assert.Equal(t, tc.code, rec.Code)
			checks := body["checks"].(map[string]any)
			assert.Len(t, checks, len(tc.checks))
			for _, c := range tc.checks {
				assert.Contains(t, checks, c)
			}
			if tc.excluded == nil {
				assert.NotContains(t, body, "excluded")
			} else {
				assert.Equal(t, tc.excluded, body["excluded"])
			}
			if tc.unmatched == nil {
				assert.NotContains(t, body, "unmatched_exclude")
			} else {
				assert.Equal(t, tc.unmatched, body["unmatched_exclude"])
			}
		})
	}

}

func TestDrainFailsReadinessOnly(t *testing.T) {
	bus := signal.NewBus()
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply { return signal.Reply{Name: "db", Status: true} })
	d := &drain.Drain{}
	d.Subscribe(bus)
	h := Router(bus)

	rec, _ := serve(t, h, http.MethodGet, readiness)
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.JSONEq(t, `{"status":true,"checks":{"db":{"status":true},"shutdown":{"status":true}}}`, rec.Body.String(), "an ordinary check")
	rec, _ = serve(t, h, http.MethodGet, readiness+"/shutdown")
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.JSONEq(t, `{"status":true,"checks":{"shutdown":{"status":true}}}`, rec.Body.String())

	require.True(t, d.Start("received terminated"))
	assert.False(t, d.Start("again"), "the first reason stays")

	rec, body := serve(t, h, http.MethodGet, readiness)
	assert.Equal(t, http.StatusInternalServerError, rec.Code)
	assert.Equal(t, false, body["status"])
	checks := body["checks"].(map[string]any)
	assert.Equal(t, true, checks["db"].(map[string]any)["status"])
	shutdown := checks["shutdown"].(map[string]any)
	assert.Equal(t, false, shutdown["status"])
	assert.Equal(t, "draining: received terminated", shutdown["error"])
	assert.NotEmpty(t, shutdown["since"])

	rec, _ = serve(t, h, http.MethodGet, readiness+"/shutdown")
	assert.Equal(t, http.StatusInternalServerError, rec.Code)
	rec, _ = serve(t, h, http.MethodGet, readiness+"/db")
	assert.Equal(t, http.StatusOK, rec.Code, "a single other check is not affected")
	rec, body = serve(t, h, http.MethodGet, readiness+"?exclude=shutdown")
	assert.Equal(t, http.StatusOK, rec.Code, "like kube-apiserver, shutdown can be excluded")
	assert.Equal(t, []any{"shutdown"}, body["excluded"])

	for _, path := range []string{liveliness, "/.well-known/heartbeat/liveness", startup} {
		rec, _ = serve(t, h, http.MethodGet, path)
		assert.Equal(t, http.StatusOK, rec.Code, "%s keeps passing while draining", path)
	}
}

func TestDrainCheckDoesNotHideAReceiverCalledShutdown(t *testing.T) {
	bus := signal.NewBus()
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply { return signal.Reply{Name: "shutdown", Status: true} })
	d := &drain.Drain{}
	d.Subscribe(bus)
	d.Start("test")
	_, body := serve(t, Router(bus), http.MethodGet, readiness)
	checks := body["checks"].(map[string]any)
	assert.Contains(t, checks, "shutdown")
	assert.Contains(t, checks, "shutdown#2")
}
