package loadtest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/Shopify/toxiproxy/v2/collectors"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	redis "github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/oarepo/heartbeat/httpapi"
	hbgoroutines "github.com/oarepo/heartbeat/internal/goroutines"
	"github.com/oarepo/heartbeat/internal/testserver"
	"github.com/oarepo/heartbeat/receivers/postgres"
	heartbeatredis "github.com/oarepo/heartbeat/receivers/redis"
	"github.com/oarepo/heartbeat/signal"
)

// loadDB is the database the receivers under test connect to, on the
// test's private server, so that its transaction counter counts only their
// queries.
const loadDB = "heartbeat_load"

// servers starts a private PostgreSQL and Redis for the test (see
// internal/testserver): the test reads the servers' own counters and cuts
// their links, and the shared servers on 5432 and 6379 are never touched.
// Without the binaries the test skips, or fails under CI=true.
func servers(t *testing.T) (pgAddr, redisAddr string) {
	t.Helper()
	pg, rd := testserver.Postgres(t), testserver.Redis(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, pg.URL)
	require.NoError(t, err)
	defer func() { _ = c.Close(ctx) }()
	_, err = c.Exec(ctx, "CREATE DATABASE "+loadDB)
	require.NoError(t, err)
	return pg.Addr, rd.Addr
}

// stack is a service as a user would run it: a real http.Server with the
// heartbeat router, a pgx pool and a go-redis client, each checked by its
// bundled receiver on readiness, and a liveliness check that needs neither.
type stack struct {
	url  string
	pg   *pgxpool.Pool
	rdb  *redis.Client
	srv  *httptest.Server
	once sync.Once
}

func newStack(t *testing.T, pgAddr, redisAddr string, opts ...signal.Option) *stack {
	t.Helper()
	cfg, err := pgxpool.ParseConfig("postgres://postgres@" + pgAddr + "/" + loadDB + "?sslmode=disable&connect_timeout=2")
	require.NoError(t, err)
	cfg.MaxConns = 4
	pg, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(t, err)
	rdb := redis.NewClient(&redis.Options{
		Addr: redisAddr, MaxRetries: -1, DialerRetries: 1, ContextTimeoutEnabled: true, PoolSize: 4,
	})

	bus := signal.NewBus(opts...)
	bus.Subscribe(signal.Readiness, postgres.New(pg), signal.Named("postgres"))
	bus.Subscribe(signal.Readiness, heartbeatredis.New(rdb), signal.Named("redis"))
	bus.Subscribe(signal.Liveliness, func(context.Context) signal.Reply {
		return signal.Reply{Name: "goroutines", Status: true, Data: map[string]any{"count": runtime.NumGoroutine()}}
	}, signal.Named("goroutines"))

	srv := httptest.NewServer(httpapi.Router(bus))
	s := &stack{url: srv.URL + httpapi.DefaultPrefix, pg: pg, rdb: rdb, srv: srv}
	t.Cleanup(s.close)
	return s
}

// close stops the server and closes the backends' clients; their
// server-side sessions end, which also makes PostgreSQL flush their
// statistics.
func (s *stack) close() {
	s.once.Do(func() {
		s.srv.CloseClientConnections()
		s.srv.Close()
		s.pg.Close()
		_ = s.rdb.Close()
	})
}

// sample is one probe as a client saw it.
type sample struct {
	path    string
	at      time.Time // when it was answered
	latency time.Duration
	code    int
	err     error
}

// probers send probes from clients goroutines, each sending its next probe
// as soon as the last is answered, alternating over paths, until stop.
type probers struct {
	wg      sync.WaitGroup
	stopped chan struct{}
	tr      *http.Transport

	mu      sync.Mutex
	samples []sample
}

func startProbers(base string, clients int, paths ...string) *probers {
	p := &probers{
		stopped: make(chan struct{}),
		tr:      &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients},
	}
	client := &http.Client{Transport: p.tr, Timeout: 10 * time.Second}
	for i := range clients {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			for n := i; ; n++ {
				select {
				case <-p.stopped:
					return
				default:
				}
				path := paths[n%len(paths)]
				start := time.Now()
				s := sample{path: path}
				resp, err := client.Get(base + "/" + path)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
					s.code = resp.StatusCode
				}
				s.err, s.at, s.latency = err, time.Now(), time.Since(start)
				p.mu.Lock()
				p.samples = append(p.samples, s)
				p.mu.Unlock()
			}
		}()
	}
	return p
}

