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

func TestQuickstartServesEveryProbe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, "127.0.0.1:0", ready) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("quickstart did not start: %v", err)
	}

	for _, probe := range []string{"readiness", "liveliness", "environ"} {
		resp, err := http.Get("http://" + addr + "/.well-known/heartbeat/" + probe)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s", probe, body)
		var got map[string]any
		require.NoError(t, json.Unmarshal(body, &got), probe)
		assert.Equal(t, true, got["status"], probe)
	}

	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(15 * time.Second):
		t.Fatal("quickstart did not shut down")
	}
}
