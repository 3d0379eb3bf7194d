package backend_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oarepo/heartbeat/internal/backend"
	"github.com/oarepo/heartbeat/internal/testnet"
)

func TestDoReturnsTheCallsError(t *testing.T) {
	var f backend.Flight[int]
	boom := errors.New("boom")
	v, err := f.Do(context.Background(), func(context.Context) (int, error) { return 42, nil })
	assert.NoError(t, err)
	assert.Equal(t, 42, v)
	_, err = f.Do(context.Background(), func(context.Context) (int, error) { return 0, boom })
	assert.ErrorIs(t, err, boom)
}

// hang is a client call that ignores its context, as go-redis does by
// default, until release is closed.
func hang(calls *atomic.Int32, release chan struct{}) func(context.Context) (int, error) {
	return func(context.Context) (int, error) {
		calls.Add(1)
		<-release
		return 0, errors.New("read: i/o timeout")
	}
}

func TestDoAnswersByTheDeadlineAndKeepsOneCallInFlight(t *testing.T) {
	var (
		f       backend.Flight[int]
		calls   atomic.Int32
		release = make(chan struct{})
	)
	for range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		start := time.Now()
		_, err := f.Do(ctx, hang(&calls, release))
		cancel()
		assert.Less(t, time.Since(start), time.Second)
		var te *backend.TimeoutError
		require.ErrorAs(t, err, &te)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Contains(t, err.Error(), "timed out after")
	}
	assert.Equal(t, int32(1), calls.Load(), "later probes join the hung call")

	close(release)
	require.Eventually(t, func() bool {
		_, err := f.Do(context.Background(), func(context.Context) (int, error) { return 0, nil })
		return err == nil
	}, time.Second, 10*time.Millisecond)
}

func TestDoReportsThePreviousError(t *testing.T) {
	var (
		f       backend.Flight[int]
		calls   atomic.Int32
		release = make(chan struct{})
	)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, _ = f.Do(ctx, hang(&calls, release))
	close(release)
	time.Sleep(20 * time.Millisecond) // let the hung call finish with its error

	ctx2, cancel2 := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel2()
	_, err := f.Do(ctx2, func(ctx context.Context) (int, error) {
		<-ctx.Done()
		time.Sleep(10 * time.Millisecond)
		return 0, ctx.Err()
	})
	assert.ErrorContains(t, err, "the previous check failed with: read: i/o timeout")
}

func TestDoDiagnosesTimeouts(t *testing.T) {
	cases := []struct {
		name, addr, want string
	}{
		{"refused", testnet.DeadAddr(t), "connection refused"},
		{"black hole", testnet.BlackHole(t), "accepts TCP connections but the call got no answer in time"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := backend.Flight[int]{Addr: func() string { return tc.addr }}
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			release := make(chan struct{})
			defer close(release)
			var calls atomic.Int32
			start := time.Now()
			_, err := f.Do(ctx, hang(&calls, release))
			assert.Less(t, time.Since(start), 2*time.Second)
			assert.ErrorContains(t, err, "timed out after")
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

func TestDoRecoversAPanickingCall(t *testing.T) {
	var f backend.Flight[int]
	_, err := f.Do(context.Background(), func(context.Context) (int, error) { panic("client bug") })
	assert.ErrorContains(t, err, "client bug")
}

// TestDoRetriesAJoinedCallThatRanOutOfItsCallersTime: the earlier caller's
// deadline says nothing about the server, so a later caller with time left
// asks again instead of reporting "deadline exceeded".
func TestDoRetriesAJoinedCallThatRanOutOfItsCallersTime(t *testing.T) {
	var (
		f       backend.Flight[int]
		calls   atomic.Int32
		release = make(chan struct{})
	)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, _ = f.Do(ctx, func(context.Context) (int, error) {
		calls.Add(1)
		<-release
		return 0, context.DeadlineExceeded
	})
	go func() { time.Sleep(20 * time.Millisecond); close(release) }()
	v, err := f.Do(context.Background(), func(context.Context) (int, error) {
		calls.Add(1)
		return 7, nil
	})
	require.NoError(t, err)
	assert.Equal(t, 7, v)
	assert.Equal(t, int32(2), calls.Load())
}

// BenchmarkDo is Flight's fixed cost around a call that returns at once:
// a goroutine, a timer and two channel operations. Under a deadline, as the
// bus always calls receivers.
func BenchmarkDo(b *testing.B) {
	f := backend.Flight[int]{Addr: func() string { return "127.0.0.1:1" }}
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	fn := func(context.Context) (int, error) { return 1, nil }
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.Do(ctx, fn); err != nil {
			b.Fatal(err)
		}
	}
}

// A call that an earlier caller started and that failed may have met an
// outage that is over: a caller who joined it asks once more, and gets the
// answer of now.
func TestDoAsksAgainAfterAJoinedCallFailed(t *testing.T) {
	var f backend.Flight[string]
	var calls atomic.Int32
	release := make(chan struct{})
	fn := func(context.Context) (string, error) {
		if calls.Add(1) == 1 {
			<-release
			return "", errors.New("EOF") // the connection was cut before the restart
		}
		return "PONG", nil
	}
	first := make(chan error, 1)
	go func() { _, err := f.Do(context.Background(), fn); first <- err }()
	require.Eventually(t, func() bool { return calls.Load() == 1 }, time.Second, time.Millisecond)

	joined := make(chan string, 1)
	go func() { v, _ := f.Do(context.Background(), fn); joined <- v }()
	time.Sleep(20 * time.Millisecond) // the second caller joins the first call
	close(release)
	assert.EqualError(t, <-first, "EOF", "the caller who started it gets its answer")
	assert.Equal(t, "PONG", <-joined)
	assert.Equal(t, int32(2), calls.Load(), "one more call, not one per caller")
}
