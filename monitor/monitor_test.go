package monitor

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/oarepo/heartbeat/signal"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// switchable is a receiver whose next reply the test sets.
type switchable struct {
	mu    sync.Mutex
	reply signal.Reply
	hang  chan struct{}
}

func (s *switchable) set(status bool, data map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reply = signal.Reply{Status: status, Data: data}
}

func (s *switchable) receive(context.Context) signal.Reply {
	s.mu.Lock()
	r, hang := s.reply, s.hang
	s.mu.Unlock()
	if hang != nil {
		<-hang
	}
	return r
}

type recorder struct {
	mu  sync.Mutex
	got []Transition
}

func (r *recorder) listen(t Transition) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t.Time = time.Time{}
	r.got = append(r.got, t)
}

func (r *recorder) take() []Transition {
	r.mu.Lock()
	defer r.mu.Unlock()
	got := r.got
	r.got = nil
	return got
}

func TestChecksAndProbesTransitionOnce(t *testing.T) {
	bus := signal.NewBus(signal.WithCacheTTL(0))
	db := &switchable{}
	db.set(true, nil)
	bus.Subscribe(signal.Readiness, db.receive, signal.Named("db"))
	var rec recorder
	m := New(bus, OnTransition(rec.listen))
	defer m.Close()

	probe := func() { bus.Publish(context.Background(), signal.Readiness) }
	probe()
	assert.Equal(t, []Transition{
		{Probe: "readiness", Check: "db", Initial: true, To: true},
		{Probe: "readiness", Initial: true, To: true},
	}, rec.take())
	probe()
	assert.Empty(t, rec.take(), "no change, no transition")

	db.set(false, map[string]any{"error": "dial postgres://app:hunter2@db:5432: refused"})
	probe()
	probe()
	got := rec.take()
	require.Len(t, got, 2)
	assert.Equal(t, Transition{Probe: "readiness", Check: "db", From: true, To: false, Error: got[0].Error}, got[0])
	assert.NotContains(t, got[0].Error, "hunter2")
	assert.Equal(t, "failing: db", got[1].Error)

	p, ok := m.Probe("readiness")
	require.True(t, ok)
	assert.False(t, p.Status)
	require.Len(t, p.Checks, 1)
	c := p.Checks[0]
	assert.Equal(t, Fail, c.Outcome)
	assert.Equal(t, []Outcome{Pass, Pass, Fail, Fail}, c.History)
	assert.Equal(t, map[Outcome]uint64{Pass: 2, Fail: 2}, c.Runs)
	assert.Equal(t, uint64(1), c.Transitions)
	assert.False(t, c.LastSuccess.IsZero())
	assert.NotContains(t, c.Error, "hunter2")
}

func TestThresholdsDebounceStatusOnly(t *testing.T) {
	bus := signal.NewBus(signal.WithCacheTTL(0))
	db := &switchable{}
	db.set(true, nil)
	bus.Subscribe(signal.Liveliness, db.receive, signal.Named("db"))
	var rec recorder
	m := New(bus, WithThresholds(3, 2), OnTransition(rec.listen))
	defer m.Close()
	probe := func(status bool) bool {
		db.set(status, nil)
		return bus.Publish(context.Background(), signal.Liveliness)[0].Status
	}
	probe(true)
	rec.take()
	for i := range 2 {
		assert.False(t, probe(false), "the answer itself is never debounced")
		assert.Empty(t, rec.take(), "failure %d of 3", i+1)
	}
	probe(false)
	assert.Len(t, rec.take(), 2, "third failure: check and probe go down")
	probe(true)
	assert.Empty(t, rec.take(), "one success of 2")
	probe(false)
	probe(true)
	assert.Empty(t, rec.take(), "the streak was broken")
	probe(true)
	assert.Len(t, rec.take(), 2)
}

