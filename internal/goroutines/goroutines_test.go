package goroutines

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/oarepo/heartbeat/signal"
)

func TestCountLeavesOutIdlePoolWorkers(t *testing.T) {
	before := Settled(5, 50)
	bus := signal.NewBus(signal.WithCacheTTL(0))
	for range 5 {
		bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
			time.Sleep(time.Millisecond) // long enough to need workers of their own
			return signal.Reply{Status: true}
		})
	}
	bus.Publish(context.Background(), signal.Readiness)
	assert.Equal(t, before, Settled(5, 50), "idle workers are not counted")

	release := make(chan struct{})
	bus.Subscribe(signal.Liveliness, func(context.Context) signal.Reply { <-release; return signal.Reply{} },
		signal.ReceiverTimeout(10*time.Millisecond))
	bus.Publish(context.Background(), signal.Liveliness)
	assert.Equal(t, before+1, Settled(5, 50), "a worker running a hung receiver is counted")
	close(release)
}

func TestIdleWorkerReadsTheInnermostFrame(t *testing.T) {
	assert.True(t, idleWorker("goroutine 7 [select]:\nruntime.gopark(...)\n\t/go/src/runtime/proc.go:1\n"+
		"github.com/oarepo/heartbeat/signal.(*pool).loop(0x1, 0x2)\n\t/x/signal/pool.go:60 +0x1f5\ncreated by ..."))
	assert.False(t, idleWorker("goroutine 8 [chan receive]:\n"+
		"github.com/oarepo/heartbeat/bench.(*Backend).Hang.func1(...)\n\t/x/bench/scenario.go:1\n"+
		"github.com/oarepo/heartbeat/signal.(*pool).loop(0x1, 0x2)\n\t/x/signal/pool.go:50"), "a worker running a hung check is held")
}
