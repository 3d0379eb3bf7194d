package httpapi

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/oarepo/heartbeat/monitor"
	"github.com/oarepo/heartbeat/signal"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func mountBus() *signal.Bus {
	bus := signal.NewBus()
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply { return signal.Reply{Status: true} }, signal.Named("db"))
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply { return signal.Reply{Status: true} }, signal.Named("db"))
	bus.Subscribe(signal.Liveliness, func(context.Context) signal.Reply { return signal.Reply{Status: true} }, signal.Named("loop"))
	for _, name := range []string{"a%41", "a/b"} { // names whose paths must be decoded exactly once
		bus.Subscribe(signal.Startup, func(context.Context) signal.Reply { return signal.Reply{Status: true} }, signal.Named(name))
	}
	return bus
}

// probePaths are what every mounting idiom must answer, relative to the
// prefix, with the checks each answer holds.
var probePaths = map[string][]string{
	"/readiness":                       {"db", "db#2"},
	"/readiness/db":                    {"db"},
	"/readiness/db%232":                {"db#2"},
	"/readiness?exclude=db#2":          {"db"},
	"/readiness?exclude=db%232":        {"db"},
	"/readiness?exclude=db,db%232&_=1": {},
	"/liveliness?verbose":              {"loop"},
	"/liveness/loop":                   {"loop"},
	"/startup":                         {"a%41", "a/b"},
	"/startup/a%2541":                  {"a%41"},
	"/startup/a%2Fb":                   {"a/b"},
}

func TestEveryMountingIdiomServesEveryPath(t *testing.T) {
	const prefix = "/.well-known/heartbeat"
	var seen atomic.Int32
	counting := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			seen.Add(1)
			next.ServeHTTP(w, r)
		})
	}
	idioms := map[string]func(bus *signal.Bus) http.Handler{
		"chi Mount at the prefix": func(bus *signal.Bus) http.Handler {
			r := chi.NewRouter()
			r.Mount(prefix, Router(bus))
			return r
		},
		"chi Mount at the root": func(bus *signal.Bus) http.Handler {
			r := chi.NewRouter()
			r.Mount("/", Router(bus))
			return r
		},
		"chi With(middleware).Mount": func(bus *signal.Bus) http.Handler {
			r := chi.NewRouter()
			r.With(counting).Mount(prefix, Router(bus))
			return r
		},
		"chi Route and Mount": func(bus *signal.Bus) http.Handler {
			r := chi.NewRouter()
			r.Route("/.well-known", func(r chi.Router) { r.Mount("/heartbeat", Router(bus)) })
			return r
		},
		"http.ServeMux at prefix/": func(bus *signal.Bus) http.Handler {
			mux := http.NewServeMux()
			mux.Handle(prefix+"/", Router(bus))
			return mux
		},
		"http.StripPrefix": func(bus *signal.Bus) http.Handler {
			mux := http.NewServeMux()
			mux.Handle(prefix+"/", http.StripPrefix(prefix, Router(bus)))
			return mux
		},
		"middleware around the handler": func(bus *signal.Bus) http.Handler {
			mux := http.NewServeMux()
			mux.Handle(prefix+"/", counting(Router(bus)))
			return mux
		},
	}
	for idiom, mount := range idioms {
		t.Run(idiom, func(t *testing.T) {
			h := mount(mountBus())
			for path, checks := range probePaths {
				rec, body := serve(t, h, http.MethodGet, prefix+path)
				require.Equal(t, http.StatusOK, rec.Code, "%s: %s", path, rec.Body.String())
				got := []string{}
				for name := range body["checks"].(map[string]any) {
					got = append(got, name)
				}
				assert.ElementsMatch(t, checks, got, path)
			}
		})
	}
	assert.Equal(t, int32(2*len(probePaths)), seen.Load(), "middleware sees every probe")
}

func TestTheHostKeepsItsOwn404And405(t *testing.T) {
	r := chi.NewRouter()
	r.Get("/items", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("items")) })
	r.Post("/items", func(w http.ResponseWriter, _ *http.Request) {})
	r.Mount(DefaultPrefix, Router(mountBus()))

	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/nothing", nil))
	assert.Equal(t, http.StatusNotFound, rec.Code)
	assert.False(t, json.Valid(rec.Body.Bytes()), "chi's own plain-text 404, not heartbeat's")

	rec = httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodDelete, "/items", nil))
	assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	assert.NotEqual(t, "GET, HEAD", rec.Header().Get("Allow"))

	rec, body := serve(t, r, http.MethodGet, DefaultPrefix+"/nothing")
	assert.Equal(t, http.StatusNotFound, rec.Code, "heartbeat's own paths answer in JSON")
	assert.Equal(t, false, body["status"])
}

