package browsertest

import (
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oarepo/heartbeat/statuspage"
)

// The page of the example server the README runs, in Chromium: every check
// of the example is shown, and when the example starts draining (SIGTERM),
// its "shutdown" check is shown failing within a refresh of the page.
func TestTheExampleServesThePageInChromium(t *testing.T) {
	ctx, problems := browser(t)

	bin := filepath.Join(t.TempDir(), "quickstart")
	build := exec.Command("go", "build", "-o", bin, "./quickstart")
	build.Dir = filepath.Join("..", "..", "examples") // its module, in or out of the workspace
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build ./examples/quickstart: %s", out)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	cmd := exec.Command(bin, "-addr="+addr, "-grpc-addr=", "-drain-delay=1m")
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-exited })

	base := "http://" + addr + "/.well-known/heartbeat"
	probe := func(path string) int {
		resp, err := http.Get(base + path)
		if err != nil {
			return 0
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	require.Eventually(t, func() bool { return probe("/readiness") == http.StatusOK }, 10*time.Second, 50*time.Millisecond,
		"the example answers")
	for _, p := range []string{"/liveliness", "/startup"} {
		require.Equal(t, http.StatusOK, probe(p), p)
	}

	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS(`article.check`))))
	assert.Equal(t, map[string]string{
		"readiness/sample": "pass", "readiness/shutdown": "pass",
		"liveliness/process": "pass", "startup/warmup": "pass",
	}, shown(t, ctx), "every check of the example")

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM)) // the example drains, serving on
	require.Eventually(t, func() bool { return probe("/readiness") == http.StatusInternalServerError },
		5*time.Second, 20*time.Millisecond, "readiness fails once the signal has arrived")
	deadline := time.Now().Add(statuspage.DefaultRefresh + 3*time.Second)
	for shown(t, ctx)["readiness/shutdown"] != "fail" && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	assert.Equal(t, "fail", shown(t, ctx)["readiness/shutdown"], "the page shows the drain within a refresh")
	assert.Equal(t, "pass", shown(t, ctx)["liveliness/process"], "draining is not dying")
	assert.Empty(t, problems(), "no console error, exception, CSP violation or dialog")
}