func TestOutcomesHistoryAndWarnings(t *testing.T) {
	bus := signal.NewBus(signal.WithCacheTTL(0), signal.WithTimeout(100*time.Millisecond))
	var mode atomic.Int32
	release := make(chan struct{})
	defer close(release)
	bus.Subscribe(signal.Startup, func(context.Context) signal.Reply {
		switch mode.Load() {
		case 1:
			return signal.Reply{Status: true, Data: map[string]any{"warning": "pool 90% used"}}
		case 2:
			panic("boom")
		case 3:
			<-release
		}
		return signal.Reply{Status: true}
	}, signal.Named("pool"))
	m := New(bus, WithHistory(3))
	defer m.Close()
	for _, mo := range []int32{0, 1, 2, 3} {
		mode.Store(mo)
		bus.Publish(context.Background(), signal.Startup)
	}
	p, _ := m.Probe("startup")
	c := p.Checks[0]
	assert.Equal(t, []Outcome{Warn, Panic, Timeout}, c.History, "the latest three, oldest first")
	assert.Equal(t, Timeout, c.Outcome)
	assert.Contains(t, c.Error, "timed out")
	assert.Equal(t, uint64(1), c.Runs[Pass])
}

func TestProbesListsUnrunChecksAndIgnoresOtherSignals(t *testing.T) {
	bus := signal.NewBus()
	m := New(bus)
	defer m.Close()
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply { return signal.Reply{Status: true} }, signal.Named("never-run"))
	bus.Subscribe(signal.Environ, func(context.Context) signal.Reply { return signal.Reply{Status: true} })
	bus.Publish(context.Background(), signal.Environ)
	probes := m.Probes()
	require.Len(t, probes, 3)
	assert.Equal(t, []string{"readiness", "liveliness", "startup"}, []string{probes[0].Name, probes[1].Name, probes[2].Name})
	assert.False(t, probes[0].Status, "a check that has not run has not passed")
	assert.Equal(t, Outcome(""), probes[0].Checks[0].Outcome)
	assert.True(t, probes[1].Status, "no checks")
	_, ok := m.Probe("environ")
	assert.False(t, ok)
}

func TestStateHoldsTheSubscribedChecksOnly(t *testing.T) {
	bus := signal.NewBus(signal.WithCacheTTL(0))
	var runs atomic.Int64
	unsubscribe := bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
		// No Named: the check goes by its latest reply's name, new each run.
		return signal.Reply{Name: fmt.Sprintf("shard-%d", runs.Add(1)), Status: true}
	})
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply { return signal.Reply{Status: true} }, signal.Named("db"))
	m := New(bus)
	defer m.Close()

	for range 100 {
		bus.Publish(context.Background(), signal.Readiness)
	}
	m.mu.Lock()
	held := len(m.checks)
	m.mu.Unlock()
	assert.Equal(t, 2, held, "the renamed check's old names are forgotten as runs record new ones")
	p, _ := m.Probe("readiness")
	require.Len(t, p.Checks, 2)
	assert.Equal(t, []string{"shard-100", "db"}, []string{p.Checks[0].Name, p.Checks[1].Name})
	assert.Equal(t, uint64(1), p.Checks[0].Runs[Pass], "a new name is a new check")
	assert.Equal(t, uint64(100), p.Checks[1].Runs[Pass])

	unsubscribe()
	probes := m.Probes()
	require.Len(t, probes[0].Checks, 1)
	assert.Equal(t, "db", probes[0].Checks[0].Name, "an unsubscribed check is gone from Probes")
	m.mu.Lock()
	_, kept := m.checks[key{signal.Readiness, "shard-100"}]
	held = len(m.checks)
	m.mu.Unlock()
	assert.False(t, kept, "and from the state")
	assert.Equal(t, 1, held)
}

