package goroutines

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/oarepo/heartbeat/signal"
)

func TestNothingLingersAndAHungReceiverHoldsOne(t *testing.T) {
	before := Settled(5, 50)
	bus := signal.NewBus(signal.WithCacheTTL(0))
	for range 5 {
		bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
			time.Sleep(time.Millisecond)
			return signal.Reply{Status: true}
		})
	}
	bus.Publish(context.Background(), signal.Readiness)
	assert.Equal(t, before, Settled(5, 50), "no goroutine outlives its run")

	release := make(chan struct{})
	bus.Subscribe(signal.Liveliness, func(context.Context) signal.Reply { <-release; return signal.Reply{} },
		signal.WithTimeout(10*time.Millisecond))
	for range 20 {
		bus.Publish(context.Background(), signal.Liveliness)
	}
	assert.Equal(t, before+1, Settled(5, 50), "a hung receiver holds one goroutine, however many probes")
	close(release)
	assert.Equal(t, before, Settled(5, 50))
}
