package signal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func ok(name string) Receiver {
	return func(context.Context) Reply { return Reply{Name: name, Status: true} }
}

func fails(name string) Receiver {
	return func(context.Context) Reply {
		return Reply{Name: name, Status: false, Data: map[string]any{"error": "down"}}
	}
}

// hang returns a receiver that ignores its context and blocks until the test
// ends, and a counter of its calls.
func hang(t *testing.T, name string) (Receiver, *atomic.Int32) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	var calls atomic.Int32
	return func(context.Context) Reply {
		calls.Add(1)
		<-release
		return Reply{Name: name, Status: true}
	}, &calls
}

func TestPublishWithoutReceivers(t *testing.T) {
	b := NewBus()
	assert.Empty(t, b.Publish(context.Background(), Readiness))
	assert.Empty(t, b.Names(Readiness))
}

func TestPublishReturnsRepliesInSubscriptionOrder(t *testing.T) {
	b := NewBus()
	b.Subscribe(Readiness, ok("a"))
	b.Subscribe(Readiness, fails("b"))
	b.Subscribe(Liveliness, ok("other signal"))
	b.Subscribe(Readiness, ok("c"))

	replies := b.Publish(context.Background(), Readiness)
	require.Len(t, replies, 3)
	assert.Equal(t, []string{"a", "b", "c"}, []string{replies[0].Name, replies[1].Name, replies[2].Name})
	assert.True(t, replies[0].Status)
	assert.False(t, replies[1].Status)
	assert.Equal(t, "down", replies[1].Data["error"])
}

func TestCheckJSONStatusWinsOverData(t *testing.T) {
	b := NewBus()
	b.Subscribe(Readiness, func(context.Context) Reply {
		return Reply{Name: "db", Status: false, Data: map[string]any{"status": true, "time": 0.5, "<b>": "x&y"}}
	})
	res := b.Collect(context.Background(), Readiness)
	require.Len(t, res, 1)
	var got map[string]any
	require.NoError(t, json.Unmarshal(res[0].JSON, &got))
	assert.Equal(t, map[string]any{"status": false, "time": 0.5, "<b>": "x&y"}, got)
	assert.Equal(t, `{"status":false,"\u003cb\u003e":"x\u0026y","time":0.5}`, string(res[0].JSON))
}

func TestReceiversRunConcurrently(t *testing.T) {
	b := NewBus()
	for i := range 20 {
		b.Subscribe(Readiness, func(ctx context.Context) Reply {
			time.Sleep(50 * time.Millisecond)
			return Reply{Name: fmt.Sprint("slow", i), Status: true}
		})
	}
	start := time.Now()
	replies := b.Publish(context.Background(), Readiness)
	elapsed := time.Since(start)
	require.Len(t, replies, 20)
	for _, r := range replies {
		assert.True(t, r.Status, r.Name)
	}
	// Sequential would take 1 s; concurrent about 50 ms.
	assert.Less(t, elapsed, 500*time.Millisecond)
}

func TestHungReceiverTimesOutUnderItsName(t *testing.T) {
	b := NewBus(WithTimeout(100 * time.Millisecond))
	hung, _ := hang(t, "ignored")
	b.Subscribe(Readiness, hung, Named("search"))
	b.Subscribe(Readiness, ok("db"))

	start := time.Now()
	res := b.Collect(context.Background(), Readiness)
	elapsed := time.Since(start)
	assert.Less(t, elapsed, 600*time.Millisecond, "the publish must not wait for a hung receiver")
	require.Len(t, res, 2)
	assert.Equal(t, "search", res[0].Reply.Name)
	assert.False(t, res[0].Reply.Status)
	assert.ErrorIs(t, res[0].Fault, ErrTimeout)
	assert.Contains(t, res[0].Reply.Data["error"], "timed out after 100ms")
	assert.True(t, res[1].Reply.Status)
}

