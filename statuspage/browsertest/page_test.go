package browsertest

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/oarepo/heartbeat/httpapi"
	"github.com/oarepo/heartbeat/internal/testenv"
	"github.com/oarepo/heartbeat/monitor"
	"github.com/oarepo/heartbeat/signal"
	"github.com/oarepo/heartbeat/statuspage"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// xss is a check name that would run a script if the page made markup of it.
const xss = `<img src=x onerror=alert(1)>`

// check is a receiver whose reply the test sets.
type check struct {
	mu   sync.Mutex
	resp signal.Reply
}

func (c *check) set(status bool, data map[string]any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.resp = signal.Reply{Status: status, Data: data}
}

func (c *check) receive(context.Context) signal.Reply {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.resp
}

// service is a bus with a mix of checks behind httpapi.Router, as an
// application serves it.
type service struct {
	bus    *signal.Bus
	url    string
	checks map[string]*check
	probe  func(path string)
}

func newService(t *testing.T, opts ...httpapi.Option) *service {
	bus := signal.NewBus(signal.WithCacheTTL(0))
	s := &service{bus: bus, checks: map[string]*check{}}
	add := func(sig, name string, status bool, data map[string]any) {
		c := &check{}
		c.set(status, data)
		s.checks[name] = c
		bus.Subscribe(sig, c.receive, signal.Named(name))
	}
	add(signal.Readiness, "postgres", true, map[string]any{"time": 0.0031})
	add(signal.Readiness, "redis", true, map[string]any{"time": 0.0004})
	add(signal.Readiness, "opensearch", true, map[string]any{"time": 0.0122, "warning": "cluster health is yellow: 3 replica shards unassigned"})
	add(signal.Readiness, "rabbitmq", false, map[string]any{"error": "dial tcp 10.0.4.7:5672: connect: connection refused"})
	add(signal.Readiness, xss, true, map[string]any{"time": 0.0002})
	add(signal.Liveliness, "goroutines", true, map[string]any{"count": 42})
	add(signal.Startup, "migrations", true, nil)
	mon := monitor.New(bus)
	t.Cleanup(mon.Close)

	r := chi.NewRouter()
	r.Mount(httpapi.DefaultPrefix, httpapi.Router(bus, append(opts, httpapi.WithMonitor(mon))...))
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	s.url = srv.URL + httpapi.DefaultPrefix + "/"
	s.probe = func(path string) { // as the kubelet does: the page itself runs nothing
		resp, err := srv.Client().Get(srv.URL + httpapi.DefaultPrefix + path)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
	}

	// A history to look at: redis flapped a while ago.
	for i := range 14 {
		if i == 5 || i == 6 {
			s.checks["redis"].set(false, map[string]any{"error": "i/o timeout"})
		} else {
			s.checks["redis"].set(true, map[string]any{"time": 0.0004})
		}
		for _, p := range []string{"/readiness", "/liveliness", "/startup"} {
			s.probe(p)
		}
	}
	return s
}

// browser starts Chromium and returns a context to drive it, and the
// problems it has reported so far: console errors and warnings, uncaught
// exceptions, browser log errors (a Content-Security-Policy violation is
// one) and dialogs, which a script injected through a check name would open.
func browser(t *testing.T) (context.Context, func() []string) {
	exec := testenv.Get("CHROMIUM", "/usr/bin/chromium")
	if _, err := os.Stat(exec); err != nil {
		testenv.Unavailable(t, "no Chromium at %s (apt-get install chromium chromium-driver): %v", exec, err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exec), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.Flag("disable-background-networking", true),
		chromedp.WindowSize(1000, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait(); cancelAlloc() })
	require.NoError(t, chromedp.Do(ctx), "start Chromium") // the first run owns the browser: no deadline on it

	var mu sync.Mutex
	var problems []string
	report := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		problems = append(problems, s)
	}
	messages := chromedp.Console(ctx)
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	wg.Go(func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleWarning || m.Type == chromedp.ConsoleException {
				report(m.String())
			}
		}
	})
	wg.Go(func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			report(fmt.Sprintf("dialog %s: %s", ev.Type, ev.Message))
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	})
	ctx, cancelTime := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancelTime)
	return ctx, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(problems)
	}
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	require.NoError(t, err, expr)
	return v
}

// shown is what the page shows: each check card's status by probe and name.
func shown(t *testing.T, ctx context.Context) map[string]string {
	return eval[map[string]string](t, ctx, `Object.fromEntries(Array.from(
		document.querySelectorAll("article.check"), e => [e.dataset.probe + "/" + e.dataset.check, e.dataset.status]))`)
}

