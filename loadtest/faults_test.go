package loadtest

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oarepo/heartbeat/signal"
)

// The fault test's bus settings: shorter than the defaults so that the test
// stays short, in the same proportions (timeout below the probe budget, the
// cache shorter than a probe period).
const (
	faultTimeout = 300 * time.Millisecond
	faultTTL     = 500 * time.Millisecond
	// A probe reflects a fault within one TTL (the cached reply expires),
	// plus one run that meets the fault and may last the whole timeout;
	// the rest is slack for a busy CI machine.
	detectWithin = faultTTL + faultTimeout + time.Second
	// Recovery also waits for the clients to dial the backend again.
	recoverWithin = faultTTL + faultTimeout + 3*time.Second
	// hold is how long each fault stays once readiness shows it: long
	// enough that a probe waiting on the fault instead of its deadline
	// would take over slowestAllowed, so the bound tells the two apart
	// while leaving a busy CI machine a second of scheduling slack (the
	// slowest answer seen on a loaded 2-core machine was under 0.5 s).
	hold           = 1500 * time.Millisecond
	slowestAllowed = faultTimeout + time.Second
)

// fault is one way the network between the service and its backends breaks.
type fault struct {
	name          string
	inject, clear func(t *testing.T, p *toxiproxy.Proxy)
}

var faults = []fault{
	{
		name: "latency spike",
		inject: func(t *testing.T, p *toxiproxy.Proxy) {
			// Held as long as the other faults: a probe that waited the
			// spike out would also take over slowestAllowed.
			addToxic(t, p, "spike", "latency", fmt.Sprintf(`{"latency":%d,"jitter":0}`, hold.Milliseconds()))
		},
		clear: func(t *testing.T, p *toxiproxy.Proxy) { removeToxic(t, p, "spike") },
	},
	{
		name: "connection resets",
		inject: func(t *testing.T, p *toxiproxy.Proxy) {
			addToxic(t, p, "reset", "reset_peer", `{"timeout":0}`)
		},
		clear: func(t *testing.T, p *toxiproxy.Proxy) { removeToxic(t, p, "reset") },
	},
	{
		name:   "full cut",
		inject: func(_ *testing.T, p *toxiproxy.Proxy) { p.Stop() },
		clear:  func(t *testing.T, p *toxiproxy.Proxy) { require.NoError(t, p.Start()) },
	},
}

// TestFaultsReadinessFollowsBackends puts a toxiproxy between the service and
// a real PostgreSQL and Redis of the test's own and, while 16 clients probe
// readiness and liveliness without pause, breaks each link in turn: a
// latency spike past the timeout, connection resets, a full cut. Readiness must fail within one
// TTL plus one run of each fault and pass again by itself once the link is
// back; liveliness must pass throughout; every probe must be answered on
// time; nothing may be left running afterwards.
func TestFaultsReadinessFollowsBackends(t *testing.T) {
	pgAddr, redisAddr := servers(t)
	before := goroutines()

	chaos := newChaos()
	proxies := map[string]*toxiproxy.Proxy{
		"postgres": chaos.proxy(t, "postgres", pgAddr),
		"redis":    chaos.proxy(t, "redis", redisAddr),
	}
	st := newStack(t, proxies["postgres"].Listen, proxies["redis"].Listen,
		signal.WithTimeout(faultTimeout), signal.WithCacheTTL(faultTTL))
	p := startProbers(st.url, 16, "readiness", "liveliness")

	// waitFor returns when a readiness probe answered after since has the
	// code, and how long after since that was.
	waitFor := func(code int, since time.Time, within time.Duration) (time.Duration, bool) {
		deadline := time.Now().Add(within + time.Second)
		for time.Now().Before(deadline) {
			for _, s := range p.snapshot() {
				if s.path == "readiness" && s.err == nil && s.code == code && s.at.Add(-s.latency).After(since) {
					return s.at.Sub(since), true
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
		return 0, false
	}

	_, ok := waitFor(http.StatusOK, time.Now(), 5*time.Second)
	require.True(t, ok, "readiness passes before any fault")

	for _, f := range faults {
		for _, backend := range []string{"postgres", "redis"} {
			proxy := proxies[backend]
			start := time.Now()
			f.inject(t, proxy)
			detected, ok := waitFor(http.StatusInternalServerError, start, detectWithin)
			assert.True(t, ok, "%s on %s: readiness never failed", f.name, backend)
			assert.LessOrEqual(t, detected, detectWithin, "%s on %s: readiness failed late", f.name, backend)
			time.Sleep(hold) // the fault is also served from the cache meanwhile

			healed := time.Now()
			f.clear(t, proxy)
			recovered, ok := waitFor(http.StatusOK, healed, recoverWithin)
			assert.True(t, ok, "%s on %s: readiness never recovered", f.name, backend)
			assert.LessOrEqual(t, recovered, recoverWithin, "%s on %s: readiness recovered late", f.name, backend)
			t.Logf("%s on %s: readiness failed after %v, passed again %v after the link came back",
				f.name, backend, detected.Round(time.Millisecond), recovered.Round(time.Millisecond))
		}
	}

	samples := p.stop()
	var errs, live, liveBad, ready, readyBad int
	var slowest time.Duration
	for _, s := range samples {
		slowest = max(slowest, s.latency)
		switch {
		case s.err != nil:
			errs++
		case s.path == "liveliness":
			live++
			if s.code != http.StatusOK {
				liveBad++
			}
		default:
			ready++
			if s.code != http.StatusOK {
				readyBad++
			}
		}
	}
	t.Logf("faults: %d readiness probes (%d failed, as the faults required), %d liveliness probes (%d failed), "+
		"%d HTTP errors, slowest answer %v",
		ready, readyBad, live, liveBad, errs, slowest.Round(time.Millisecond))
	assert.Zero(t, errs, "every probe is answered")
	assert.Zero(t, liveBad, "liveliness does not depend on the backends")
	assert.Positive(t, readyBad)
	// A probe waits for one run at most, and a run is cut off at the timeout.
	assert.Less(t, slowest, slowestAllowed, "every probe is answered by its deadline")

	st.close()
	for _, proxy := range proxies {
		proxy.Stop()
	}
	after := goroutines()
	t.Logf("goroutines: %d before, %d after", before, after)
	assert.LessOrEqual(t, after, before+3, "goroutines left behind")
}
