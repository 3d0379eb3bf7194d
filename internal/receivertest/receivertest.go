// Package receivertest holds what the bundled receivers' tests share:
// calling a receiver as the bus would, and checking that a reply, as it would
// reach the wire, carries no secret.
package receivertest

import (
	"context"
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oarepo/heartbeat/signal"
)

// Probe calls r under a deadline of timeout, as the bus would, and reports
// how long it took to reply.
func Probe(r signal.Receiver, timeout time.Duration) (signal.Reply, time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	start := time.Now()
	reply := r(ctx)
	return reply, time.Since(start)
}

// AssertNoSecret checks that none of secrets, raw or percent-encoded,
// appears in the reply encoded as JSON.
func AssertNoSecret(t testing.TB, reply signal.Reply, secrets ...string) {
	t.Helper()
	b, err := json.Marshal(reply)
	require.NoError(t, err)
	for _, s := range secrets {
		if s == "" {
			continue
		}
		assert.NotContains(t, string(b), s)
		assert.NotContains(t, string(b), url.QueryEscape(s))
	}
}
