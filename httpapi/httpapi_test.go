package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oarepo/heartbeat/signal"
)

const (
	readiness  = "/.well-known/heartbeat/readiness"
	liveliness = "/.well-known/heartbeat/liveliness"
	environ    = "/.well-known/heartbeat/environ"
)

func serve(t *testing.T, h http.Handler, method, path string) (*httptest.ResponseRecorder, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var body map[string]any
	if method != http.MethodHead {
		require.True(t, json.Valid(rec.Body.Bytes()), "invalid JSON: %q", rec.Body.String())
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
	}
	return rec, body
}

func TestNoReceivers(t *testing.T) {
	h := Router(signal.NewBus())
	for _, path := range []string{readiness, liveliness} {
		rec, _ := serve(t, h, http.MethodGet, path)
		assert.Equal(t, http.StatusOK, rec.Code, path)
		assert.JSONEq(t, `{"status":true,"checks":{}}`, rec.Body.String(), path)
		assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
		assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	}

	rec, body := serve(t, h, http.MethodGet, environ)
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, true, body["status"])
	// A test binary records no dependencies; probes tests the listing itself.
	_, ok := body["libraries"].(map[string]any)
	assert.True(t, ok, "libraries is an object")
	goInfo := body["go"].(map[string]any)
	assert.Regexp(t, `^go1\.`, goInfo["version"])
	assert.NotEmpty(t, goInfo["os"])
	assert.NotEmpty(t, goInfo["arch"])
}

func TestStatusIsTheANDOfReplies(t *testing.T) {
	cases := []struct {
		name     string
		statuses []bool
		want     int
	}{
		{"all pass", []bool{true, true}, http.StatusOK},
		{"one fails", []bool{true, false, true}, http.StatusInternalServerError},
		{"all fail", []bool{false, false}, http.StatusInternalServerError},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bus := signal.NewBus()
			for i, st := range tc.statuses {
				bus.Subscribe(signal.Liveliness, func(context.Context) signal.Reply {
					return signal.Reply{Name: fmt.Sprint("c", i), Status: st, Data: map[string]any{"status": !st, "n": i}}
				})
			}
			rec, body := serve(t, Router(bus), http.MethodGet, liveliness)
			assert.Equal(t, tc.want, rec.Code)
			assert.Equal(t, tc.want == http.StatusOK, body["status"])
			checks := body["checks"].(map[string]any)
			require.Len(t, checks, len(tc.statuses))
			for i, st := range tc.statuses {
				c := checks[fmt.Sprint("c", i)].(map[string]any)
				assert.Equal(t, st, c["status"], "the reply's status wins over its data's")
				assert.EqualValues(t, i, c["n"])
			}
		})
	}
}

func TestSeedExampleWireFormat(t *testing.T) {
	bus := signal.NewBus()
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
		return signal.Reply{Name: "Database", Status: false, Data: map[string]any{"message": "Error accessing database"}}
	})
	rec, _ := serve(t, Router(bus), http.MethodGet, readiness)
	assert.Equal(t, http.StatusInternalServerError, rec.Code)
	assert.Equal(t, `{"status":false,"checks":{"Database":{"status":false,"message":"Error accessing database"}}}`, rec.Body.String())
}

func TestEnvironMergesInSubscriptionOrder(t *testing.T) {
	bus := signal.NewBus()
	bus.Subscribe(signal.Environ, func(context.Context) signal.Reply {
		return signal.Reply{Status: true, Data: map[string]any{"region": "eu", "build": 1, "status": false}}
	})
	bus.Subscribe(signal.Environ, func(context.Context) signal.Reply {
		return signal.Reply{Status: true, Data: map[string]any{"build": 2, "commit": "abc"}}
	})
	rec, body := serve(t, Router(bus), http.MethodGet, environ)
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, true, body["status"], "no receiver can override the computed status")
	assert.Equal(t, "eu", body["region"])
	assert.EqualValues(t, 2, body["build"], "later receivers win")
	assert.Equal(t, "abc", body["commit"])
	assert.Contains(t, body, "libraries")
}

func TestEnvironFailure(t *testing.T) {
	bus := signal.NewBus(signal.WithTimeout(50 * time.Millisecond))
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	bus.Subscribe(signal.Environ, func(context.Context) signal.Reply {
		return signal.Reply{Status: false, Data: map[string]any{"disk": "full"}}
	})
	bus.Subscribe(signal.Environ, func(context.Context) signal.Reply {
		<-release
		return signal.Reply{Status: true}
	}, signal.Named("hung"))

	rec, body := serve(t, Router(bus), http.MethodGet, environ)
	assert.Equal(t, http.StatusOK, rec.Code, "environ answers 200 like the original")
	assert.Equal(t, false, body["status"])
	assert.Equal(t, "full", body["disk"])
	hung := body["checks"].(map[string]any)["hung"].(map[string]any)
	assert.Contains(t, hung["error"], "timed out")

	rec, _ = serve(t, Router(bus, WithStrictEnviron(true)), http.MethodGet, environ)
	assert.Equal(t, http.StatusInternalServerError, rec.Code)
}

