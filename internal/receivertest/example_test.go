package receivertest_test

import (
	"context"
	"fmt"
	"time"

	"github.com/oarepo/heartbeat/internal/receivertest"
	"github.com/oarepo/heartbeat/signal"
)

func ExampleProbe() {
	r := func(ctx context.Context) signal.Reply {
		<-ctx.Done()
		return signal.Reply{Name: "db", Data: map[string]any{"error": ctx.Err().Error()}}
	}
	reply, took := receivertest.Probe(r, 20*time.Millisecond)
	fmt.Println(reply.Data["error"], took < time.Second)
	// Output: context deadline exceeded true
}
