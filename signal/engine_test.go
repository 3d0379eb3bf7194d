package signal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A publish whose caller goes away while one receiver starts hanging must
// not strand the others: every later publish reports them as they are.
func TestCanceledPublishDoesNotStrandHealthyReceivers(t *testing.T) {
	for name, misbehave := range map[string]func(release chan struct{}){
		"hangs ignoring ctx": func(release chan struct{}) { <-release },
		"calls Goexit":       func(chan struct{}) { runtime.Goexit() },
		"panics":             func(chan struct{}) { panic("boom") },
	} {
		t.Run(name, func(t *testing.T) {
			b := NewBus(WithTimeout(200*time.Millisecond), WithCacheTTL(0))
			var bad atomic.Bool
			release := make(chan struct{})
			t.Cleanup(func() { close(release) })
			for _, n := range []string{"a", "b"} {
				b.Subscribe(Readiness, ok(n), Named(n))
			}
			b.Subscribe(Readiness, func(context.Context) Reply {
				if bad.Load() {
					misbehave(release)
				}
				return Reply{Status: true}
			}, Named("flaky"))
			for _, n := range []string{"c", "d"} {
				b.Subscribe(Readiness, ok(n), Named(n))
			}
			for range 3 { // warm: every receiver has run and was instant
				require.Len(t, b.Results(context.Background(), Readiness), 5)
			}

			bad.Store(true)
			ctx, cancel := context.WithCancel(context.Background())
			cancel() // the caller hung up before anything ran
			for _, r := range b.Results(ctx, Readiness) {
				if r.Fault != nil && r.Reply.Name != "flaky" {
					assert.ErrorIs(t, r.Fault, ErrCanceled, r.Reply.Name)
				}
			}

			for range 3 {
				all := b.Results(context.Background(), Readiness)
				require.Len(t, all, 5)
				for _, r := range all {
					if r.Reply.Name == "flaky" {
						assert.False(t, r.Reply.Status)
						continue
					}
					assert.True(t, r.Reply.Status, "%s: %v", r.Reply.Name, r.Reply.Data)
				}
				kept := b.Results(context.Background(), Readiness, Select(func(n string) bool { return n != "flaky" }))
				require.Len(t, kept, 4)
				for _, r := range kept {
					assert.True(t, r.Reply.Status, "excluding the bad one leaves only healthy checks: %s %v", r.Reply.Name, r.Reply.Data)
				}
			}
		})
	}
}

func TestDeeplyNestedDataFailsThatCheck(t *testing.T) {
	var deep any = "bottom"
	for range 1_000_000 {
		deep = []any{deep}
	}
	type node struct{ Next *node }
	loop := &node{}
	loop.Next = loop
	b := NewBus()
	b.Subscribe(Readiness, func(context.Context) Reply {
		return Reply{Name: "deep", Status: true, Data: map[string]any{"v": deep}}
	})
	b.Subscribe(Readiness, func(context.Context) Reply {
		return Reply{Name: "loop", Status: true, Data: map[string]any{"v": loop}}
	})
	b.Subscribe(Readiness, func(context.Context) Reply {
		return Reply{Name: "big", Status: true, Data: map[string]any{"v": strings.Repeat("x", 100<<10)}}
	})
	b.Subscribe(Readiness, func(context.Context) Reply {
		return Reply{Name: "fine", Status: true, Data: map[string]any{"v": []any{map[string]any{"a": 1}}}}
	})
	res := b.Results(context.Background(), Readiness)
	require.Len(t, res, 4)
	for _, r := range res[:3] {
		assert.ErrorIs(t, r.Fault, ErrEncoding, r.Reply.Name)
		assert.False(t, r.Reply.Status)
		assert.True(t, json.Valid(encoded(t, r)))
	}
	assert.Contains(t, res[0].Reply.Data["error"], "more than 64 levels deep")
	assert.Contains(t, res[2].Reply.Data["error"], "over 64 KiB")
	assert.True(t, res[3].Reply.Status)
}

func TestInvalidUTF8NamesAndKeysNeverCollapse(t *testing.T) {
	b := NewBus()
	b.Subscribe(Readiness, ok("x"), Named("db\xff"))
	b.Subscribe(Readiness, func(context.Context) Reply {
		return Reply{Name: "x", Status: false, Data: map[string]any{"k\xfe": 1, "k\xff": 2, "k\uFFFD": 3}}
	}, Named("db\xfe"))
	res := b.Results(context.Background(), Readiness)
	require.Len(t, res, 2)
	assert.Equal(t, "db\uFFFD", res[0].Reply.Name)
	assert.Equal(t, "db\uFFFD#2", res[1].Reply.Name, "the failing check keeps a key of its own")
	var obj map[string]any
	require.NoError(t, json.Unmarshal(encoded(t, res[1]), &obj))
	assert.Len(t, obj, 4, "status and three keys: %v", obj)
	assert.Equal(t, []string{"db\uFFFD", "db\uFFFD#2"}, b.Names(Readiness))
}