// The kubelet counts 200-399 as success: /readyz served by Handler must land
// on the right side of that line for each state.
func TestHandlerAtReadyzAsTheKubeletSeesIt(t *testing.T) {
	bus := signal.NewBus(signal.WithCacheTTL(0))
	var up atomic.Bool
	up.Store(true)
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply { return signal.Reply{Status: up.Load()} }, signal.Named("db"))
	bus.Subscribe(signal.Liveliness, func(context.Context) signal.Reply { return signal.Reply{Status: true} }, signal.Named("loop"))
	mux := http.NewServeMux()
	for path, sig := range map[string]string{"/readyz": signal.Readiness, "/livez": signal.Liveliness} {
		h := Handler(bus, sig)
		mux.Handle("GET "+path, h)
		mux.Handle("GET "+path+"/{check}", h)
	}
	r := chi.NewRouter()
	r.Mount("/healthz", Handler(bus, signal.Readiness))
	r.Handle("/ready", Handler(bus, signal.Readiness))
	r.Handle("/ready/*", Handler(bus, signal.Readiness))
	subtree := http.NewServeMux()
	subtree.Handle("/readyz/", Handler(bus, signal.Readiness))
	kubelet := func(h http.Handler, path string) bool {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("User-Agent", "kube-probe/1.31")
		h.ServeHTTP(rec, req)
		return rec.Code >= 200 && rec.Code < 400
	}
	for _, tc := range []struct {
		h    http.Handler
		path string
	}{
		{mux, "/readyz"}, {mux, "/readyz/db"}, {mux, "/readyz?verbose"}, {r, "/healthz"}, {r, "/healthz/db"},
		{r, "/ready"}, {r, "/ready/db"}, {subtree, "/readyz/"}, {subtree, "/readyz/db"},
	} {
		up.Store(true)
		assert.True(t, kubelet(tc.h, tc.path), tc.path)
		up.Store(false)
		assert.False(t, kubelet(tc.h, tc.path), tc.path)
	}
	assert.True(t, kubelet(mux, "/livez"), "liveness is not readiness")
	assert.False(t, kubelet(mux, "/readyz/nope"), "an unknown check is a 404")
}

// A client that hangs up while one receiver starts hanging must not strand
// the others: the next probe reports them healthy, and excluding the hung
// one passes.
func TestClientDisconnectDoesNotStrandChecks(t *testing.T) {
	bus := signal.NewBus(signal.WithTimeout(300*time.Millisecond), signal.WithCacheTTL(0))
	var hang atomic.Bool
	release := make(chan struct{})
	defer close(release)
	for _, n := range []string{"a", "b"} {
		bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply { return signal.Reply{Status: true} }, signal.Named(n))
	}
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
		if hang.Load() {
			<-release
		}
		return signal.Reply{Status: true}
	}, signal.Named("flaky"))
	srv := httptest.NewServer(Router(bus))
	defer srv.Close()
	get := func(ctx context.Context, path string) (int, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+DefaultPrefix+path, nil)
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		return resp.StatusCode, nil
	}
	code, err := get(context.Background(), "/readiness")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code)

	hang.Store(true)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	_, err = get(ctx, "/readiness") // hangs up mid-probe
	cancel()
	require.Error(t, err)

	for range 3 {
		code, err = get(context.Background(), "/readiness?exclude=flaky")
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, code, "the healthy checks are run again, not stranded")
		code, err = get(context.Background(), "/readiness/a")
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, code)
	}
	srv.CloseClientConnections()
	http.DefaultClient.CloseIdleConnections()
}

