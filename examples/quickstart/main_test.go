package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// start runs the quickstart on a free port until the test ends.
func start(t *testing.T, ctx context.Context, o options) (addr string, done <-chan error) {
	t.Helper()
	o.addr = "127.0.0.1:0"
	ready := make(chan string, 1)
	errc := make(chan error, 1)
	go func() { errc <- run(ctx, o, ready) }()
	select {
	case addr = <-ready:
	case err := <-errc:
		t.Fatalf("quickstart did not start: %v", err)
	}
	return addr, errc
}

func probe(t *testing.T, addr, path string) (int, map[string]any) {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	resp, err := client.Get("http://" + addr + "/.well-known/heartbeat/" + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var got map[string]any
	require.NoError(t, json.Unmarshal(body, &got), "%s: %s", path, body)
	return resp.StatusCode, got
}

func TestQuickstartServesEveryProbe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	addr, done := start(t, ctx, options{})

	for _, path := range []string{"readiness", "liveliness", "liveness", "startup", "environ", "readiness/sample"} {
		code, body := probe(t, addr, path)
		assert.Equal(t, http.StatusOK, code, "%s: %v", path, body)
		assert.Equal(t, true, body["status"], path)
	}
	page, err := http.Get("http://" + addr + "/.well-known/heartbeat/")
	require.NoError(t, err)
	_ = page.Body.Close()
	assert.Equal(t, http.StatusOK, page.StatusCode)
	assert.Contains(t, page.Header.Get("Content-Type"), "text/html", "the status page")

	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(15 * time.Second):
		t.Fatal("quickstart did not shut down")
	}
}

func TestQuickstartStartupWaitsForWarmup(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, _ := start(t, ctx, options{warmup: time.Hour})
	code, body := probe(t, addr, "startup")
	assert.Equal(t, http.StatusInternalServerError, code)
	assert.Contains(t, body["checks"].(map[string]any)["warmup"].(map[string]any)["error"], "warming up")
	code, _ = probe(t, addr, "liveness")
	assert.Equal(t, http.StatusOK, code, "a slow start does not fail liveness")
}

func TestQuickstartDrainsBeforeShuttingDown(t *testing.T) {
	const delay = time.Second
	ctx, cancel := context.WithCancel(context.Background())
	addr, done := start(t, ctx, options{drainDelay: delay})
	began := time.Now()
	cancel()

	require.Eventually(t, func() bool {
		code, _ := probe(t, addr, "readiness")
		return code == http.StatusInternalServerError
	}, 5*time.Second, 10*time.Millisecond)
	code, body := probe(t, addr, "readiness")
	require.Equal(t, http.StatusInternalServerError, code)
	assert.Contains(t, body["checks"], "shutdown")
	code, _ = probe(t, addr, "liveness")
	assert.Equal(t, http.StatusOK, code)

	select {
	case err := <-done:
		assert.NoError(t, err)
		assert.GreaterOrEqual(t, time.Since(began), delay)
	case <-time.After(15 * time.Second):
		t.Fatal("quickstart did not shut down")
	}
}
