package loadtest

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// answerWithin is the wide bound on any probe under load. Right is at most
// one run, which the default receiver timeout (800 ms) cuts off; wrong is a
// probe stuck until the client gives up at 10 s. 5 s lies between, with room
// for a busy machine.
const answerWithin = 5 * time.Second

// TestLoadBoundsBackendCalls sends probes from 64 clients, without pause,
// to a real http.Server whose readiness checks a real PostgreSQL and Redis
// of the test's own, with heartbeat's defaults (1 s result cache). The
// backends' own counters must show about one query per second per receiver,
// however many probes arrive; no probe may fail or wait past its deadline,
// and no goroutine may be left behind. How many probes a second the machine
// serves is no part of the test: that figure belongs to the bench/ report.
func TestLoadBoundsBackendCalls(t *testing.T) {
	pgAddr, redisAddr := servers(t)
	const clients, run = 64, 3 * time.Second

	before := goroutines()
	commits0, pings0 := pgCommits(t, pgAddr), redisPings(t, redisAddr)

	st := newStack(t, pgAddr, redisAddr)
	p := startProbers(st.url, clients, "readiness", "readiness", "readiness", "liveliness")
	time.Sleep(run)
	samples := p.stop()
	elapsed := samples[len(samples)-1].at.Sub(samples[0].at)
	st.close()

	commits := pgCommits(t, pgAddr) - commits0
	pings := redisPings(t, redisAddr) - pings0
	after := goroutines()

	var errs, non200 int
	for _, s := range samples {
		if s.err != nil {
			errs++
		} else if s.code != http.StatusOK {
			non200++
		}
	}
	t.Logf("load: %d probes from %d clients in %v (%.0f/s), p50 %v, p99 %v, max %v; "+
		"PostgreSQL transactions %d, Redis PINGs %d; goroutines %d before, %d after",
		len(samples), clients, elapsed.Round(time.Millisecond), float64(len(samples))/elapsed.Seconds(),
		percentile(samples, 0.5), percentile(samples, 0.99), percentile(samples, 1),
		commits, pings, before, after)

	// Every client sends its next probe as soon as the last is answered,
	// so each one answered is what the bounds below are checked against.
	require.GreaterOrEqual(t, len(samples), clients, "every client was answered at least once")
	assert.Zero(t, errs, "HTTP errors")
	assert.Zero(t, non200, "probes that were not 200")
	// A probe waits for one run at most, and a run is cut off at the timeout.
	assert.Less(t, percentile(samples, 1), answerWithin, "the slowest probe")

	// One run per second per receiver, plus the first; PostgreSQL also
	// counts a transaction or two per new session (the pool opens a few).
	runs := int64(elapsed/time.Second) + 2
	assert.LessOrEqual(t, commits, runs+4*3, "PostgreSQL transactions for %d probes", len(samples))
	assert.Positive(t, commits, "the counter sees the receiver's queries")
	// The server is the test's own: only the receiver pings it.
	assert.LessOrEqual(t, pings, runs, "Redis PINGs for %d probes", len(samples))
	assert.Positive(t, pings)

	assert.LessOrEqual(t, after, before+3, "goroutines left behind")
}
