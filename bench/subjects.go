// Package bench measures heartbeat side by side with peer health-check
// libraries and a bare net/http handler, on the same checks and the same
// machine.
//
// It is a module of its own so that the heartbeat module never depends on
// the libraries it is compared with. The benchmarks (go test -bench) give
// in-process costs, cmd/report prints every table of docs/performance.md,
// and the tests check that the comparisons measure what they claim to.
package bench

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"sync"
	"time"

	alex "github.com/alexliesenfeld/health"
	hellofresh "github.com/hellofresh/health-go/v5"
	"github.com/heptiolabs/healthcheck"

	"github.com/oarepo/heartbeat/httpapi"
	"github.com/oarepo/heartbeat/signal"
)

// CheckFunc is one check as every library under test sees it: a function of
// a context that fails with an error.
type CheckFunc func(ctx context.Context) error

// Setup is what a subject is built from.
type Setup struct {
	// Checks are subscribed in order, named check-00, check-01, ….
	Checks []CheckFunc
	// Timeout is the per-check timeout where the library offers one; zero
	// keeps the library's default.
	Timeout time.Duration
}

// Target is a subject built for one scenario.
type Target struct {
	// Handler serves the probe.
	Handler http.Handler
	// Path is the path of the readiness probe on Handler.
	Path string
	// Close releases whatever the library started.
	Close func()
}

// Kind tells the floor, heartbeat and the peers apart in ratios.
type Kind int

// The kinds of subject.
const (
	// Floor is the bare net/http handler that every ratio is taken to.
	Floor Kind = iota
	// Heartbeat is this library.
	Heartbeat
	// Peer is another health-check library.
	Peer
	// Reference is a bare handler that does the least any library must:
	// it shows what the machine allows, not what a library does.
	Reference
)

// Subject is one library in one configuration.
type Subject struct {
	// Name identifies the subject in benchmark names and tables.
	Name string
	// Kind is Floor, Heartbeat or Peer.
	Kind Kind
	// Note says in a few words how the subject is configured.
	Note string
	// New builds the subject for a scenario.
	New func(Setup) Target
}

// FloorBody is what the bare handler writes: the answer heartbeat gives with
// no checks.
var FloorBody = []byte(`{"status":true,"checks":{}}`)

func checkName(i int) string { return fmt.Sprintf("check-%02d", i) }

// Subjects lists every subject, the floor first. Their order is the order of
// the tables' rows.
var Subjects = []Subject{
	{Name: "nethttp", Kind: Floor, Note: "bare net/http handler writing a constant body", New: newFloor},
	{Name: "coalescer", Kind: Reference, Note: "bare net/http handler that runs the checks concurrently, shares one run among the probes that arrive while it is under way and writes a constant body: the best that caching off allows", New: newCoalescer},
	{Name: "heartbeat", Kind: Heartbeat, Note: "defaults: 1 s result cache, 800 ms timeout", New: newHeartbeat(false)},
	{Name: "heartbeat-nocache", Kind: Heartbeat, Note: "signal.WithCacheTTL(0)", New: newHeartbeat(true)},
	{Name: "alexliesenfeld", Kind: Peer, Note: "alexliesenfeld/health v0.8.0, defaults: 1 s cache", New: newAlex(false)},
	{Name: "alexliesenfeld-nocache", Kind: Peer, Note: "alexliesenfeld/health, WithDisabledCache", New: newAlex(true)},
	{Name: "hellofresh", Kind: Peer, Note: "hellofresh/health-go v5.5.4, WithMaxConcurrent(number of checks)", New: newHellofresh(true)},
	{Name: "hellofresh-default", Kind: Peer, Note: "hellofresh/health-go defaults: GOMAXPROCS checks at a time", New: newHellofresh(false)},
	{Name: "heptio", Kind: Peer, Note: "heptiolabs/healthcheck, checks called in turn; healthcheck.Timeout only in the hung-check scenario", New: newHeptio(false)},
	{Name: "heptio-timeout", Kind: Peer, Note: "heptiolabs/healthcheck, every check wrapped in healthcheck.Timeout (800 ms): a deadline like heartbeat's", New: newHeptio(true)},
}

