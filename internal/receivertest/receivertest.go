// Package receivertest holds what the bundled receivers' tests share:
// calling a receiver as the bus would, and checking that a reply, as it would
// reach the wire, carries no secret.
package receivertest

import (
	"context"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oarepo/heartbeat/internal/testnet"
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

// AssertNoSecret checks that none of secrets appears in the reply encoded
// as JSON, in any spelling a message gives it: raw, percent-encoded (query
// or path), Go-quoted (%q) or JSON-quoted, each as the reply's own JSON
// encoding spells it in turn.
func AssertNoSecret(t testing.TB, reply signal.Reply, secrets ...string) {
	t.Helper()
	b, err := json.Marshal(reply)
	require.NoError(t, err)
	for _, s := range secrets {
		if s == "" {
			continue
		}
		for _, form := range []string{
			s, url.QueryEscape(s), url.PathEscape(s), strings.Trim(strconv.Quote(s), `"`), jsonQuoted(s),
		} {
			assert.NotContains(t, string(b), form)
			assert.NotContains(t, string(b), jsonQuoted(form))
		}
	}
}

// jsonQuoted is s as it appears inside a JSON string.
func jsonQuoted(s string) string {
	b, _ := json.Marshal(s) // a string always encodes
	return string(b[1 : len(b)-1])
}

// AnswerBy is the wide bound within which a receiver probed under a short
// deadline (a few hundred milliseconds) must reply: far above the deadline,
// far below the seconds a receiver that waited on its client would take.
const AnswerBy = 2 * time.Second

// AssertFailed checks a reply that must report a failure, in time: status
// false, a reply within AnswerBy, and an error that contains each of want.
func AssertFailed(t testing.TB, reply signal.Reply, took time.Duration, want ...string) {
	t.Helper()
	assert.False(t, reply.Status)
	assert.Less(t, took, AnswerBy, "the receiver answers by its deadline")
	assert.NotEmpty(t, reply.Data["error"])
	for _, w := range want {
		assert.Contains(t, reply.Data["error"], w)
	}
}

// AssertSurvivesRestart checks that r, which reaches its server through
// proxy, passes, fails while the proxy is cut, and passes again at the next
// probe once it is restored: the application's client recovers by itself.
func AssertSurvivesRestart(t testing.TB, r signal.Receiver, proxy *testnet.Proxy) {
	t.Helper()
	reply, _ := Probe(r, 2*time.Second)
	require.True(t, reply.Status, "%v", reply.Data)

	proxy.Cut()
	reply, took := Probe(r, time.Second)
	t.Logf("cut, after %v: %v", took, reply.Data)
	AssertFailed(t, reply, took)

	require.NoError(t, proxy.Restore())
	reply, _ = Probe(r, 2*time.Second)
	assert.True(t, reply.Status, "the next probe after the restore: %v", reply.Data)
}