func TestReceiverContextExpiresBeforeTheBusGivesUp(t *testing.T) {
	b := NewBus(WithTimeout(200 * time.Millisecond))
	b.Subscribe(Readiness, func(ctx context.Context) Reply {
		<-ctx.Done()
		return Reply{Name: "db", Data: map[string]any{"error": "dial: " + ctx.Err().Error()}}
	})
	r := b.Publish(context.Background(), Readiness)
	require.Len(t, r, 1)
	// The receiver's own explanation arrives, not the bus's generic timeout.
	assert.Equal(t, "dial: context deadline exceeded", r[0].Data["error"])
}

func TestLateReplyIsReportedAsTimeout(t *testing.T) {
	b := NewBus(WithTimeout(50*time.Millisecond), WithCacheTTL(time.Minute))
	b.Subscribe(Readiness, func(context.Context) Reply {
		time.Sleep(150 * time.Millisecond)
		return Reply{Name: "slow", Status: true}
	})
	first := b.Collect(context.Background(), Readiness)
	require.Len(t, first, 1)
	assert.ErrorIs(t, first[0].Fault, ErrTimeout)

	require.Eventually(t, func() bool {
		r := b.Collect(context.Background(), Readiness)
		return r[0].Reused
	}, 2*time.Second, 20*time.Millisecond)
	r := b.Collect(context.Background(), Readiness)[0]
	assert.False(t, r.Reply.Status, "a reply after the deadline does not count as passing")
	assert.ErrorIs(t, r.Fault, ErrTimeout)
	assert.Contains(t, r.Reply.Data["error"], "the reply came after")
}

func TestPanickingReceiverBecomesFailedCheck(t *testing.T) {
	b := NewBus()
	b.Subscribe(Readiness, func(context.Context) Reply { panic("boom: nil map") }, Named("bad"))
	b.Subscribe(Readiness, func(context.Context) Reply { panic(errors.New("wrapped")) })
	b.Subscribe(Readiness, func(context.Context) Reply { runtime.Goexit(); return Reply{} }, Named("exits"))
	b.Subscribe(Readiness, ok("good"))

	res := b.Collect(context.Background(), Readiness)
	require.Len(t, res, 4)
	assert.Equal(t, "bad", res[0].Reply.Name)
	assert.ErrorIs(t, res[0].Fault, ErrPanic)
	assert.Contains(t, res[0].Reply.Data["error"], "boom: nil map")
	assert.Contains(t, res[1].Reply.Data["error"], "wrapped")
	assert.NotEmpty(t, res[1].Reply.Name)
	assert.ErrorIs(t, res[2].Fault, ErrPanic)
	assert.Contains(t, res[2].Reply.Data["error"], "Goexit")
	assert.True(t, res[3].Reply.Status)
}

func TestPanicMessageIsScrubbed(t *testing.T) {
	b := NewBus()
	b.Subscribe(Readiness, func(context.Context) Reply {
		panic("cannot connect to postgres://app:Hunter2-secret@db:5432/app")
	}, Named("db"))
	r := b.Publish(context.Background(), Readiness)[0]
	assert.Contains(t, r.Data["error"], "postgres://app:")
	assert.NotContains(t, r.Data["error"], "Hunter2-secret")
}

