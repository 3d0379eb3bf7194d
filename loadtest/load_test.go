package loadtest

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLoadBoundsBackendCalls sends thousands of probes from 64 clients to a
// real http.Server whose readiness checks the real PostgreSQL and Redis, with
// heartbeat's defaults (1 s result cache). The backends' own counters must
// show about one query per second per receiver, however many probes arrive;
// no probe may fail, and no goroutine may be left behind.
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

	require.Greater(t, len(samples), 2000, "several thousand probes")
	assert.Zero(t, errs, "HTTP errors")
	assert.Zero(t, non200, "probes that were not 200")
	assert.Less(t, percentile(samples, 1), 2*time.Second, "the slowest probe")

	// One run per second per receiver, plus the first; PostgreSQL also
	// counts a transaction or two per new session (the pool opens a few).
	runs := int64(elapsed/time.Second) + 2
	assert.LessOrEqual(t, commits, runs+4*3, "PostgreSQL transactions for %d probes", len(samples))
	assert.Positive(t, commits, "the counter sees the receiver's queries")
	// Other tests may ping the shared Redis meanwhile: some slack, far
	// below one PING per probe.
	assert.LessOrEqual(t, pings, runs+100, "Redis PINGs for %d probes", len(samples))
	assert.Positive(t, pings)

	assert.LessOrEqual(t, after, before+3, "goroutines left behind")
}