func TestHungAndPanickingReceiversAnswerOnTime(t *testing.T) {
	bus := signal.NewBus(signal.WithTimeout(100 * time.Millisecond))
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply { <-release; return signal.Reply{} }, signal.Named("search"))
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply { panic("kaboom") }, signal.Named("cache"))
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply { return signal.Reply{Name: "db", Status: true} })

	start := time.Now()
	rec, body := serve(t, Router(bus), http.MethodGet, readiness)
	assert.Less(t, time.Since(start), time.Second)
	assert.Equal(t, http.StatusInternalServerError, rec.Code)
	checks := body["checks"].(map[string]any)
	assert.Contains(t, checks["search"].(map[string]any)["error"], "timed out after 100ms")
	assert.Contains(t, checks["cache"].(map[string]any)["error"], "kaboom")
	assert.Equal(t, true, checks["db"].(map[string]any)["status"])
}

func TestUnencodableDataGivesValid500NamingTheReceiver(t *testing.T) {
	bus := signal.NewBus()
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
		return signal.Reply{Name: "metrics", Status: true, Data: map[string]any{"ratio": math.NaN()}}
	})
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
		return signal.Reply{Name: "db", Status: true, Data: map[string]any{"time": 0.1}}
	})
	rec, body := serve(t, Router(bus), http.MethodGet, readiness)
	assert.Equal(t, http.StatusInternalServerError, rec.Code)
	checks := body["checks"].(map[string]any)
	assert.Contains(t, checks["metrics"].(map[string]any)["error"], "cannot be encoded")
	assert.Equal(t, 0.1, checks["db"].(map[string]any)["time"])

	bus.Subscribe(signal.Environ, func(context.Context) signal.Reply {
		return signal.Reply{Status: true, Data: map[string]any{"ch": make(chan int)}}
	}, signal.Named("bad-environ"))
	rec, body = serve(t, Router(bus, WithStrictEnviron(true)), http.MethodGet, environ)
	assert.Equal(t, http.StatusInternalServerError, rec.Code)
	assert.Contains(t, body["checks"].(map[string]any)["bad-environ"].(map[string]any)["error"], "cannot be encoded")
}

func TestHEADAndMethods(t *testing.T) {
	bus := signal.NewBus()
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply { return signal.Reply{Name: "x", Status: false} })
	h := Router(bus)

	get, _ := serve(t, h, http.MethodGet, readiness)
	head, _ := serve(t, h, http.MethodHead, readiness)
	assert.Equal(t, get.Code, head.Code)
	assert.Empty(t, head.Body.Bytes())
	assert.Equal(t, "application/json", head.Header().Get("Content-Type"))

	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions} {
		rec, body := serve(t, h, m, readiness)
		assert.Equal(t, http.StatusMethodNotAllowed, rec.Code, m)
		assert.Equal(t, "GET, HEAD", rec.Header().Get("Allow"), m)
		assert.Contains(t, body["error"], m)
	}
}

func TestNeverRedirects(t *testing.T) {
	h := Router(signal.NewBus())
	for _, path := range []string{
		readiness + "/", "/.well-known/heartbeat", "/.well-known/heartbeat/", "/.well-known/heartbeat//readiness",
		"/.well-known/heartbeat/readiness/../liveliness", "/.well-known/heartbeat/READINESS", "/", "/nothing",
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		assert.True(t, rec.Code < 300 || rec.Code >= 400, "%s answered %d", path, rec.Code)
		assert.Empty(t, rec.Header().Get("Location"), path)
		assert.True(t, json.Valid(rec.Body.Bytes()), path)
		if rec.Code == http.StatusOK {
			assert.Equal(t, readiness+"/", path, "only the probe's own path may pass")
		}
	}
}