func TestListenAndStop(t *testing.T) {
	bus := signal.NewBus(signal.WithCacheTTL(0))
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply { return signal.Reply{Status: true} }, signal.Named("a"))
	m := New(bus)
	var rec recorder
	stop := m.Listen(rec.listen)
	bus.Publish(context.Background(), signal.Readiness)
	assert.Len(t, rec.take(), 2)
	stop()
	m.Close()
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply { return signal.Reply{Status: false} }, signal.Named("b"))
	bus.Publish(context.Background(), signal.Readiness)
	assert.Empty(t, rec.take())
}

func TestLogToLogsFailuresAndRecoveries(t *testing.T) {
	var buf bytes.Buffer
	log := LogTo(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}})))
	log(Transition{Probe: "readiness", Check: "db", Initial: true, To: true})
	log(Transition{Probe: "readiness", Check: "db", From: true, To: false, Error: "refused"})
	log(Transition{Probe: "readiness", Check: "db", From: false, To: true})
	assert.Equal(t, `level=WARN msg="heartbeat: check status changed" probe=readiness check=db from=true to=false error=refused
level=INFO msg="heartbeat: check status changed" probe=readiness check=db from=false to=true
`, buf.String())
}

func TestWarningsMakeTransitionsWithoutChangingStatus(t *testing.T) {
	bus := signal.NewBus(signal.WithCacheTTL(0))
	pool := &switchable{}
	bus.Subscribe(signal.Readiness, pool.receive, signal.Named("pool"))
	var rec recorder
	m := New(bus, OnTransition(rec.listen))
	defer m.Close()
	probe := func(status bool, data map[string]any) []Transition {
		pool.set(status, data)
		bus.Publish(context.Background(), signal.Readiness)
		return rec.take()
	}
	warn := map[string]any{"warning": "pool 90% used by postgres://app:s3cret@db/app"}

	assert.Equal(t, []Transition{
		{Probe: "readiness", Check: "pool", Initial: true, To: true},
		{Probe: "readiness", Initial: true, To: true},
	}, probe(true, nil))
	got := probe(true, warn)
	require.Len(t, got, 1, "a warning changes no status, the probe's included")
	assert.Equal(t, Transition{Probe: "readiness", Check: "pool", From: true, To: true,
		Warning: "pool 90% used by postgres://app:xxxxx@db/app"}, got[0])
	assert.Empty(t, probe(true, map[string]any{"warning": "pool 95% used"}), "a warning that changes its words is no transition")
	assert.Equal(t, []Transition{{Probe: "readiness", Check: "pool", From: true, To: true}}, probe(true, nil), "the warning stopped")
	assert.Len(t, probe(false, map[string]any{"error": "down"}), 2)
	got = probe(true, warn)
	require.Len(t, got, 2)
	assert.Equal(t, "pool 90% used by postgres://app:xxxxx@db/app", got[0].Warning, "a recovery with a warning carries it")
	assert.False(t, got[0].From)

	p, _ := m.Probe("readiness")
	assert.Equal(t, Warn, p.Checks[0].Outcome)
	assert.NotContains(t, p.Checks[0].Warning, "s3cret")
	assert.Equal(t, uint64(2), p.Checks[0].Transitions, "only status changes count")
}

func TestLogToLogsWarnings(t *testing.T) {
	var buf bytes.Buffer
	log := LogTo(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}})))
	log(Transition{Probe: "readiness", Check: "es", Initial: true, To: true, Warning: "cluster yellow"})
	log(Transition{Probe: "readiness", Check: "es", From: true, To: true})
	log(Transition{Probe: "readiness", Check: "es", From: true, To: true, Warning: "cluster yellow"})
	assert.Equal(t, `level=WARN msg="heartbeat: check warning" probe=readiness check=es to=true warning="cluster yellow"
level=INFO msg="heartbeat: check warning cleared" probe=readiness check=es from=true to=true
level=WARN msg="heartbeat: check warning" probe=readiness check=es from=true to=true warning="cluster yellow"
`, buf.String())
}