func TestConcurrentPublishesShareOneRun(t *testing.T) {
	b := NewBus(WithCacheTTL(0))
	var calls, running, most atomic.Int32
	b.Subscribe(Readiness, func(context.Context) Reply {
		calls.Add(1)
		n := running.Add(1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(100 * time.Millisecond)
		running.Add(-1)
		return Reply{Name: "db", Status: true}
	})

	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 1000 {
		wg.Go(func() {
			<-start
			r := b.Publish(context.Background(), Readiness)
			assert.True(t, r[0].Status)
		})
	}
	close(start)
	wg.Wait()
	assert.Equal(t, int32(1), most.Load(), "a receiver never runs twice at once")
	// Every publish started within the one 100 ms run; allow a straggler.
	assert.LessOrEqual(t, calls.Load(), int32(2))
}

func TestHungReceiverHoldsOneGoroutine(t *testing.T) {
	b := NewBus(WithTimeout(50 * time.Millisecond))
	hung, calls := hang(t, "hung")
	b.Subscribe(Readiness, hung)
	before := runtime.NumGoroutine()

	var wg sync.WaitGroup
	for range 200 {
		wg.Go(func() {
			r := b.Publish(context.Background(), Readiness)
			assert.False(t, r[0].Status)
		})
	}
	wg.Wait()
	for range 5 {
		r := b.Collect(context.Background(), Readiness)
		assert.ErrorIs(t, r[0].Fault, ErrTimeout)
	}
	assert.Equal(t, int32(1), calls.Load())
	// The later publishes say the check hangs, not merely that it is slow.
	time.Sleep(50 * time.Millisecond)
	r := b.Publish(context.Background(), Readiness)
	assert.Contains(t, r[0].Data["error"], "has been running for")
	assert.LessOrEqual(t, runtime.NumGoroutine(), before+2)
}

func TestCachedReplyIsReusedWithinTTL(t *testing.T) {
	b := NewBus(WithCacheTTL(200 * time.Millisecond))
	var calls atomic.Int32
	b.Subscribe(Readiness, func(context.Context) Reply {
		calls.Add(1)
		return Reply{Name: "db", Status: true}
	})
	first := b.Collect(context.Background(), Readiness)
	second := b.Collect(context.Background(), Readiness)
	assert.False(t, first[0].Reused)
	assert.True(t, second[0].Reused)
	assert.Equal(t, int32(1), calls.Load())

	time.Sleep(250 * time.Millisecond)
	third := b.Collect(context.Background(), Readiness)
	assert.False(t, third[0].Reused)
	assert.Equal(t, int32(2), calls.Load())
}

func TestReceiverCacheTTLOverridesBus(t *testing.T) {
	b := NewBus(WithCacheTTL(time.Hour))
	var calls atomic.Int32
	b.Subscribe(Readiness, func(context.Context) Reply {
		calls.Add(1)
		return Reply{Name: "fresh", Status: true}
	}, ReceiverCacheTTL(0))
	for range 3 {
		b.Publish(context.Background(), Readiness)
	}
	assert.Equal(t, int32(3), calls.Load())
}

func TestReceiverTimeoutOverridesBus(t *testing.T) {
	b := NewBus(WithTimeout(time.Hour))
	hung, _ := hang(t, "x")
	b.Subscribe(Readiness, hung, ReceiverTimeout(30*time.Millisecond))
	start := time.Now()
	r := b.Collect(context.Background(), Readiness)
	assert.Less(t, time.Since(start), 2*time.Second)
	assert.ErrorIs(t, r[0].Fault, ErrTimeout)
}

func TestCanceledPublishReturnsAtOnce(t *testing.T) {
	b := NewBus(WithTimeout(time.Hour))
	hung, _ := hang(t, "x")
	b.Subscribe(Readiness, hung, Named("x"))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	r := b.Collect(ctx, Readiness)
	assert.Less(t, time.Since(start), 2*time.Second)
	assert.ErrorIs(t, r[0].Fault, ErrCanceled)
	assert.Contains(t, r[0].Reply.Data["error"], "deadline exceeded")
}

func TestNames(t *testing.T) {
	b := NewBus()
	hung, _ := hang(t, "never")
	b.Subscribe(Readiness, ok("from-reply"))
	b.Subscribe(Readiness, ok("overridden"), Named("explicit"))
	b.Subscribe(Readiness, ok(""))
	b.Subscribe(Readiness, ok("dup"))
	b.Subscribe(Readiness, ok("dup"))
	b.Subscribe(Readiness, hung, Named("hung"), ReceiverTimeout(20*time.Millisecond))

	replies := b.Publish(context.Background(), Readiness)
	names := make([]string, len(replies))
	for i, r := range replies {
		names[i] = r.Name
	}
	assert.Regexp(t, `^signal\..*ok$`, names[2], "an empty name falls back to the function's")
	names[2] = "derived"
	assert.Equal(t, []string{"from-reply", "explicit", "derived", "dup", "dup#2", "hung"}, names)
	known := b.Names(Readiness)
	known[2] = "derived"
	assert.Equal(t, []string{"from-reply", "explicit", "derived", "dup", "dup", "hung"}, known)
}

func TestTimeoutKeepsTheNameOfEarlierReplies(t *testing.T) {
	b := NewBus(WithTimeout(50*time.Millisecond), WithCacheTTL(0))
	var hangNow atomic.Bool
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	b.Subscribe(Readiness, func(context.Context) Reply {
		if hangNow.Load() {
			<-release
		}
		return Reply{Name: "database", Status: true}
	})
	assert.Equal(t, "database", b.Publish(context.Background(), Readiness)[0].Name)
	hangNow.Store(true)
	r := b.Publish(context.Background(), Readiness)[0]
	assert.Equal(t, "database", r.Name)
	assert.False(t, r.Status)
}

func TestUnsubscribeRemovesExactlyTheOneMeant(t *testing.T) {
	b := NewBus()
	make3 := func(name string) Receiver { // one function literal, three closures
		return func(context.Context) Reply { return Reply{Name: name, Status: true} }
	}
	b.Subscribe(Readiness, make3("first"))
	unsub := b.Subscribe(Readiness, make3("middle"))
	b.Subscribe(Readiness, make3("last"))

	unsub()
	unsub() // a second call does nothing
	got := b.Publish(context.Background(), Readiness)
	require.Len(t, got, 2)
	assert.Equal(t, "first", got[0].Name)
	assert.Equal(t, "last", got[1].Name)
}

func TestUnsubscribeTheSameFunctionTwiceSubscribed(t *testing.T) {
	b := NewBus()
	r := ok("same")
	u1 := b.Subscribe(Readiness, r, Named("one"))
	b.Subscribe(Readiness, r, Named("two"))
	u1()
	assert.Equal(t, []string{"two"}, b.Names(Readiness))
}

func TestSubscribeAndUnsubscribeDuringPublish(t *testing.T) {
	b := NewBus(WithCacheTTL(0))
	inside := make(chan struct{})
	proceed := make(chan struct{})
	var once sync.Once
	b.Subscribe(Readiness, func(context.Context) Reply {
		once.Do(func() { close(inside) })
		<-proceed
		return Reply{Name: "slow", Status: true}
	}, Named("slow"))
	done := make(chan []Reply)
	go func() { done <- b.Publish(context.Background(), Readiness) }()
	<-inside
	unsub := b.Subscribe(Readiness, ok("added"), Named("added"))
	assert.Equal(t, []string{"slow", "added"}, b.Names(Readiness))
	unsub()
	close(proceed)
	assert.Len(t, <-done, 1)
}

func TestReceiverThatPublishesAndSubscribes(t *testing.T) {
	b := NewBus(WithCacheTTL(0))
	b.Subscribe(Liveliness, ok("inner"))
	b.Subscribe(Readiness, func(ctx context.Context) Reply {
		inner := b.Publish(ctx, Liveliness)
		unsub := b.Subscribe(Environ, ok("temp"))
		unsub()
		return Reply{Name: "outer", Status: len(inner) == 1 && inner[0].Status}
	})

	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			r := b.Publish(context.Background(), Readiness)
			assert.True(t, r[0].Status)
		})
	}
	wg.Wait()
}