func TestRenamedDuplicatesAreAddressable(t *testing.T) {
	b := NewBus()
	b.Subscribe(Readiness, ok("db"), Named("db"))
	b.Subscribe(Readiness, fails("db"), Named("db"))
	only := func(name string) PublishOption { return Select(func(n string) bool { return n == name }) }

	second := b.Results(context.Background(), Readiness, only("db#2"))
	require.Len(t, second, 1)
	assert.Equal(t, "db#2", second[0].Reply.Name)
	assert.False(t, second[0].Reply.Status)

	first := b.Results(context.Background(), Readiness, only("db"))
	require.Len(t, first, 1, "db names the first receiver only")
	assert.True(t, first[0].Reply.Status)
}

func TestSelectNeverRunsAReceiverToLearnItsName(t *testing.T) {
	b := NewBus(WithCacheTTL(0))
	var calls atomic.Int32
	b.Subscribe(Readiness, func(context.Context) Reply {
		calls.Add(1)
		return Reply{Name: "a", Status: true}
	})
	b.Subscribe(Readiness, ok("b"), Named("b"))
	got := b.Publish(context.Background(), Readiness, Select(func(n string) bool { return n == "b" }))
	require.Len(t, got, 1)
	assert.Equal(t, "b", got[0].Name)
	assert.Zero(t, calls.Load())

	b.Publish(context.Background(), Readiness) // now "a" has replied under its name
	got = b.Publish(context.Background(), Readiness, Select(func(n string) bool { return n == "a" }))
	require.Len(t, got, 1)
	assert.Equal(t, "a", got[0].Name)
}

func TestEncodingErrorsAreScrubbed(t *testing.T) {
	b := NewBus()
	b.Subscribe(Readiness, func(context.Context) Reply {
		return Reply{Name: "db", Status: true, Data: map[string]any{"v": failingMarshaler{}}}
	})
	b.Subscribe(Readiness, func(context.Context) Reply {
		return Reply{Name: "db2", Status: true, Data: map[string]any{"v": panickingMarshaler{}}}
	})
	for _, r := range b.Results(context.Background(), Readiness) {
		assert.ErrorIs(t, r.Fault, ErrEncoding)
		body := string(encoded(t, r))
		assert.NotContains(t, body, "s3cr3t-pass", r.Reply.Name)
		assert.Contains(t, body, "postgres://app:", r.Reply.Name)
	}
}

type failingMarshaler struct{}

func (failingMarshaler) MarshalJSON() ([]byte, error) {
	return nil, errors.New("cannot reach postgres://app:s3cr3t-pass@db:5432/app")
}

type panickingMarshaler struct{}

func (panickingMarshaler) MarshalJSON() ([]byte, error) {
	panic("lost postgres://app:s3cr3t-pass@db:5432/app")
}

func TestMiddlewareWrapsInOrderInsideTheBusGuarantees(t *testing.T) {
	var mu sync.Mutex
	var order []string
	tag := func(name string) Middleware {
		return func(next Receiver) Receiver {
			return func(ctx context.Context) Reply {
				mu.Lock()
				order = append(order, name)
				mu.Unlock()
				return next(ctx)
			}
		}
	}
	b := NewBus(WithMiddleware(tag("bus1"), tag("bus2")), WithTimeout(100*time.Millisecond))
	b.Subscribe(Readiness, ok("a"), WithMiddleware(tag("sub")))
	b.Subscribe(Liveliness, ok("b"), WithMiddleware(func(Receiver) Receiver {
		return func(context.Context) Reply { panic("middleware bug") }
	}))
	res := b.Results(context.Background(), Readiness)
	require.Len(t, res, 1)
	assert.True(t, res[0].Reply.Status)
	assert.Equal(t, []string{"bus1", "bus2", "sub"}, order)
	res = b.Results(context.Background(), Liveliness)
	require.Len(t, res, 1)
	assert.ErrorIs(t, res[0].Fault, ErrPanic, "the bus still recovers a panicking middleware")
}