func TestDetailsAndEnvironGating(t *testing.T) {
	bus := signal.NewBus()
	for _, sig := range []string{signal.Readiness, signal.Liveliness, signal.Startup} {
		bus.Subscribe(sig, func(context.Context) signal.Reply {
			return signal.Reply{Status: false, Data: map[string]any{"error": "db.internal:5432 refused", "time": 0.1}}
		}, signal.Named("db"))
	}
	allow := func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer ok" }
	h := Router(bus, WithDetails(allow))
	readyz := chi.NewRouter()
	readyz.Mount("/readyz", Handler(bus, signal.Readiness, WithDetails(allow)))
	var paths []string
	for _, probe := range []string{"readiness", "liveliness", "liveness", "startup"} {
		paths = append(paths, DefaultPrefix+"/"+probe, DefaultPrefix+"/"+probe+"/db")
	}
	for _, path := range append(paths, "/readyz", "/readyz/db") {
		h := h
		if !strings.HasPrefix(path, DefaultPrefix) {
			h = readyz
		}
		rec, body := serve(t, h, http.MethodGet, path)
		assert.Equal(t, http.StatusInternalServerError, rec.Code, path)
		assert.Equal(t, map[string]any{"status": false, "checks": map[string]any{"db": map[string]any{"status": false}}}, body, path)

		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Authorization", "Bearer ok")
		full := httptest.NewRecorder()
		h.ServeHTTP(full, req)
		assert.Equal(t, http.StatusInternalServerError, full.Code, path)
		assert.Contains(t, full.Body.String(), "db.internal:5432 refused", path)
	}
	rec, body := serve(t, h, http.MethodGet, environ)
	assert.Equal(t, http.StatusForbidden, rec.Code, "environ is detail")
	assert.NotContains(t, body, "libraries")

	req := httptest.NewRequest(http.MethodGet, environ, nil)
	req.Header.Set("Authorization", "Bearer ok")
	full := httptest.NewRecorder()
	h.ServeHTTP(full, req)
	assert.Equal(t, http.StatusOK, full.Code, "an allowed caller sees environ")
	var allowed map[string]any
	require.NoError(t, json.Unmarshal(full.Body.Bytes(), &allowed))
	_, ok := allowed["libraries"].(map[string]any)
	assert.True(t, ok, "libraries is an object")

	rec, _ = serve(t, Router(bus, WithoutEnviron()), http.MethodGet, environ)
	assert.Equal(t, http.StatusNotFound, rec.Code)
}

// Over a real server, HEAD answers like GET without a body.
func TestHEADOverARealServer(t *testing.T) {
	bus := signal.NewBus()
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply { return signal.Reply{Status: false} }, signal.Named("x"))
	srv := httptest.NewServer(Router(bus))
	defer srv.Close()
	get, err := http.Get(srv.URL + readiness)
	require.NoError(t, err)
	body, _ := io.ReadAll(get.Body)
	get.Body.Close()
	head, err := http.Head(srv.URL + readiness)
	require.NoError(t, err)
	headBody, _ := io.ReadAll(head.Body)
	head.Body.Close()
	assert.Equal(t, get.StatusCode, head.StatusCode)
	assert.Equal(t, http.StatusInternalServerError, head.StatusCode)
	assert.Equal(t, get.Header.Get("Content-Type"), head.Header.Get("Content-Type"))
	assert.NotEmpty(t, body)
	assert.Empty(t, headBody)
	http.DefaultClient.CloseIdleConnections()
}

// Chi's sub-routers leave RoutePath set to the sub-router's remaining path,
// and http.StripPrefix rewrites the URL but not RoutePath: neither may be
// taken for the path below Handler or Router.
func TestChiSubRoutersAndStripPrefixInsideThem(t *testing.T) {
	handlerChecks := map[string][]string{
		"":                {"db", "db#2"},
		"/db":             {"db"},
		"/db%232":         {"db#2"},
		"?exclude=db%232": {"db"},
	}
	idioms := map[string]struct {
		h     func(bus *signal.Bus) http.Handler
		paths map[string][]string // relative to /api/readyz, or to the prefix under /api/hb
		base  string
	}{
		"chi Route with Get": {func(bus *signal.Bus) http.Handler {
			r := chi.NewRouter()
			r.Route("/api", func(r chi.Router) { r.Get("/readyz", Handler(bus, signal.Readiness).ServeHTTP) })
			return r
		}, map[string][]string{"": {"db", "db#2"}, "?exclude=db": {"db#2"}}, "/api/readyz"},
		"chi Route with Mount": {func(bus *signal.Bus) http.Handler {
			r := chi.NewRouter()
			r.Route("/api", func(r chi.Router) { r.Mount("/readyz", Handler(bus, signal.Readiness)) })
			return r
		}, handlerChecks, "/api/readyz"},
		"chi Route with /*": {func(bus *signal.Bus) http.Handler {
			r := chi.NewRouter()
			r.Route("/api", func(r chi.Router) { r.Handle("/readyz/*", Handler(bus, signal.Readiness)) })
			return r
		}, map[string][]string{"/": {"db", "db#2"}, "/db": {"db"}, "/db%232": {"db#2"}}, "/api/readyz"},
		"chi Route with {name}": {func(bus *signal.Bus) http.Handler {
			r := chi.NewRouter()
			r.Route("/{tenant}", func(r chi.Router) { r.Get("/readyz", Handler(bus, signal.Readiness).ServeHTTP) })
			return r
		}, map[string][]string{"": {"db", "db#2"}}, "/t1/readyz"},
		"chi Route with StripPrefix and Router": {func(bus *signal.Bus) http.Handler {
			r := chi.NewRouter()
			r.Route("/api", func(r chi.Router) { r.Handle("/hb/*", http.StripPrefix("/api/hb", Router(bus))) })
			return r
		}, probePaths, "/api/hb" + DefaultPrefix},
		"chi /* with StripPrefix and Handler": {func(bus *signal.Bus) http.Handler {
			r := chi.NewRouter()
			r.Handle("/hb/*", http.StripPrefix("/hb/readyz", Handler(bus, signal.Readiness)))
			return r
		}, handlerChecks, "/hb/readyz"},
	}
	for idiom, tc := range idioms {
		t.Run(idiom, func(t *testing.T) {
			h := tc.h(mountBus())
			for path, checks := range tc.paths {
				rec, body := serve(t, h, http.MethodGet, tc.base+path)
				require.Equal(t, http.StatusOK, rec.Code, "%s: %s", path, rec.Body.String())
				got := []string{}
				for name := range body["checks"].(map[string]any) {
					got = append(got, name)
				}
				assert.ElementsMatch(t, checks, got, path)
			}
		})
	}
}

