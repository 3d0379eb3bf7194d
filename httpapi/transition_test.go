package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oarepo/heartbeat/probes"
	"github.com/oarepo/heartbeat/signal"
)

// syncBuffer is a bytes.Buffer a slog handler may write from many probes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) records(t *testing.T) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(s.b.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m))
		out = append(out, m)
	}
	return out
}

func TestTransitionsAreLoggedOncePerFlip(t *testing.T) {
	bus := signal.NewBus(signal.WithCacheTTL(0))
	var up atomic.Bool
	up.Store(true)
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
		if up.Load() {
			return signal.Reply{Name: "db", Status: true}
		}
		return signal.Reply{Name: "db", Status: false, Data: map[string]any{"error": "password=s3cr3tpass refused"}}
	}, signal.Named("db"))
	var logs syncBuffer
	var mu sync.Mutex
	var seen []probes.Transition
	h := Router(bus,
		WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))),
		OnTransition(func(tr probes.Transition) { mu.Lock(); seen = append(seen, tr); mu.Unlock() }))

	probeN := func(n int) {
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() { serve(t, h, http.MethodGet, readiness) })
		}
		wg.Wait()
	}
	probeN(10)
	assert.Empty(t, logs.records(t), "passing from the start logs nothing")
	up.Store(false)
	probeN(10)
	up.Store(true)
	probeN(10)

	recs := logs.records(t)
	require.Len(t, recs, 4, "one record per flip of the check and of the probe, not one per request")
	assert.Equal(t, "heartbeat: check status changed", recs[0]["msg"])
	assert.Equal(t, "db", recs[0]["check"])
	assert.Equal(t, "password=xxxxx refused", recs[0]["error"], "no secret reaches the log")
	assert.Equal(t, "WARN", recs[0]["level"])
	assert.Equal(t, "heartbeat: probe status changed", recs[1]["msg"])
	assert.Equal(t, "INFO", recs[2]["level"])

	mu.Lock()
	defer mu.Unlock()
	assert.Len(t, seen, 6, "initial db and readiness, then two flips each")
}

func TestPerCheckPathsReportCheckTransitionsOnly(t *testing.T) {
	bus := signal.NewBus()
	bus.Subscribe(signal.Liveliness, func(context.Context) signal.Reply { return signal.Reply{Name: "loop", Status: false} }, signal.Named("loop"))
	var seen []probes.Transition
	h := Router(bus, OnTransition(func(tr probes.Transition) { seen = append(seen, tr) }))
	serve(t, h, http.MethodGet, "/.well-known/heartbeat/liveness/loop")
	require.Len(t, seen, 1)
	assert.Equal(t, probes.Transition{Probe: "liveliness", Check: "loop", Initial: true, Error: "status false", Time: seen[0].Time}, seen[0],
		"liveness and liveliness are one probe")
}
