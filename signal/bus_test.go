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

	"github.com/oarepo/heartbeat/internal/wire"
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
	res := b.Results(context.Background(), Readiness)
	require.Len(t, res, 1)
	var got map[string]any
	require.NoError(t, json.Unmarshal(encoded(t, res[0]), &got))
	assert.Equal(t, map[string]any{"status": false, "time": 0.5, "<b>": "x&y"}, got)
	assert.Equal(t, `{"status":false,"\u003cb\u003e":"x\u0026y","time":0.5}`, string(encoded(t, res[0])))
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
	res := b.Results(context.Background(), Readiness)
	elapsed := time.Since(start)
	// Right is the 100 ms timeout; wrong is never, as the receiver is
	// released only when the test ends.
	assert.Less(t, elapsed, 5*time.Second, "the publish must not wait for a hung receiver")
	require.Len(t, res, 2)
	assert.Equal(t, "search", res[0].Reply.Name)
	assert.False(t, res[0].Reply.Status)
	assert.ErrorIs(t, res[0].Fault, ErrTimeout)
	assert.Contains(t, res[0].Reply.Data["error"], "timed out after 100ms")
	assert.True(t, res[1].Reply.Status, "%+v", res[1])
}

func TestReceiverContextExpiresBeforeTheBusGivesUp(t *testing.T) {
	b := NewBus(WithTimeout(200 * time.Millisecond))
	deadlines := make(chan time.Time, 1)
	b.Subscribe(Readiness, func(ctx context.Context) Reply {
		d, _ := ctx.Deadline()
		deadlines <- d
		return Reply{Name: "db", Status: true}
	})
	res := b.Results(context.Background(), Readiness)
	require.Len(t, res, 1)
	// The receiver's context ends a tenth of the timeout before the bus
	// gives up (it is made a moment before the run starts), so that one
	// which honours it can report its own cause.
	d := <-deadlines
	assert.False(t, d.After(res[0].Started.Add(180*time.Millisecond)), "%v after %v", d.Sub(res[0].Started), 180*time.Millisecond)
	assert.True(t, d.After(res[0].Started.Add(150*time.Millisecond)), "%v", d.Sub(res[0].Started))
}

func TestLateReplyIsReportedAsTimeout(t *testing.T) {
	b := NewBus(WithTimeout(50*time.Millisecond), WithCacheTTL(time.Minute))
	b.Subscribe(Readiness, func(context.Context) Reply {
		time.Sleep(150 * time.Millisecond)
		return Reply{Name: "slow", Status: true}
	})
	first := b.Results(context.Background(), Readiness)
	require.Len(t, first, 1)
	assert.ErrorIs(t, first[0].Fault, ErrTimeout)

	require.Eventually(t, func() bool {
		r := b.Results(context.Background(), Readiness)
		return r[0].Reused
	}, 2*time.Second, 20*time.Millisecond)
	r := b.Results(context.Background(), Readiness)[0]
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

	res := b.Results(context.Background(), Readiness)
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
		time.Sleep(300 * time.Millisecond)
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
	// Nearly every publish starts within the first 300 ms run; a busy
	// machine may start a few goroutines late.
	assert.LessOrEqual(t, calls.Load(), int32(3))
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
		r := b.Results(context.Background(), Readiness)
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
	first := b.Results(context.Background(), Readiness)
	second := b.Results(context.Background(), Readiness)
	assert.False(t, first[0].Reused)
	assert.True(t, second[0].Reused)
	assert.Equal(t, int32(1), calls.Load())

	time.Sleep(250 * time.Millisecond)
	third := b.Results(context.Background(), Readiness)
	assert.False(t, third[0].Reused)
	assert.Equal(t, int32(2), calls.Load())
}

func TestReceiverCacheTTLOverridesBus(t *testing.T) {
	b := NewBus(WithCacheTTL(time.Hour))
	var calls atomic.Int32
	b.Subscribe(Readiness, func(context.Context) Reply {
		calls.Add(1)
		return Reply{Name: "fresh", Status: true}
	}, WithCacheTTL(0))
	for range 3 {
		b.Publish(context.Background(), Readiness)
	}
	assert.Equal(t, int32(3), calls.Load())
}