func TestReceiverThatPublishesItsOwnSignalDoesNotDeadlock(t *testing.T) {
	b := NewBus(WithTimeout(100 * time.Millisecond))
	b.Subscribe(Readiness, func(ctx context.Context) Reply {
		// Its own run is under way, so this publish waits on it and times out.
		inner := b.Publish(ctx, Readiness)
		return Reply{Name: "self", Status: len(inner) == 1}
	}, Named("self"))
	done := make(chan struct{})
	go func() { b.Publish(context.Background(), Readiness); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("a receiver that publishes its own signal deadlocked the bus")
	}
}

func TestUnencodableDataFailsThatCheckOnly(t *testing.T) {
	cyclic := map[string]any{}
	cyclic["self"] = cyclic
	cases := map[string]any{
		"nan":     math.NaN(),
		"inf":     math.Inf(1),
		"channel": make(chan int),
		"func":    func() {},
		"cycle":   cyclic,
		"panics":  panicky{},
	}
	b := NewBus()
	for name, v := range cases {
		b.Subscribe(Readiness, func(context.Context) Reply {
			return Reply{Name: name, Status: true, Data: map[string]any{"value": v}}
		})
	}
	b.Subscribe(Readiness, ok("fine"))

	res := b.Collect(context.Background(), Readiness)
	require.Len(t, res, len(cases)+1)
	for _, r := range res {
		assert.True(t, json.Valid(r.JSON), r.Reply.Name)
		if r.Reply.Name == "fine" {
			assert.True(t, r.Reply.Status)
			continue
		}
		assert.Contains(t, cases, r.Reply.Name)
		assert.False(t, r.Reply.Status, r.Reply.Name)
		assert.ErrorIs(t, r.Fault, ErrEncoding, r.Reply.Name)
	}
}

