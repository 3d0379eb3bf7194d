package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests keep the comparisons honest: every subject answers the same
// probe, and each scenario measures what docs/performance.md says it does.
// They use short runs and wide bounds so that they pass under -race on a busy
// machine; the figures come from cmd/report.

func TestEverySubjectAnswersEveryScenario(t *testing.T) {
	for _, sc := range Scenarios {
		for _, sub := range Subjects {
			t.Run(sc.Name+"/"+sub.Name, func(t *testing.T) {
				var be Backend
				tg := sub.New(sc.Setup(&be))
				t.Cleanup(tg.Close)
				rec := httptest.NewRecorder()
				tg.Handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tg.Path, nil))
				assert.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
				assert.NotEmpty(t, rec.Body.String())
				if sub.Kind != Floor {
					// alexliesenfeld also runs its checks once when it starts.
					assert.GreaterOrEqual(t, be.Calls(), int64(sc.Checks), "every check runs")
				}
			})
		}
	}
}

func TestHeartbeatRunsSlowChecksConcurrently(t *testing.T) {
	sub, ok := SubjectByName("heartbeat-nocache")
	require.True(t, ok)
	var be Backend
	tg := sub.New(Scenario{Checks: 50, Delay: 20 * time.Millisecond}.Setup(&be))
	t.Cleanup(tg.Close)
	req := httptest.NewRequest(http.MethodGet, tg.Path, nil)
	for range 3 {
		start := time.Now()
		rec := httptest.NewRecorder()
		tg.Handler.ServeHTTP(rec, req)
		took := time.Since(start)
		require.Equal(t, http.StatusOK, rec.Code)
		// Side by side the checks take about 20 ms, one after another 1 s:
		// 500 ms tells the two apart with room for -race on a busy machine.
		assert.Less(t, took, 500*time.Millisecond, "50 checks of 20 ms must run side by side")
	}
	assert.EqualValues(t, 150, be.Calls(), "with caching off every probe runs every check")
}

func TestHungCheckHeartbeatAnswersEveryProbeByItsDeadline(t *testing.T) {
	const probes, timeout = 200, 100 * time.Millisecond
	for _, name := range []string{"heartbeat", "heartbeat-nocache"} {
		t.Run(name, func(t *testing.T) {
			sub, ok := SubjectByName(name)
			require.True(t, ok)
			// OnTime counts answers within 1 s: right is the 100 ms
			// timeout, wrong is never, as the check hangs until Hung returns.
			r := Hung(sub, probes, timeout, time.Second, 5*time.Second)
			assert.Equal(t, probes, r.Answered)
			assert.Equal(t, probes, r.OnTime, "slowest answer %v", r.Slowest)
			assert.Equal(t, probes, r.Failed, "a hung check fails the probe")
			assert.LessOrEqual(t, r.Goroutines, 1, "the hung run is the only goroutine held")
			assert.EqualValues(t, 1, r.CheckCalls, "probes join the hung run instead of starting more")
		})
	}
}

func TestHungCheckMeasurementSeesPeersLeak(t *testing.T) {
	// heptio's Timeout wrapper answers on time but leaves the check's
	// goroutine behind on every probe: the measurement must see that.
	sub, ok := SubjectByName("heptio")
	require.True(t, ok)
	const probes = 20
	r := Hung(sub, probes, 100*time.Millisecond, time.Second, 5*time.Second)
	assert.Equal(t, probes, r.OnTime)
	assert.GreaterOrEqual(t, r.Goroutines, probes)
	assert.EqualValues(t, probes, r.CheckCalls)
}

func TestCoalesceBoundsHeartbeatBackendCalls(t *testing.T) {
	const clients, delay, run = 64, 20 * time.Millisecond, 600 * time.Millisecond
	ctx := context.Background()

	r := Coalesce(ctx, mustSubject(t, "heartbeat"), clients, delay, run)
	require.Zero(t, r.Errors)
	require.Equal(t, r.Requests, r.Status[http.StatusOK])
	assert.Greater(t, r.Requests, clients, "every client was answered at least once")
	// One run to fill the cache, at most one more when it expires.
	assert.LessOrEqual(t, r.Calls, int64(2), "1 s cache: %d probes", r.Requests)

	r = Coalesce(ctx, mustSubject(t, "heartbeat-nocache"), clients, delay, run)
	require.Zero(t, r.Errors)
	require.Equal(t, r.Requests, r.Status[http.StatusOK])
	// Runs never overlap: at most one per check duration, plus the last.
	maxCalls := int64(r.Elapsed/delay) + 1
	assert.LessOrEqual(t, r.Calls, maxCalls, "no cache: %d probes", r.Requests)
	assert.Greater(t, int64(r.Requests), r.Calls, "probes share runs")

	// A peer that runs the check on every probe: the count must show it.
	r = Coalesce(ctx, mustSubject(t, "heptio"), clients, delay, run)
	require.Zero(t, r.Errors)
	assert.GreaterOrEqual(t, r.Calls, int64(r.Requests))
}

func TestLoadMeasures(t *testing.T) {
	tg := mustSubject(t, "nethttp").New(Setup{})
	url, stop := Serve(tg.Handler)
	t.Cleanup(stop)
	r := Load(context.Background(), url+tg.Path, 4, 200*time.Millisecond)
	require.Zero(t, r.Errors)
	assert.Positive(t, r.Requests)
	assert.Equal(t, r.Requests, r.Status[http.StatusOK])
	assert.Positive(t, r.RPS())
	assert.LessOrEqual(t, r.P50, r.P99)
	assert.LessOrEqual(t, r.P99, r.Max)
}

func mustSubject(t *testing.T, name string) Subject {
	t.Helper()
	sub, ok := SubjectByName(name)
	require.True(t, ok, "no subject %q", name)
	return sub
}