func TestReceiverTimeoutOverridesBus(t *testing.T) {
	b := NewBus(WithTimeout(time.Hour))
	hung, _ := hang(t, "x")
	b.Subscribe(Readiness, hung, WithTimeout(30*time.Millisecond))
	start := time.Now()
	r := b.Results(context.Background(), Readiness)
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
	r := b.Results(ctx, Readiness)
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
	b.Subscribe(Readiness, hung, Named("hung"), WithTimeout(20*time.Millisecond))

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
	assert.Equal(t, names, known, "Names reports the checks as Publish names them")
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

	res := b.Results(context.Background(), Readiness)
	require.Len(t, res, len(cases)+1)
	for _, r := range res {
		assert.True(t, json.Valid(encoded(t, r)), r.Reply.Name)
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

func checkPostgres(context.Context) Reply { return Reply{} }

func TestFuncName(t *testing.T) {
	assert.Equal(t, "signal.checkPostgres", wire.FuncName(checkPostgres))
	// ok may be inlined, which changes its closure's symbol but not its prefix.
	assert.Regexp(t, `^signal\.(TestFuncName\.)?ok$`, wire.FuncName(ok("x")))
	assert.Equal(t, "signal.TestFuncName", wire.FuncName(func(context.Context) Reply { return Reply{} }))
}

func TestMixedTimeoutsDoNotDelayTheOthers(t *testing.T) {
	b := NewBus(WithTimeout(2 * time.Second))
	hung, _ := hang(t, "hung")
	b.Subscribe(Readiness, hung, Named("hung"), WithTimeout(50*time.Millisecond))
	b.Subscribe(Readiness, func(context.Context) Reply {
		time.Sleep(150 * time.Millisecond)
		return Reply{Name: "slow", Status: true}
	})
	start := time.Now()
	res := b.Results(context.Background(), Readiness)
	elapsed := time.Since(start)
	assert.ErrorIs(t, res[0].Fault, ErrTimeout)
	assert.True(t, res[1].Reply.Status)
	// The slow one answers after ~150 ms; waiting for its 2 s deadline would be wrong.
	assert.Less(t, elapsed, time.Second)
}

func TestCachedResultsSeeChanges(t *testing.T) {
	b := NewBus(WithCacheTTL(100 * time.Millisecond))
	var status atomic.Bool
	status.Store(true)
	b.Subscribe(Readiness, func(context.Context) Reply { return Reply{Name: "flip", Status: status.Load()} })
	first := b.Results(context.Background(), Readiness)
	assert.False(t, first[0].Reused)
	second := b.Results(context.Background(), Readiness)
	assert.True(t, second[0].Reply.Status)
	assert.True(t, second[0].Reused)

	unsub := b.Subscribe(Readiness, ok("new"))
	assert.Len(t, b.Results(context.Background(), Readiness), 2, "a new subscription is seen at once")
	unsub()
	assert.Len(t, b.Results(context.Background(), Readiness), 1)

	status.Store(false)
	require.Eventually(t, func() bool {
		return !b.Results(context.Background(), Readiness)[0].Reply.Status
	}, 2*time.Second, 10*time.Millisecond, "an expired reply is not reused")
}

func TestPanicsAndGoexitAreFailedChecksEveryTime(t *testing.T) {
	b := NewBus(WithCacheTTL(0))
	b.Subscribe(Readiness, func(context.Context) Reply { panic("x") }, Named("p"))
	b.Subscribe(Readiness, func(context.Context) Reply { runtime.Goexit(); return Reply{} }, Named("g"))
	b.Subscribe(Readiness, ok("fine"))
	for range 50 {
		res := b.Results(context.Background(), Readiness)
		require.Len(t, res, 3)
		assert.ErrorIs(t, res[0].Fault, ErrPanic)
		assert.ErrorIs(t, res[1].Fault, ErrPanic)
		assert.True(t, res[2].Reply.Status)
	}
}

func encoded(t *testing.T, r Result) []byte {
	t.Helper()
	b, err := r.MarshalJSON()
	require.NoError(t, err)
	return b
}