type panicky struct{}

func (panicky) MarshalJSON() ([]byte, error) { panic("marshal exploded") }

func TestSubscribeNilPanics(t *testing.T) {
	assert.PanicsWithValue(t, `signal: Subscribe("oarepo.probe.readiness") with a nil Receiver`, func() {
		NewBus().Subscribe(Readiness, nil)
	})
}

func TestSelect(t *testing.T) {
	b := NewBus(WithCacheTTL(0))
	var calls atomic.Int32
	b.Subscribe(Readiness, func(context.Context) Reply {
		calls.Add(1)
		return Reply{Name: "a", Status: true}
	})
	b.Subscribe(Readiness, ok("b"))
	b.Subscribe(Readiness, ok("ignored"), Named("c"))
	onlyB := Select(func(n string) bool { return n == "b" })

	// Before any reply the unnamed receivers run to learn their names.
	got := b.Publish(context.Background(), Readiness, onlyB)
	require.Len(t, got, 1)
	assert.Equal(t, "b", got[0].Name)

	b.Publish(context.Background(), Readiness, Select(func(n string) bool { return n == "c" }))
	assert.Equal(t, int32(1), calls.Load(), "known names select without running the others")
	got = b.Publish(context.Background(), Readiness, onlyB)
	require.Len(t, got, 1)
	assert.Equal(t, "b", got[0].Name)
}

func checkPostgres(context.Context) Reply { return Reply{} }

func TestFuncName(t *testing.T) {
	assert.Equal(t, "signal.checkPostgres", funcName(checkPostgres))
	// ok may be inlined, which changes its closure's symbol but not its prefix.
	assert.Regexp(t, `^signal\.(TestFuncName\.)?ok$`, funcName(ok("x")))
	assert.Equal(t, "signal.TestFuncName", funcName(func(context.Context) Reply { return Reply{} }))
}

func TestAppendString(t *testing.T) {
	for _, s := range []string{"plain", `q"uote`, "back\\slash", "<html>&", "tab\t", "ünï", "\u2028"} {
		want, _ := json.Marshal(s)
		assert.Equal(t, string(want), string(AppendString(nil, s)), s)
	}
}

