package probes

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oarepo/heartbeat/signal"
)

// capture is a slog.Handler that keeps every record.
type capture struct {
	mu      sync.Mutex
	records []slog.Record
}

func (c *capture) Enabled(context.Context, slog.Level) bool { return true }
func (c *capture) Handle(_ context.Context, r slog.Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.records = append(c.records, r.Clone())
	return nil
}
func (c *capture) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *capture) WithGroup(string) slog.Handler      { return c }

func (c *capture) lines() []map[string]any {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []map[string]any
	for _, r := range c.records {
		m := map[string]any{"msg": r.Message, "level": r.Level.String()}
		r.Attrs(func(a slog.Attr) bool { m[a.Key] = a.Value.Any(); return true })
		out = append(out, m)
	}
	return out
}

func report(checks ...signal.Reply) Report {
	rep := Report{Status: true}
	for _, c := range checks {
		rep.Checks = append(rep.Checks, signal.Result{Reply: c})
		if !c.Status {
			rep.Status = false
		}
	}
	return rep
}

func TestTrackerLogsEachFlipOnce(t *testing.T) {
	logs := &capture{}
	var got []Transition
	tr := NewTracker(slog.New(logs), func(x Transition) { got = append(got, x) })
	t0 := time.Now()
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Millisecond) }
	ok := signal.Reply{Name: "db", Status: true}
	bad := signal.Reply{Name: "db", Status: false, Data: map[string]any{"error": "dial postgres://app:hunter22@db:5432/app: refused"}}

	tr.Observe("readiness", at(0), report(ok), true)
	assert.Empty(t, logs.lines(), "a first status that passes is not news")
	require.Len(t, got, 2, "listeners learn the starting state")
	assert.Equal(t, Transition{Probe: "readiness", Check: "db", Initial: true, To: true, Time: at(0)}, got[0])
	assert.Equal(t, Transition{Probe: "readiness", Initial: true, To: true, Time: at(0)}, got[1])

	for i := 1; i <= 5; i++ {
		tr.Observe("readiness", at(i), report(bad), true) // five probes, one flip
	}
	lines := logs.lines()
	require.Len(t, lines, 2)
	assert.Equal(t, map[string]any{"msg": "heartbeat: check status changed", "level": "WARN", "probe": "readiness",
		"check": "db", "from": true, "to": false, "error": "dial postgres://app:xxxxx@db:5432/app: refused"}, lines[0])
	assert.Equal(t, map[string]any{"msg": "heartbeat: probe status changed", "level": "WARN", "probe": "readiness",
		"from": true, "to": false, "error": "failing: db"}, lines[1])
	assert.NotContains(t, got[2].Error, "hunter22")

	tr.Observe("readiness", at(6), report(ok), true)
	lines = logs.lines()
	require.Len(t, lines, 4)
	assert.Equal(t, "INFO", lines[2]["level"])
	assert.Equal(t, false, lines[2]["from"])
	assert.Equal(t, true, lines[2]["to"])
	assert.NotContains(t, lines[2], "error")
	assert.Len(t, got, 6)
}

func TestTrackerFirstFailureIsLoggedWithoutFrom(t *testing.T) {
	logs := &capture{}
	tr := NewTracker(slog.New(logs))
	tr.Observe("startup", time.Now(), report(signal.Reply{Name: "migrations", Status: false, Data: map[string]any{"message": "pending"}}), true)
	lines := logs.lines()
	require.Len(t, lines, 2)
	assert.Equal(t, map[string]any{"msg": "heartbeat: check failing", "level": "WARN", "probe": "startup",
		"check": "migrations", "to": false, "error": "pending"}, lines[0])
	assert.Equal(t, "heartbeat: probe failing", lines[1]["msg"])
}

func TestTrackerIgnoresStaleAndPartialObservations(t *testing.T) {
	var got []Transition
	tr := NewTracker(nil, func(x Transition) { got = append(got, x) })
	t0 := time.Now()
	ok := signal.Reply{Name: "db", Status: true}
	bad := signal.Reply{Name: "db", Status: false}

	tr.Observe("readiness", t0, report(ok), true)
	tr.Observe("readiness", t0.Add(2*time.Millisecond), report(bad), true)
	got = nil
	// A probe that started earlier but finished later cannot undo the flip.
	tr.Observe("readiness", t0.Add(time.Millisecond), report(ok), true)
	assert.Empty(t, got)

	// A partial probe reports the check, not the probe.
	tr.Observe("readiness", t0.Add(3*time.Millisecond), report(ok), false)
	require.Len(t, got, 1)
	assert.Equal(t, "db", got[0].Check)

	// Probes are tracked apart.
	got = nil
	tr.Observe("liveliness", t0.Add(4*time.Millisecond), report(ok), true)
	assert.Len(t, got, 2)
	assert.True(t, got[0].Initial)
}

func TestTrackerIsRaceFree(t *testing.T) {
	var n sync.Map
	tr := NewTracker(slog.New(&capture{}), func(x Transition) { n.Store(x.Check, true) })
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 100 {
				tr.Observe("readiness", time.Now(), report(signal.Reply{Name: "db", Status: (i+j)%2 == 0}), true)
			}
		})
	}
	wg.Wait()
	_, ok := n.Load("db")
	assert.True(t, ok)
}