// With http.ServeMux, registering both the prefix and prefix/ serves the
// status page at each without ServeMux's own 307 from one to the other.
func TestServeMuxAtBothPrefixPatternsAnswersThePrefixItself(t *testing.T) {
	bus := mountBus()
	mon := monitor.New(bus)
	defer mon.Close()
	h := Router(bus, WithMonitor(mon))
	only := http.NewServeMux()
	only.Handle(DefaultPrefix+"/", h)
	rec := getAccept(only, DefaultPrefix, "text/html")
	assert.Equal(t, http.StatusTemporaryRedirect, rec.Code, "ServeMux redirects prefix to prefix/ itself")

	both := http.NewServeMux()
	both.Handle(DefaultPrefix, h)
	both.Handle(DefaultPrefix+"/", h)
	for _, path := range []string{DefaultPrefix, DefaultPrefix + "/"} {
		rec := getAccept(both, path, "text/html")
		assert.Equal(t, http.StatusOK, rec.Code, path)
		assert.Empty(t, rec.Header().Get("Location"), path)
		assert.Equal(t, "text/html; charset=utf-8", rec.Header().Get("Content-Type"), path)
	}
	rec, _ = serve(t, both, http.MethodGet, readiness+"/db")
	assert.Equal(t, http.StatusOK, rec.Code)
}

// A probe word that is not the signal's constant would serve an empty,
// passing probe for ever; Handler refuses it as http.Handle refuses a bad
// pattern.
func TestHandlerPanicsForAMisspeltSignal(t *testing.T) {
	bus := signal.NewBus()
	assert.PanicsWithError(t, `httpapi: Handler: no probe publishes the signal "readiness"; did you mean "oarepo.probe.readiness"?`,
		func() { Handler(bus, "readiness") })
	for _, sig := range []string{"Readiness", "oarepo.probe.readines", "OAREPO.PROBE.READINESS", "liveness"} {
		assert.Panics(t, func() { Handler(bus, sig) }, sig)
	}
	for _, sig := range []string{signal.Readiness, signal.Liveliness, signal.Startup, "myapp.ready"} {
		assert.NotPanics(t, func() { Handler(bus, sig) }, sig)
	}
}

// What docs/architecture.md says of subtree patterns: they serve the
// per-check paths, and the probe's own path only if registered as well.
func TestSubtreePatternsServeChecksButNotTheProbesOwnPath(t *testing.T) {
	bus := mountBus()
	ready := Handler(bus, signal.Readiness)
	mux := http.NewServeMux()
	mux.Handle("/readyz/", ready)
	r := chi.NewRouter()
	r.Handle("/readyz/*", ready)
	for name, h := range map[string]http.Handler{"ServeMux": mux, "chi": r} {
		for _, path := range []string{"/readyz/", "/readyz/db"} {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
			assert.Equal(t, http.StatusOK, rec.Code, "%s %s", name, path)
		}
	}
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	assert.Equal(t, http.StatusTemporaryRedirect, rec.Code)
	rec = httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	assert.Equal(t, http.StatusNotFound, rec.Code)
	assert.False(t, json.Valid(rec.Body.Bytes()), "chi's own 404")

	mux.Handle("/readyz", ready)
	r.Handle("/readyz", ready)
	for name, h := range map[string]http.Handler{"ServeMux": mux, "chi": r} {
		rec, body := serve(t, h, http.MethodGet, "/readyz")
		assert.Equal(t, http.StatusOK, rec.Code, name)
		assert.Len(t, body["checks"], 2, name)
	}
}
