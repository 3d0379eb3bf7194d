// Command report measures heartbeat side by side with its peers and prints
// the tables of docs/performance.md ("Against peer libraries") as Markdown:
//
//	go run ./bench/cmd/report > /tmp/report.md
//
// It takes about ten minutes. -sections picks some tables only; -rounds,
// -benchtime and -load trade precision for time. Run it on an otherwise idle machine: every
// figure is relative to the bare net/http handler measured in the same run,
// but a busy machine still blurs them.
package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oarepo/heartbeat/bench"
	"github.com/oarepo/heartbeat/signal"
)

func main() {
	testing.Init()
	benchtime := flag.Duration("benchtime", 300*time.Millisecond, "time per in-process benchmark run")
	load := flag.Duration("load", time.Second, "time per loopback load run")
	rounds := flag.Int("rounds", 3, "runs per row, interleaved across libraries; the median is shown")
	clients := flag.Int("clients", 32, "concurrent keep-alive clients of the loopback table")
	sections := flag.String("sections", "inprocess,loopback,coalesce,hung", "tables to print, comma-separated")
	flag.Parse()
	if err := flag.Set("test.benchtime", benchtime.String()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}

	r := &report{w: os.Stdout, ns: map[string]float64{}, rounds: max(*rounds, 1)}
	fmt.Fprintf(r.w, "Measured %s on %s/%s, %d CPUs (GOMAXPROCS %d), %s.\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), bench.Procs(), runtime.Version())
	for _, s := range strings.Split(*sections, ",") {
		switch strings.TrimSpace(s) {
		case "inprocess":
			r.inProcess()
		case "loopback":
			r.loopback(*clients, *load)
		case "coalesce":
			r.coalesce(64, 2**load)
		case "hung":
			r.hung()
		default:
			fmt.Fprintf(os.Stderr, "report: unknown section %q\n", s)
			os.Exit(2)
		}
	}
	r.targets()
}

type report struct {
	w      io.Writer
	rounds int
	// ns, rps and the rest keep figures for the targets, keyed by
	// "scenario/subject".
	ns       map[string]float64
	rps      map[string]float64
	calls    map[string]bench.CoalesceResult
	hungRows map[string]bench.HungResult
}

func (r *report) printf(format string, args ...any) { fmt.Fprintf(r.w, format, args...) }

// best returns the smallest (or largest, when most is true) figure among the
// peers of one scenario, and the peer's name.
func best(fig map[string]float64, scenario string, most bool) (float64, string) {
	v, who := math.NaN(), ""
	for _, s := range bench.Subjects {
		if s.Kind != bench.Peer {
			continue
		}
		x, ok := fig[scenario+"/"+s.Name]
		if !ok {
			continue
		}
		if math.IsNaN(v) || (most && x > v) || (!most && x < v) {
			v, who = x, s.Name
		}
	}
	return v, who
}

func (r *report) inProcess() {
	r.printf("### In-process: one probe through ServeHTTP\n\n")
	r.printf("A new httptest.ResponseRecorder per probe, the same request, probes one after another, as `go test -bench` runs them; the median of %d runs interleaved across the libraries. ×floor is the ratio to the bare handler, ×best peer to the fastest peer in the same scenario (lower is better).\n\n", r.rounds)
	r.printf("| scenario | library | ns/op | B/op | allocs/op | ×floor | ×best peer |\n|---|---|---:|---:|---:|---:|---:|\n")
	for _, sc := range bench.Scenarios {
		runs := map[string][]testing.BenchmarkResult{}
		for range r.rounds {
			for _, sub := range bench.Subjects {
				var be bench.Backend
				tg := sub.New(sc.Setup(&be))
				res := testing.Benchmark(func(b *testing.B) { bench.Probe(b, tg) })
				tg.Close()
				runs[sub.Name] = append(runs[sub.Name], res)
			}
		}
		rows := map[string]testing.BenchmarkResult{}
		for name, rs := range runs {
			slices.SortFunc(rs, func(a, b testing.BenchmarkResult) int { return cmp.Compare(a.NsPerOp(), b.NsPerOp()) })
			rows[name] = rs[len(rs)/2]
			r.ns[sc.Name+"/"+name] = float64(rows[name].NsPerOp())
		}
		floor := r.ns[sc.Name+"/nethttp"]
		peer, _ := best(r.ns, sc.Name, false)
		for _, sub := range bench.Subjects {
			res := rows[sub.Name]
			ns := float64(res.NsPerOp())
			vsPeer := ""
			if sub.Kind == bench.Heartbeat {
				vsPeer = fmt.Sprintf("%.2f", ns/peer)
			}
			r.printf("| %s | %s | %s | %d | %d | %.2f | %s |\n", sc.Name, sub.Name, fmtNs(ns),
				res.AllocedBytesPerOp(), res.AllocsPerOp(), ns/floor, vsPeer)
		}
	}
	r.printf("\n")
}

func (r *report) loopback(clients int, d time.Duration) {
	r.rps = map[string]float64{}
	r.printf("### Loopback HTTP: %d keep-alive clients\n\n", clients)
	r.printf("Each client sends its next probe as soon as the last one is answered, for %v per run; the run with the median req/s of %d, interleaved across the libraries. The clients share the machine's CPUs with the server. ×floor and ×best peer compare req/s (higher is better).\n\n", d, r.rounds)
	r.printf("| scenario | library | req/s | p50 | p99 | errors | non-200 | ×floor | ×best peer |\n|---|---|---:|---:|---:|---:|---:|---:|---:|\n")
	ctx := context.Background()
	for _, sc := range bench.Scenarios {
		runs := map[string][]bench.LoadResult{}
		for range r.rounds {
			for _, sub := range bench.Subjects {
				var be bench.Backend
				tg := sub.New(sc.Setup(&be))
				url, stop := bench.Serve(tg.Handler)
				res := bench.Load(ctx, url+tg.Path, clients, d)
				stop()
				tg.Close()
				runs[sub.Name] = append(runs[sub.Name], res)
			}
		}
		rows := map[string]bench.LoadResult{}
		for name, rs := range runs {
			slices.SortFunc(rs, func(a, b bench.LoadResult) int { return cmp.Compare(a.RPS(), b.RPS()) })
			rows[name] = rs[len(rs)/2]
			r.rps[sc.Name+"/"+name] = rows[name].RPS()
		}
		floor := r.rps[sc.Name+"/nethttp"]
		peer, _ := best(r.rps, sc.Name, true)
		for _, sub := range bench.Subjects {
			res := rows[sub.Name]
			vsPeer := ""
			if sub.Kind == bench.Heartbeat {
				vsPeer = fmt.Sprintf("%.2f", res.RPS()/peer)
			}
			r.printf("| %s | %s | %.0f | %s | %s | %d | %d | %.2f | %s |\n", sc.Name, sub.Name, res.RPS(),
				fmtDur(res.P50), fmtDur(res.P99), res.Errors, res.Requests-res.Status[200], res.RPS()/floor, vsPeer)
		}
	}
	r.printf("\n")
}

func (r *report) coalesce(clients int, d time.Duration) {
	r.calls = map[string]bench.CoalesceResult{}
	r.printf("### One 20 ms check, %d clients, %v per row\n\n", clients, d)
	r.printf("Backend calls are the times the check ran: what a database behind it would serve.\n\n")
	r.printf("| library | probes/s | backend calls/s | probes per call | p50 | p99 | errors |\n|---|---:|---:|---:|---:|---:|---:|\n")
	for _, sub := range bench.Subjects {
		if sub.Kind == bench.Floor {
			continue
		}
		res := bench.Coalesce(context.Background(), sub, clients, 20*time.Millisecond, d)
		r.calls[sub.Name] = res
		perCall := math.Inf(1)
		if res.Calls > 0 {
			perCall = float64(res.Requests) / float64(res.Calls)
		}
		r.printf("| %s | %.0f | %.1f | %.0f | %s | %s | %d |\n", sub.Name, res.RPS(), res.CallsPerSecond(), perCall,
			fmtDur(res.P50), fmtDur(res.P99), res.Errors)
	}
	r.printf("\n")
}

// Hung-check parameters: the 100 ms check timeout, 200 probes at
// once, the kubelet's default 1 s probe timeout as the deadline.
const (
	hungProbes   = 200
	hungTimeout  = 100 * time.Millisecond
	hungDeadline = time.Second
	hungWait     = 3 * time.Second
)

func (r *report) hung() {
	r.hungRows = map[string]bench.HungResult{}
	r.printf("### A check that hangs and ignores its context\n\n")
	r.printf("%d probes at once through ServeHTTP, %v check timeout wherever the library offers one; on time means answered within %v (the kubelet's default probe timeout). Goroutines are those alive after the burst that were not before it, counted %v after it started at the latest, before the hung check is released; a probe still unanswered then counts as one.\n\n",
		hungProbes, hungTimeout, hungDeadline, hungWait)
	r.printf("| library | on time | answered | failed answers | slowest | goroutines held | check calls |\n|---|---:|---:|---:|---:|---:|---:|\n")
	for _, sub := range bench.Subjects {
		if sub.Kind == bench.Floor || sub.Kind == bench.Reference {
			continue // they have no timeout: a hung check hangs them
		}
		res := bench.Hung(sub, hungProbes, hungTimeout, hungDeadline, hungWait)
		r.hungRows[sub.Name] = res
		r.printf("| %s | %d/%d | %d | %d | %s | %d | %d |\n", sub.Name, res.OnTime, res.Probes, res.Answered, res.Failed,
			fmtDur(res.Slowest), res.Goroutines, res.CheckCalls)
		// Let what the library left running finish its timers before the
		// next row.
		time.Sleep(200 * time.Millisecond)
	}
	r.printf("\n")
}

// targets prints the targets as met or missed by this run.
func (r *report) targets() {
	r.printf("### Targets\n\n| target | measured | met |\n|---|---|---|\n")
	row := func(target, measured string, met bool) {
		mark := "no"
		if met {
			mark = "yes"
		}
		r.printf("| %s | %s | %s |\n", target, measured, mark)
	}
	if len(r.ns) > 0 {
		for _, sc := range bench.Scenarios {
			hb := r.ns[sc.Name+"/heartbeat"]
			peer, who := best(r.ns, sc.Name, false)
			row(sc.Name+", defaults: ahead of every peer", fmt.Sprintf("%s vs %s (%s)", fmtNs(hb), fmtNs(peer), who), hb <= peer)
		}
		for _, sc := range []string{"10x5ms", "50x5ms"} {
			hb := r.ns[sc+"/heartbeat-nocache"]
			uncached := maps.Clone(r.ns)
			delete(uncached, sc+"/alexliesenfeld") // the one peer configured to cache
			peer, who := best(uncached, sc, false)
			row(sc+", caching off: ahead of every peer without a cache, for checks that wait on I/O",
				fmt.Sprintf("%s vs %s (%s)", fmtNs(hb), fmtNs(peer), who), hb <= peer)
		}
		for _, sc := range []string{"10-instant", "100-instant"} {
			hb, seq := r.ns[sc+"/heartbeat-nocache"], r.ns[sc+"/heptio"]
			row(sc+", caching off: within 3× of the bare sequential handler (heptio)",
				fmt.Sprintf("%s vs %s (%.1f×)", fmtNs(hb), fmtNs(seq), hb/seq), hb <= 3*seq)
		}
	}
	if r.rps != nil {
		for _, sc := range bench.Scenarios {
			hb := r.rps[sc.Name+"/heartbeat"]
			peer, who := best(r.rps, sc.Name, true)
			row(sc.Name+", loopback, defaults: ahead of every peer", fmt.Sprintf("%.0f vs %.0f req/s (%s)", hb, peer, who), hb >= peer)
		}
		hb, floor := r.rps["0-checks/heartbeat"], r.rps["0-checks/nethttp"]
		row("0 checks, loopback: at least 90% of the bare handler's req/s",
			fmt.Sprintf("%.0f vs %.0f req/s (%.0f%%)", hb, floor, 100*hb/floor), hb >= 0.9*floor)
	}
	if r.hungRows != nil {
		for _, name := range []string{"heartbeat", "heartbeat-nocache"} {
			h := r.hungRows[name]
			row(name+", hung check: every probe on time, at most 1 goroutine held",
				fmt.Sprintf("%d/%d on time, %d held", h.OnTime, h.Probes, h.Goroutines), h.OnTime == h.Probes && h.Goroutines <= 1)
		}
	}
	if r.calls != nil {
		c := r.calls["heartbeat"]
		bound := int64(c.Elapsed/signal.DefaultCacheTTL) + 1
		row("one 20 ms check, 64 clients, 1 s cache: at most one backend call per second, plus the first",
			fmt.Sprintf("%d calls in %v for %d probes (bound %d)", c.Calls, c.Elapsed.Round(time.Millisecond), c.Requests, bound), c.Calls <= bound)
		c = r.calls["heartbeat-nocache"]
		bound = int64(c.Elapsed/(20*time.Millisecond)) + 1
		row("one 20 ms check, 64 clients, caching off: at most one call per 20 ms, plus the first",
			fmt.Sprintf("%d calls in %v for %d probes (bound %d)", c.Calls, c.Elapsed.Round(time.Millisecond), c.Requests, bound), c.Calls <= bound)
	}
	r.printf("\n")
}

func fmtNs(ns float64) string {
	switch {
	case ns >= 1e6:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.1f µs", ns/1e3)
	default:
		return fmt.Sprintf("%.0f ns", ns)
	}
}

func fmtDur(d time.Duration) string { return fmtNs(float64(d)) }