func TestStrayQueryStringsAnswerAsWithout(t *testing.T) {
	bus := signal.NewBus()
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply { return signal.Reply{Status: true} }, signal.Named("db"))
	h := Router(bus)
	readyz := chi.NewRouter()
	readyz.Mount("/readyz", Handler(bus, signal.Readiness))
	for _, query := range []string{
		"?_=1733000000", "?verbose", "?verbose=1", "?a=%zz", "?x=1&y=2", "?;", "?exclude", "?exclude=",
		"?%", "?=", "?&&&", "?" + strings.Repeat("k", 10000), "?exclude=%zz&_=1", "?verbose&exclude=nothing",
	} {
		for _, path := range []string{readiness, liveliness, readiness + "/db", environ} {
			rec, body := serve(t, h, http.MethodGet, path+query)
			assert.Equal(t, http.StatusOK, rec.Code, path+query)
			assert.Equal(t, true, body["status"], path+query)
		}
		for _, path := range []string{"/readyz", "/readyz/db"} {
			rec, body := serve(t, readyz, http.MethodGet, path+query)
			assert.True(t, rec.Code >= 200 && rec.Code < 400, "the kubelet fails %s with %d", path+query, rec.Code)
			assert.Equal(t, true, body["status"], path+query)
		}
	}
}

func TestPrefix(t *testing.T) {
	bus := signal.NewBus()
	for prefix, path := range map[string]string{
		"/health":  "/health/readiness",
		"/health/": "/health/readiness",
		"":         "/readiness",
		"/":        "/readiness",
	} {
		rec, _ := serve(t, Router(bus, WithPrefix(prefix)), http.MethodGet, path)
		assert.Equal(t, http.StatusOK, rec.Code, "prefix %q path %q", prefix, path)
	}
}

func TestMountsInChiAndNetHTTP(t *testing.T) {
	bus := signal.NewBus()
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply { return signal.Reply{Name: "db", Status: true} })

	app := chi.NewRouter()
	app.Get("/api", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("app")) })
	app.Mount("/", Router(bus))
	rec, _ := serve(t, app, http.MethodGet, readiness)
	assert.Equal(t, http.StatusOK, rec.Code)
	rec2 := httptest.NewRecorder()
	app.ServeHTTP(rec2, httptest.NewRequest(http.MethodGet, "/api", nil))
	assert.Equal(t, "app", rec2.Body.String())

	mux := http.NewServeMux()
	mux.Handle("/.well-known/heartbeat/", Router(bus))
	rec, _ = serve(t, mux, http.MethodGet, readiness)
	assert.Equal(t, http.StatusOK, rec.Code)
}

func TestConcurrentProbesOverRealServer(t *testing.T) {
	bus := signal.NewBus()
	var calls atomic.Int32
	for i := range 20 {
		bus.Subscribe(signal.Readiness, func(ctx context.Context) signal.Reply {
			calls.Add(1)
			time.Sleep(50 * time.Millisecond)
			return signal.Reply{Name: fmt.Sprint("slow", i), Status: true}
		})
	}
	srv := httptest.NewServer(Router(bus))
	t.Cleanup(srv.Close)

	start := time.Now()
	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() {
			resp, err := http.Get(srv.URL + readiness)
			if !assert.NoError(t, err) {
				return
			}
			defer resp.Body.Close()
			assert.Equal(t, http.StatusOK, resp.StatusCode)
		})
	}
	wg.Wait()
	// 20 receivers of 50 ms: concurrent and coalesced, not 100 × 20 × 50 ms
	// = 100 s; and each reply is reused for its 1 s TTL, so a receiver runs
	// once per second the probes take, plus one run under way at the end.
	elapsed := time.Since(start)
	assert.Less(t, elapsed, 10*time.Second)
	assert.LessOrEqual(t, calls.Load(), int32(20*(2+elapsed/time.Second)), "100 probes share runs")
}

func TestReusedBodyFollowsTheReplies(t *testing.T) {
	bus := signal.NewBus(signal.WithCacheTTL(50 * time.Millisecond))
	var up atomic.Bool
	up.Store(true)
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
		return signal.Reply{Name: "db", Status: up.Load()}
	})
	h := Router(bus)
	for range 3 { // a fresh run, then the reused results, then the kept body
		rec, _ := serve(t, h, http.MethodGet, readiness)
		assert.Equal(t, http.StatusOK, rec.Code)
	}
	up.Store(false)
	require.Eventually(t, func() bool {
		rec, body := serve(t, h, http.MethodGet, readiness)
		return rec.Code == http.StatusInternalServerError && body["status"] == false
	}, 2*time.Second, 10*time.Millisecond)
	rec, _ := serve(t, h, http.MethodGet, readiness)
	assert.Equal(t, http.StatusInternalServerError, rec.Code, "the kept body never outlives its replies")
	assert.JSONEq(t, `{"status":false,"checks":{"db":{"status":false}}}`, rec.Body.String())
}