func TestStatusPageInChromium(t *testing.T) {
	ctx, problems := browser(t)
	s := newService(t)

	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(s.url), chromedp.WaitVisible(chromedp.CSS(`article.check`))))
	assert.Equal(t, map[string]string{
		"readiness/postgres": "pass", "readiness/redis": "pass", "readiness/opensearch": "warn",
		"readiness/rabbitmq": "fail", "readiness/" + xss: "pass",
		"liveliness/goroutines": "pass", "startup/migrations": "pass",
	}, shown(t, ctx), "every check, with its status")

	assert.Equal(t, "rabbitmq", eval[string](t, ctx, `document.querySelector("#checks article.check .name").textContent`), "failures first")
	assert.Equal(t, "1 of 7 checks failing, 1 warning", eval[string](t, ctx, `document.getElementById("summary").textContent`))
	assert.Contains(t, eval[string](t, ctx, `document.querySelector("article[data-check=opensearch] .warning").textContent`), "cluster health is yellow")
	assert.Contains(t, eval[string](t, ctx, `document.querySelector("article[data-check=rabbitmq] .error").textContent`), "connection refused")
	assert.Equal(t, 0, eval[int](t, ctx, `document.querySelectorAll("img").length`), "a check name never becomes markup")
	assert.Equal(t, xss, eval[string](t, ctx, `Array.from(document.querySelectorAll(".name")).find(e => e.textContent.startsWith("<img")).textContent`), "it is shown as text")
	assert.Equal(t, 14, eval[int](t, ctx, `document.querySelectorAll("article[data-check=postgres] .strip i").length`), "one history mark per run")

	// postgres goes down; the next probe sees it, the page within a refresh.
	s.checks["postgres"].set(false, map[string]any{"error": `connect to 127.0.0.1:5432: password authentication failed for user "app"`})
	s.probe("/readiness")
	changed := time.Now()
	deadline := changed.Add(statuspage.DefaultRefresh + 3*time.Second)
	for shown(t, ctx)["readiness/postgres"] != "fail" && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	assert.Equal(t, "fail", shown(t, ctx)["readiness/postgres"], "the page shows the failure within a refresh")
	t.Logf("the page showed the failure %v after the probe saw it", time.Since(changed).Round(100*time.Millisecond))
	assert.Equal(t, "fail", eval[string](t, ctx, `document.querySelector(".probe[data-probe=readiness]").dataset.status`))
	assert.Equal(t, "2 of 7 checks failing, 1 warning", eval[string](t, ctx, `document.getElementById("summary").textContent`))

	// The screenshots of docs/ are taken on every run, so that the command
	// that regenerates them is known to work; only updateScreenshots writes
	// them. The whole page: as wide as the window, as tall as the document.
	width, height := eval[int](t, ctx, `window.innerWidth`), eval[int](t, ctx, `document.documentElement.scrollHeight`)
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	screenshot(t, "status-page.png", shot, width, height)

	// On a phone: nothing wider than the screen.
	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulatePortrait, chromedp.EmulateMobile)))
	assert.LessOrEqual(t, eval[int](t, ctx, `document.documentElement.scrollWidth`), eval[int](t, ctx, `window.innerWidth`), "the page fits a 390px-wide phone")
	shot, err = chromedp.Run(ctx, chromedp.CaptureScreenshot())
	require.NoError(t, err)
	screenshot(t, "status-page-phone.png", shot, 2*390, 2*844) // the viewport at a device pixel ratio of 2

	// A check subscribed since the last probe is listed as not run yet.
	s.bus.Subscribe(signal.Liveliness, (&check{}).receive, signal.Named("late"))
	deadline = time.Now().Add(statuspage.DefaultRefresh + 3*time.Second)
	for shown(t, ctx)["liveliness/late"] != "pending" && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	assert.Equal(t, "pending", shown(t, ctx)["liveliness/late"])
	assert.Equal(t, "pending", eval[string](t, ctx, `document.querySelector(".probe[data-probe=liveliness]").dataset.status`))
	assert.Equal(t, "2 of 8 checks failing, 1 warning, 1 not run yet by any probe", eval[string](t, ctx, `document.getElementById("summary").textContent`))

	// Failures first across probes too: a failing startup check is drawn
	// above the liveliness check that has not run yet. (The startup probe
	// has latched, so the check is run on the bus, as gRPC health would.)
	s.checks["migrations"].set(false, map[string]any{"error": "schema version 41, want 42"})
	s.bus.Publish(context.Background(), signal.Startup)
	deadline = time.Now().Add(statuspage.DefaultRefresh + 3*time.Second)
	for shown(t, ctx)["startup/migrations"] != "fail" && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	assert.Equal(t, []string{"readiness", "startup", "liveliness"}, sections(t, ctx), "failing probes first, then the one not run yet")

	assert.Empty(t, problems(), "no console error, exception, CSP violation or dialog")

	// The listener above sees a violation when there is one: an inline
	// style the policy forbids.
	eval[chromedp.Void](t, ctx, `document.body.setAttribute("style", "color: red")`)
	require.Eventually(t, func() bool { return len(problems()) > 0 }, 5*time.Second, 50*time.Millisecond)
	assert.Contains(t, strings.Join(problems(), "\n"), "Content Security Policy")
}