func TestMixedTimeoutsDoNotDelayTheOthers(t *testing.T) {
	b := NewBus(WithTimeout(2 * time.Second))
	hung, _ := hang(t, "hung")
	b.Subscribe(Readiness, hung, Named("hung"), ReceiverTimeout(50*time.Millisecond))
	b.Subscribe(Readiness, func(context.Context) Reply {
		time.Sleep(150 * time.Millisecond)
		return Reply{Name: "slow", Status: true}
	})
	start := time.Now()
	res := b.Collect(context.Background(), Readiness)
	elapsed := time.Since(start)
	assert.ErrorIs(t, res[0].Fault, ErrTimeout)
	assert.True(t, res[1].Reply.Status)
	// The slow one answers after ~150 ms; waiting for its 2 s deadline would be wrong.
	assert.Less(t, elapsed, time.Second)
}

func TestMemoizedCollectSeesChanges(t *testing.T) {
	b := NewBus(WithCacheTTL(100 * time.Millisecond))
	var status atomic.Bool
	status.Store(true)
	b.Subscribe(Readiness, func(context.Context) Reply { return Reply{Name: "flip", Status: status.Load()} })
	first := b.Collect(context.Background(), Readiness)
	assert.False(t, first[0].Reused)
	second := b.Collect(context.Background(), Readiness)
	assert.True(t, second[0].Reply.Status)
	assert.Same(t, &second[0], &b.Collect(context.Background(), Readiness)[0], "all reused: the same results")

	unsub := b.Subscribe(Readiness, ok("new"))
	assert.Len(t, b.Collect(context.Background(), Readiness), 2, "a new subscription invalidates the memo")
	unsub()
	assert.Len(t, b.Collect(context.Background(), Readiness), 1)

	status.Store(false)
	require.Eventually(t, func() bool {
		return !b.Collect(context.Background(), Readiness)[0].Reply.Status
	}, 2*time.Second, 10*time.Millisecond, "an expired reply is not served from the memo")
}

func TestWorkerPoolSurvivesPanicsAndGoexit(t *testing.T) {
	b := NewBus(WithCacheTTL(0))
	b.Subscribe(Readiness, func(context.Context) Reply { panic("x") }, Named("p"))
	b.Subscribe(Readiness, func(context.Context) Reply { runtime.Goexit(); return Reply{} }, Named("g"))
	b.Subscribe(Readiness, ok("fine"))
	for range 50 {
		res := b.Collect(context.Background(), Readiness)
		require.Len(t, res, 3)
		assert.ErrorIs(t, res[0].Fault, ErrPanic)
		assert.ErrorIs(t, res[1].Fault, ErrPanic)
		assert.True(t, res[2].Reply.Status)
	}
}

func TestInstantReceiverThatStartsHangingDoesNotHoldTheOthers(t *testing.T) {
	b := NewBus(WithTimeout(200*time.Millisecond), WithCacheTTL(0))
	var hangNow atomic.Bool
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	b.Subscribe(Readiness, ok("a"))
	b.Subscribe(Readiness, func(context.Context) Reply {
		if hangNow.Load() {
			<-release
		}
		return Reply{Name: "b", Status: true}
	}, Named("b"), ReceiverTimeout(2*time.Second))
	for _, n := range []string{"c", "d", "e"} {
		b.Subscribe(Readiness, ok(n))
	}
	// Warm up until every receiver is known to be instant, so the next
	// publish runs them in one batch behind "b".
	require.Eventually(t, func() bool {
		b.Collect(context.Background(), Readiness)
		for _, s := range b.snapshot(Readiness) {
			if !s.instant.Load() {
				return false
			}
		}
		return true
	}, 5*time.Second, time.Millisecond)

	hangNow.Store(true)
	res := b.Collect(context.Background(), Readiness)
	require.Len(t, res, 5)
	assert.ErrorIs(t, res[1].Fault, ErrTimeout, "b hangs")
	for _, i := range []int{0, 2, 3, 4} {
		// Stuck behind b in the batch they would time out after 200 ms;
		// escalation starts them on their own goroutines after 1 ms.
		assert.True(t, res[i].Reply.Status, "%s: %v", res[i].Reply.Name, res[i].Reply.Data)
	}
}