func TestObserveReportsEveryRunOnce(t *testing.T) {
	b := NewBus(WithTimeout(50*time.Millisecond), WithCacheTTL(time.Hour))
	type seen struct {
		signal, name string
		status       bool
		fault        error
	}
	var mu sync.Mutex
	var got []seen
	stop := b.Observe(func(signal string, r Result) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, seen{signal, r.Reply.Name, r.Reply.Status, r.Fault})
	})
	hung, _ := hang(t, "hung")
	b.Subscribe(Readiness, ok("a"))
	b.Subscribe(Readiness, hung, Named("hung"))
	for range 5 {
		b.Results(context.Background(), Readiness)
	}
	mu.Lock()
	require.Len(t, got, 2, "one run each: the reply of a is reused, the hung run reported once: %v", got)
	mu.Unlock()
	assert.Contains(t, got, seen{Readiness, "a", true, nil})
	for _, s := range got {
		if s.name == "hung" {
			assert.ErrorIs(t, s.fault, ErrTimeout)
		}
	}
	stop()
	b.Subscribe(Liveliness, ok("c"))
	b.Results(context.Background(), Liveliness)
	assert.Len(t, got, 2, "stopped")
}

func TestMisspeltProbeSignalPanics(t *testing.T) {
	b := NewBus()
	for _, name := range []string{"readiness", "Liveness", "oarepo.probe.readyness", "oarepo.probe.startup.x", "environ"} {
		assert.Panics(t, func() { b.Subscribe(name, ok("x")) }, name)
	}
	assert.NotPanics(t, func() { b.Subscribe("myapp.cache.warmed", ok("x")) }, "a signal of the user's own")
	assert.PanicsWithValue(t, `signal: Subscribe("readiness"): no probe publishes the signal "readiness"; did you mean "oarepo.probe.readiness"?`,
		func() { b.Subscribe("readiness", ok("x")) })
}

func BenchmarkResultsReused(b *testing.B) {
	for _, n := range []int{1, 10, 100} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			bus := NewBus()
			for i := range n {
				bus.Subscribe(Readiness, ok(fmt.Sprint("check", i)))
			}
			ctx := context.Background()
			bus.Results(ctx, Readiness)
			b.ReportAllocs()
			for b.Loop() {
				bus.Results(ctx, Readiness)
			}
		})
	}
}

func TestReceiverMessagesAreScrubbed(t *testing.T) {
	b := NewBus()
	var observed []Result
	var mu sync.Mutex
	b.Observe(func(_ string, r Result) {
		mu.Lock()
		defer mu.Unlock()
		observed = append(observed, r)
	})
	b.Subscribe(Readiness, func(context.Context) Reply {
		return Reply{Name: "db", Data: map[string]any{"error": "dial postgres://app:hunter2pw@db:5432/app: refused"}}
	})
	b.Subscribe(Readiness, fails("plain"))

	res := b.Results(context.Background(), Readiness)
	require.Len(t, res, 2)
	assert.Contains(t, res[0].Reply.Data["error"], "dial postgres://app:")
	assert.Contains(t, res[0].Reply.Data["error"], "@db:5432/app: refused")
	assert.Equal(t, "down", res[1].Reply.Data["error"], "an error without secrets is unchanged")
	assert.Nil(t, res[1].Fault)

	body, err := json.Marshal(res)
	require.NoError(t, err)
	assert.Contains(t, string(body), `"error":"down"`)
	published := fmt.Sprint(b.Publish(context.Background(), Readiness))
	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, observed)
	for _, out := range []string{fmt.Sprint(res), string(body), string(encoded(t, res[0])), published, fmt.Sprint(observed)} {
		assert.NotContains(t, out, "hunter2pw")
	}
}

func TestReceiverFailingAtItsDeadlineIsATimeout(t *testing.T) {
	b := NewBus(WithTimeout(500 * time.Millisecond))
	b.Subscribe(Readiness, func(ctx context.Context) Reply {
		<-ctx.Done()
		return Reply{Name: "db", Data: map[string]any{"error": "timed out after 450ms"}}
	})
	b.Subscribe(Readiness, fails("quick"))

	// On a busy machine the bus may give up on the first run before the
	// receiver's reply arrives, 50 ms later; the run's own outcome is then
	// what the next probes reuse, so judge that.
	var res []Result
	require.Eventually(t, func() bool {
		res = b.Results(context.Background(), Readiness)
		return len(res) == 2 && res[0].Reused
	}, 5*time.Second, 10*time.Millisecond)
	assert.ErrorIs(t, res[0].Fault, ErrTimeout, "monitor counts it as a timeout")
	assert.Equal(t, "db", res[0].Reply.Name)
	assert.Equal(t, map[string]any{"error": "timed out after 450ms"}, res[0].Reply.Data, "its own words are kept")
	assert.JSONEq(t, `{"status":false,"error":"timed out after 450ms"}`, string(encoded(t, res[0])))
	assert.Nil(t, res[1].Fault, "a receiver that fails quickly is no timeout")
	assert.False(t, res[1].Reply.Status)
}
