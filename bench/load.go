package bench

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"time"
)

// LoadResult is what a load run measured.
type LoadResult struct {
	// Requests is how many probes were answered; Errors how many failed at
	// the HTTP level (connection errors, bodies that could not be read).
	Requests, Errors int
	// Status counts the answers by HTTP status code.
	Status map[int]int
	// Elapsed is how long the run took.
	Elapsed time.Duration
	// P50, P99 and Max are latencies of the answered probes.
	P50, P99, Max time.Duration
}

// RPS is the answered probes per second.
func (r LoadResult) RPS() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// Serve serves h on a loopback port and returns the base URL and a function
// that stops the server.
func Serve(h http.Handler) (url string, stop func()) {
	srv := httptest.NewServer(h)
	return srv.URL, func() {
		srv.CloseClientConnections()
		srv.Close()
	}
}

// Load sends GET url from clients concurrent keep-alive clients, each sending
// its next request as soon as its last one is answered, for d.
func Load(ctx context.Context, url string, clients int, d time.Duration) LoadResult {
	tr := &http.Transport{
		MaxIdleConns:        clients,
		MaxIdleConnsPerHost: clients,
		MaxConnsPerHost:     clients,
		IdleConnTimeout:     30 * time.Second,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}

	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()

	type tally struct {
		lat    []time.Duration
		errors int
		status map[int]int
	}
	tallies := make([]tally, clients)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range tallies {
		wg.Add(1)
		go func(t *tally) {
			defer wg.Done()
			t.status = map[int]int{}
			for ctx.Err() == nil {
				req, _ := http.NewRequest(http.MethodGet, url, nil)
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					t.errors++
					continue
				}
				_, err = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				if err != nil {
					t.errors++
					continue
				}
				t.lat = append(t.lat, time.Since(t0))
				t.status[resp.StatusCode]++
			}
		}(&tallies[i])
	}
	wg.Wait()
	r := LoadResult{Elapsed: time.Since(start), Status: map[int]int{}}
	var lat []time.Duration
	for _, t := range tallies {
		lat = append(lat, t.lat...)
		r.Errors += t.errors
		for code, n := range t.status {
			r.Status[code] += n
		}
	}
	r.Requests = len(lat)
	if len(lat) > 0 {
		slices.Sort(lat)
		r.P50 = lat[len(lat)/2]
		r.P99 = lat[len(lat)*99/100]
		r.Max = lat[len(lat)-1]
	}
	return r
}

// CoalesceResult is what one slow check under many clients cost its backend.
type CoalesceResult struct {
	LoadResult
	// Calls is how many times the check ran, counted from when the
	// subject was built: alexliesenfeld runs its checks once on start.
	Calls int64
}

// CallsPerSecond is how often the check ran.
func (r CoalesceResult) CallsPerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Calls) / r.Elapsed.Seconds()
}

// Coalesce serves one check taking delay on loopback and loads it from
// clients concurrent clients for d: how many backend calls do the probes
// cost?
func Coalesce(ctx context.Context, sub Subject, clients int, delay, d time.Duration) CoalesceResult {
	var b Backend
	tg := sub.New(Setup{Checks: []CheckFunc{b.Check(delay)}})
	defer tg.Close()
	url, stop := Serve(tg.Handler)
	defer stop()
	r := Load(ctx, url+tg.Path, clients, d)
	return CoalesceResult{LoadResult: r, Calls: b.Calls()}
}
