package signal

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkPublish measures a publish of instant receivers, with replies
// reused (the default) and with reuse off, where every publish runs every
// receiver.
func BenchmarkPublish(b *testing.B) {
	for _, ttl := range []time.Duration{DefaultCacheTTL, 0} {
		for _, n := range []int{0, 10, 100} {
			b.Run(fmt.Sprintf("ttl=%v/receivers=%d", ttl, n), func(b *testing.B) {
				bus := NewBus(WithCacheTTL(ttl))
				for i := range n {
					bus.Subscribe(Readiness, ok(fmt.Sprint("r", i)))
				}
				ctx := context.Background()
				b.ReportAllocs()
				for b.Loop() {
					bus.Results(ctx, Readiness)
				}
			})
		}
	}
}

// BenchmarkPublishSlow measures 20 receivers of 5 ms each with reuse off:
// the publish should take about 5 ms, not 100 ms.
func BenchmarkPublishSlow(b *testing.B) {
	bus := NewBus(WithCacheTTL(0))
	for i := range 20 {
		bus.Subscribe(Readiness, func(context.Context) Reply {
			time.Sleep(5 * time.Millisecond)
			return Reply{Name: fmt.Sprint("slow", i), Status: true}
		})
	}
	ctx := context.Background()
	for b.Loop() {
		bus.Results(ctx, Readiness)
	}
}