// stop stops the clients and returns every sample, in the order answered.
func (p *probers) stop() []sample {
	close(p.stopped)
	p.wg.Wait()
	p.tr.CloseIdleConnections()
	slices.SortFunc(p.samples, func(a, b sample) int { return a.at.Compare(b.at) })
	return p.samples
}

// snapshot returns the samples so far without stopping.
func (p *probers) snapshot() []sample {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.samples)
}

// percentile returns the q-quantile of the samples' latencies.
func percentile(samples []sample, q float64) time.Duration {
	if len(samples) == 0 {
		return 0
	}
	lat := make([]time.Duration, len(samples))
	for i, s := range samples {
		lat[i] = s.latency
	}
	slices.Sort(lat)
	return lat[min(int(float64(len(lat))*q), len(lat)-1)]
}

// pgCommits is the transactions committed in loadDB so far, as PostgreSQL
// counts them. Sessions report their counts when they end or at most once a
// second, so read it after the pool is closed.
func pgCommits(t *testing.T, pgAddr string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Connected to another database, so that reading the counter does not
	// change it.
	c, err := pgx.Connect(ctx, "postgres://postgres@"+pgAddr+"/postgres?sslmode=disable")
	require.NoError(t, err)
	defer func() { _ = c.Close(ctx) }()
	// Session ends are reported asynchronously: wait until the count stops
	// moving.
	var last int64 = -1
	for range 20 {
		var n int64
		_, err := c.Exec(ctx, "SELECT pg_stat_clear_snapshot()")
		require.NoError(t, err)
		require.NoError(t, c.QueryRow(ctx, "SELECT xact_commit FROM pg_stat_database WHERE datname = $1", loadDB).Scan(&n))
		if n == last {
			return n
		}
		last = n
		time.Sleep(300 * time.Millisecond)
	}
	return last
}

// redisPings is how many PING commands the test's Redis server has
// served.
func redisPings(t *testing.T, redisAddr string) int64 {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: redisAddr})
	defer func() { _ = c.Close() }()
	info, err := c.Info(context.Background(), "commandstats").Result()
	require.NoError(t, err)
	for _, line := range strings.Split(info, "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "cmdstat_ping:calls=")
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(strings.SplitN(rest, ",", 2)[0], 10, 64)
		require.NoError(t, err)
		return n
	}
	return 0 // never pinged since the server started
}

// goroutines waits for goroutines about to exit, then counts them, less the
// idle workers of heartbeat's goroutine pool (see internal/goroutines).
func goroutines() int { return hbgoroutines.Settled(10, 100) }

// chaos is an in-process toxiproxy.
type chaos struct {
	srv *toxiproxy.ApiServer
}

func newChaos() *chaos {
	srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	srv.Metrics.ProxyMetrics = collectors.NewProxyMetricCollectors()
	return &chaos{srv: srv}
}

// proxy starts a proxy to upstream on a free loopback port.
func (c *chaos) proxy(t *testing.T, name, upstream string) *toxiproxy.Proxy {
	t.Helper()
	p := toxiproxy.NewProxy(c.srv, name, "127.0.0.1:0", upstream)
	require.NoError(t, p.Start())
	t.Cleanup(p.Stop)
	return p
}

// addToxic adds a toxic to p, given as toxiproxy's JSON.
func addToxic(t *testing.T, p *toxiproxy.Proxy, name, kind, attributes string) {
	t.Helper()
	js := fmt.Sprintf(`{"name":%q,"type":%q,"stream":"downstream","toxicity":1,"attributes":%s}`, name, kind, attributes)
	_, err := p.Toxics.AddToxicJson(strings.NewReader(js))
	require.NoError(t, err)
}

func removeToxic(t *testing.T, p *toxiproxy.Proxy, name string) {
	t.Helper()
	require.NoError(t, p.Toxics.RemoveToxic(context.Background(), name))
}

// quiet drops go-redis's own log lines ("failed to dial"): the faults make
// them on purpose, and the test reports what matters.
type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

func init() { redis.SetLogger(quiet{}) }
