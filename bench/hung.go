package bench

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/oarepo/heartbeat/internal/goroutines"
)

// HungResult is what a burst of probes against a hung check measured.
type HungResult struct {
	// Probes is how many probes were sent, all at once.
	Probes int
	// OnTime is how many were answered within the deadline; Answered how
	// many were answered before the measurement gave up waiting.
	OnTime, Answered int
	// Failed is how many of the answers said the probe failed (a status
	// other than 2xx), as they should with a check that hangs.
	Failed int
	// Slowest is the latency of the slowest answer.
	Slowest time.Duration
	// Goroutines is how many more goroutines were alive once the burst was
	// over than before the subject was built: goroutines the library left
	// behind, including those of probes still not answered. Idle workers of
	// heartbeat's pool are not counted (see internal/goroutines).
	Goroutines int
	// CheckCalls is how many times the hung check was started.
	CheckCalls int64
}

// Hung subscribes one check that ignores its context and never returns,
// with timeout as the library's check timeout, and sends probes concurrent
// probes through ServeHTTP. A probe answered within deadline is on time;
// the measurement waits at most wait for the rest. The hung check is
// released only after the goroutines are counted.
func Hung(sub Subject, probes int, timeout, deadline, wait time.Duration) HungResult {
	settle()
	base := goroutines.Count()

	var b Backend
	release := make(chan struct{})
	defer close(release)
	tg := sub.New(Setup{Checks: []CheckFunc{b.Hang(release)}, Timeout: timeout})
	defer tg.Close()
	// One request each: ServeMux writes its routing results into the
	// request, so concurrent probes cannot share one.
	reqs := make([]*http.Request, probes)
	for i := range reqs {
		reqs[i] = httptest.NewRequest(http.MethodGet, tg.Path, nil)
	}

	type answer struct {
		lat  time.Duration
		code int
	}
	answers := make(chan answer, probes)
	var started sync.WaitGroup
	start := time.Now()
	for _, req := range reqs {
		started.Add(1)
		go func() {
			started.Done()
			rec := httptest.NewRecorder()
			tg.Handler.ServeHTTP(rec, req)
			answers <- answer{time.Since(start), rec.Code}
		}()
	}
	started.Wait()

	r := HungResult{Probes: probes}
	timer := time.NewTimer(wait)
	defer timer.Stop()
collect:
	for r.Answered < probes {
		select {
		case a := <-answers:
			r.Answered++
			if a.lat <= deadline {
				r.OnTime++
			}
			if a.code < 200 || a.code > 299 {
				r.Failed++
			}
			r.Slowest = max(r.Slowest, a.lat)
		case <-timer.C:
			break collect
		}
	}
	settle()
	r.Goroutines = goroutines.Count() - base
	r.CheckCalls = b.Calls()
	return r
}

// settle gives goroutines that are about to exit the time to do so: it
// returns once their number has held still for 100 ms, or after a second.
func settle() { goroutines.Settled(5, 50) }