// SubjectByName returns the subject called name.
func SubjectByName(name string) (Subject, bool) {
	for _, s := range Subjects {
		if s.Name == name {
			return s, true
		}
	}
	return Subject{}, false
}

func newFloor(Setup) Target {
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(FloorBody)
	})
	return Target{Handler: h, Path: "/", Close: func() {}}
}

func newCoalescer(s Setup) Target {
	var (
		mu  sync.Mutex
		cur chan struct{} // closed when the run under way ends
	)
	runChecks := func(done chan struct{}) {
		var wg sync.WaitGroup
		for _, c := range s.Checks {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_ = c(context.Background())
			}()
		}
		wg.Wait()
		mu.Lock()
		cur = nil
		mu.Unlock()
		close(done)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		done := cur
		if done == nil {
			done = make(chan struct{})
			cur = done
			go runChecks(done)
		}
		mu.Unlock()
		<-done
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(FloorBody)
	})
	return Target{Handler: h, Path: "/", Close: func() {}}
}

func newHeartbeat(nocache bool) func(Setup) Target {
	return func(s Setup) Target {
		var opts []signal.Option
		if s.Timeout > 0 {
			opts = append(opts, signal.WithTimeout(s.Timeout))
		}
		if nocache {
			opts = append(opts, signal.WithCacheTTL(0))
		}
		bus := signal.NewBus(opts...)
		for i, c := range s.Checks {
			name := checkName(i)
			bus.Subscribe(signal.Readiness, func(ctx context.Context) signal.Reply {
				if err := c(ctx); err != nil {
					return signal.Reply{Name: name, Data: map[string]any{"error": err.Error()}}
				}
				return signal.Reply{Name: name, Status: true}
			}, signal.Named(name))
		}
		return Target{Handler: httpapi.Router(bus), Path: httpapi.DefaultPrefix + "/readiness", Close: func() {}}
	}
}

func newAlex(nocache bool) func(Setup) Target {
	return func(s Setup) Target {
		var opts []alex.CheckerOption
		if s.Timeout > 0 {
			opts = append(opts, alex.WithTimeout(s.Timeout))
		}
		if nocache {
			opts = append(opts, alex.WithDisabledCache())
		}
		for i, c := range s.Checks {
			opts = append(opts, alex.WithCheck(alex.Check{Name: checkName(i), Check: c}))
		}
		checker := alex.NewChecker(opts...)
		return Target{Handler: alex.NewHandler(checker), Path: "/", Close: checker.Stop}
	}
}

func newHellofresh(unbounded bool) func(Setup) Target {
	return func(s Setup) Target {
		var opts []hellofresh.Option
		if unbounded {
			opts = append(opts, hellofresh.WithMaxConcurrent(max(len(s.Checks), 1)))
		}
		h, err := hellofresh.New(opts...)
		if err != nil {
			panic(err)
		}
		for i, c := range s.Checks {
			if err := h.Register(hellofresh.Config{Name: checkName(i), Timeout: s.Timeout, Check: hellofresh.CheckFunc(c)}); err != nil {
				panic(err)
			}
		}
		return Target{Handler: h.Handler(), Path: "/", Close: func() {}}
	}
}

func newHeptio(always bool) func(Setup) Target {
	return func(s Setup) Target {
		timeout := s.Timeout
		if timeout == 0 && always {
			timeout = signal.DefaultTimeout
		}
		h := healthcheck.NewHandler()
		for i, c := range s.Checks {
			check := healthcheck.Check(func() error { return c(context.Background()) })
			if timeout > 0 {
				check = healthcheck.Timeout(check, timeout)
			}
			h.AddReadinessCheck(checkName(i), check)
		}
		return Target{Handler: h, Path: "/ready", Close: func() {}}
	}
}

// Procs is GOMAXPROCS, printed with every table: hellofresh's default
// concurrency and every throughput figure depend on it.
func Procs() int { return runtime.GOMAXPROCS(0) }