func TestAnonymousCallersSeeNamesAndStatusesInChromium(t *testing.T) {
	ctx, problems := browser(t)
	s := newService(t, httpapi.WithDetails(func(*http.Request) bool { return false }))

	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(s.url), chromedp.WaitVisible(chromedp.CSS(`article.check`))))
	assert.Len(t, shown(t, ctx), 7, "every check")
	assert.Equal(t, "fail", shown(t, ctx)["readiness/rabbitmq"])
	assert.Equal(t, "pass", shown(t, ctx)["readiness/opensearch"], "a warning is a detail")
	assert.Equal(t, 0, eval[int](t, ctx, `document.querySelectorAll(".message, .facts, .strip").length`), "no error, warning, time or history")
	assert.True(t, eval[bool](t, ctx, `!document.getElementById("anonymous").hidden`), "the page says details are hidden")
	assert.NotContains(t, eval[string](t, ctx, `document.body.innerText`), "connection refused")

	// Not run yet is a status, shown to every caller: not drawn as failing.
	s.bus.Subscribe(signal.Liveliness, (&check{}).receive, signal.Named("late"))
	deadline := time.Now().Add(statuspage.DefaultRefresh + 3*time.Second)
	for shown(t, ctx)["liveliness/late"] != "pending" && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	assert.Equal(t, "pending", shown(t, ctx)["liveliness/late"])
	assert.Equal(t, "pending", eval[string](t, ctx, `document.querySelector(".probe[data-probe=liveliness]").dataset.status`))
	assert.Equal(t, "1 of 8 checks failing, 1 not run yet by any probe", eval[string](t, ctx, `document.getElementById("summary").textContent`))

	// The failing liveliness probe is drawn above the passing readiness one.
	s.checks["rabbitmq"].set(true, nil)
	s.checks["goroutines"].set(false, map[string]any{"error": "too many"})
	s.probe("/readiness")
	s.probe("/liveliness")
	deadline = time.Now().Add(statuspage.DefaultRefresh + 3*time.Second)
	for shown(t, ctx)["liveliness/goroutines"] != "fail" && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	assert.Equal(t, "fail", shown(t, ctx)["liveliness/goroutines"])
	assert.Equal(t, []string{"liveliness", "readiness", "startup"}, sections(t, ctx), "failing probes first")
	assert.Equal(t, "goroutines", eval[string](t, ctx, `document.querySelector("#checks article.check .name").textContent`))
	assert.Empty(t, problems())
}

// sections are the probes whose checks the page draws, top to bottom.
func sections(t *testing.T, ctx context.Context) []string {
	return eval[[]string](t, ctx, `Array.from(document.querySelectorAll("#checks section h2"), e => e.textContent)`)
}

// updateScreenshots is the environment variable that makes
// TestStatusPageInChromium write its screenshots into docs/images; without
// it they are taken and checked, and the committed files left alone.
const updateScreenshots = "HEARTBEAT_UPDATE_SCREENSHOT"

// screenshot checks that shot is a PNG image of width×height pixels and,
// with updateScreenshots=1, writes it to docs/images/name.
func screenshot(t *testing.T, name string, shot []byte, width, height int) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(shot))
	require.NoError(t, err, "%s is a PNG image", name)
	assert.Equal(t, image.Pt(width, height), img.Bounds().Size(), "%s: width and height in pixels", name)
	if os.Getenv(updateScreenshots) != "1" {
		return
	}
	path := filepath.Join("..", "..", "docs", "images", name)
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, shot, 0o644))
	t.Logf("wrote %s (%d bytes)", path, len(shot))
}

// TestDocsNameTheScreenshotCommand keeps the command docs/operators.md
// gives for regenerating the screenshots the one that does.
func TestDocsNameTheScreenshotCommand(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "operators.md"))
	require.NoError(t, err)
	assert.Contains(t, string(doc),
		"    cd statuspage/browsertest && "+updateScreenshots+"=1 go test -run TestStatusPageInChromium .\n")
	for _, name := range []string{"status-page.png", "status-page-phone.png"} {
		assert.Contains(t, string(doc), "](images/"+name+")", "docs/operators.md shows %s", name)
	}
}

// The page needs its server: a check that it answers before a browser is
// involved, so that a failure above is the page's and not the service's.
func TestServiceServesThePage(t *testing.T) {
	s := newService(t)
	resp, err := http.Get(s.url)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, statuspage.Policy, resp.Header.Get("Content-Security-Policy"))
}
