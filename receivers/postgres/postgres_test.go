package postgres_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oarepo/heartbeat/internal/receivertest"
	"github.com/oarepo/heartbeat/internal/testenv"
	"github.com/oarepo/heartbeat/internal/testnet"
	"github.com/oarepo/heartbeat/internal/testserver"
	"github.com/oarepo/heartbeat/receivers/postgres"
	"github.com/oarepo/heartbeat/signal"
)

// secret is the password put into every failing DSN; no reply may show it.
const secret = "S3cr3t-pw"

// serverURL is the real server's URL, after making sure it answers.
func serverURL(t testing.TB) string {
	t.Helper()
	u := testenv.Get("HEARTBEAT_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	testenv.RequireTCP(t, "PostgreSQL", testenv.HostPort(u, "5432"))
	return u
}

// withHost returns rawURL pointed at addr, with user and password replaced
// when user is not empty.
func withHost(t testing.TB, rawURL, addr, user, password string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	require.NoError(t, err)
	u.Host = addr
	if user != "" {
		u.User = url.UserPassword(user, password)
	}
	return u.String()
}

// client is a way an application holds its database, and the pool
// statistics its receiver reports, in that client's own terms.
type client struct {
	name     string
	open     func(t testing.TB, dsn string, opts ...postgres.Option) signal.Receiver
	poolKeys []string
}

var clients = []client{
	{"pgxpool", func(t testing.TB, dsn string, opts ...postgres.Option) signal.Receiver {
		return postgres.New(newPool(t, dsn), opts...)
	}, []string{"total", "idle", "in_use", "max"}},
	{"database/sql", func(t testing.TB, dsn string, opts ...postgres.Option) signal.Receiver {
		db, err := sql.Open("pgx", dsn)
		require.NoError(t, err)
		t.Cleanup(func() { _ = db.Close() })
		return postgres.NewSQL(db, opts...)
	}, []string{"open", "idle", "in_use", "max_open", "wait_count"}},
}

func newPool(t testing.TB, dsn string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), dsn)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	return pool
}

// probe calls r under a deadline, as the bus would.
var probe = receivertest.Probe

// assertNoSecret checks the reply as it would reach the wire.
func assertNoSecret(t *testing.T, reply signal.Reply) {
	t.Helper()
	receivertest.AssertNoSecret(t, reply, secret)
}

func TestHealthy(t *testing.T) {
	t.Parallel()
	dsn := serverURL(t)
	for _, c := range clients {
		t.Run(c.name, func(t *testing.T) {
			reply, _ := probe(c.open(t, dsn), 2*time.Second)
			require.True(t, reply.Status, "%v", reply.Data)
			assert.Equal(t, "postgres", reply.Name)
			assert.Greater(t, reply.Data["time"], 0.0)
			assert.NotContains(t, reply.Data, "error")
			pool, ok := reply.Data["pool"].(map[string]any)
			require.True(t, ok, "pool statistics: %v", reply.Data)
			for _, k := range c.poolKeys {
				assert.Contains(t, pool, k)
			}
			_, err := json.Marshal(reply.Data)
			assert.NoError(t, err)
		})
	}
	t.Run("pgx.Conn", func(t *testing.T) {
		conn, err := pgx.Connect(context.Background(), dsn)
		require.NoError(t, err)
		t.Cleanup(func() { _ = conn.Close(context.Background()) })
		reply, _ := probe(postgres.New(conn), 2*time.Second)
		require.True(t, reply.Status, "%v", reply.Data)
		assert.Greater(t, reply.Data["time"], 0.0)
		assert.NotContains(t, reply.Data, "pool", "a single connection has no pool")
	})
}

func TestWithQueryAndName(t *testing.T) {
	t.Parallel()
	dsn := serverURL(t)
	for _, c := range clients {
		t.Run(c.name, func(t *testing.T) {
			reply, _ := probe(c.open(t, dsn, postgres.WithName("database"),
				postgres.WithQuery("select generate_series(1, 100)")), 2*time.Second)
			assert.True(t, reply.Status, "%v", reply.Data)
			assert.Equal(t, "database", reply.Name)

			reply, _ = probe(c.open(t, dsn, postgres.WithQuery("select id from heartbeat_no_such_table limit 1")), 2*time.Second)
			assert.False(t, reply.Status)
			assert.Contains(t, reply.Data["error"], "does not exist")
		})
	}
}

func TestWithQueryNeedsAClientThatQueries(t *testing.T) {
	t.Parallel()
	r := postgres.New(pingerFunc(func(context.Context) error { return nil }), postgres.WithQuery("select 1"))
	reply, _ := probe(r, time.Second)
	assert.False(t, reply.Status)
	assert.Contains(t, reply.Data["error"], "WithQuery needs")
}

// TestFailures runs every way the server can be out of reach against both
// client kinds, with a password in the DSN that must never be shown.
func TestFailures(t *testing.T) {
	t.Parallel()
	dsn := serverURL(t)
	cases := []struct {
		name string
		addr string
		want []string
		// wantPgx is only shown by New: database/sql hides the server's
		// address, so NewSQL cannot dial it to explain a timeout.
		wantPgx []string
	}{
		{"closed port", testnet.DeadAddr(t), []string{"connection refused"}, nil},
		{"unknown host", "nosuch.invalid:5432", []string{"nosuch.invalid"}, nil},
		{"black hole", testnet.BlackHole(t), []string{"timed out after"}, []string{"accepts TCP connections"}},
	}
	for _, tc := range cases {
		for _, c := range clients {
			t.Run(tc.name+"/"+c.name, func(t *testing.T) {
				r := c.open(t, withHost(t, dsn, tc.addr, "heartbeat", secret)+"&connect_timeout=10")
				reply, took := probe(r, 300*time.Millisecond)
				t.Logf("after %v: %v", took, reply.Data)
				want := tc.want
				if c.name == "pgxpool" {
					want = append(want, tc.wantPgx...)
				}
				receivertest.AssertFailed(t, reply, took, want...)
				assert.NotContains(t, reply.Data, "time")
				assertNoSecret(t, reply)
			})
		}
	}
}

// TestWrongPassword creates a role with a password on a private server,
// whose pg_hba.conf asks every role but the superuser for its password: the
// shared server is never given a role, and may trust everyone.
func TestWrongPassword(t *testing.T) {
	t.Parallel()
	srv := testserver.Postgres(t)
	ctx := context.Background()
	const right = "heartbeat-right-pw"
	_, err := newPool(t, srv.URL).Exec(ctx, "CREATE ROLE heartbeat_pw LOGIN PASSWORD '"+right+"'")
	require.NoError(t, err)

	good, err := pgx.Connect(ctx, withHost(t, srv.URL, srv.Addr, "heartbeat_pw", right))
	require.NoError(t, err, "the right password must work")
	_ = good.Close(ctx)

	wrong := withHost(t, srv.URL, srv.Addr, "heartbeat_pw", secret)
	for _, c := range clients {
		t.Run(c.name, func(t *testing.T) {
			reply, _ := probe(c.open(t, wrong), 2*time.Second)
			t.Logf("%v", reply.Data)
			assert.False(t, reply.Status)
			assert.Contains(t, reply.Data["error"], "password authentication failed")
			assert.Contains(t, reply.Data["error"], "28P01")
			assertNoSecret(t, reply)
		})
	}
}

func TestBadDSNNeverShowsThePassword(t *testing.T) {
	t.Parallel()
	for _, dsn := range []string{
		"postgres://heartbeat:" + secret + "@127.0.0.1:notaport/test",
		"host=127.0.0.1 port=notaport user=heartbeat password=" + secret,
		"host=127.0.0.1 user=heartbeat password='" + secret + " with spaces' sslmode=bogus",
	} {
		_, err := pgxpool.ParseConfig(dsn)
		require.Error(t, err)
		// An application that reports the parse error through a receiver,
		// rather than failing to start, goes through the same scrubbing.
		r := postgres.New(pingerFunc(func(context.Context) error { return err }))
		reply, _ := probe(r, time.Second)
		assert.False(t, reply.Status)
		assertNoSecret(t, reply)
	}
}

func TestSlowQuery(t *testing.T) {
	t.Parallel()
	dsn := serverURL(t)
	for _, c := range clients {
		t.Run(c.name, func(t *testing.T) {
			r := c.open(t, dsn, postgres.WithQuery("select pg_sleep(5)"))
			reply, took := probe(r, 300*time.Millisecond)
			t.Logf("after %v: %v", took, reply.Data)
			receivertest.AssertFailed(t, reply, took, "timed out after")
		})
	}
}

// TestSlowQueryLeavesThePoolUsable: pgx cancels the query when the context
// ends, so the same pool answers the next ping.
func TestSlowQueryLeavesThePoolUsable(t *testing.T) {
	t.Parallel()
	pool := newPool(t, serverURL(t))
	reply, _ := probe(postgres.New(pool, postgres.WithQuery("select pg_sleep(5)")), 300*time.Millisecond)
	require.False(t, reply.Status)
	ping := postgres.New(pool)
	require.Eventually(t, func() bool {
		reply, _ := probe(ping, time.Second)
		return reply.Status
	}, 3*time.Second, 50*time.Millisecond)
}

// TestServerRestart cuts the link to the server while the application holds
// its pool, then restores it on the same address: the same pool must report
// healthy again without the application doing anything.
func TestServerRestart(t *testing.T) {
	t.Parallel()
	dsn := serverURL(t)
	u, err := url.Parse(dsn)
	require.NoError(t, err)
	proxy := testnet.NewProxy(t, u.Host)
	for _, c := range clients {
		t.Run(c.name, func(t *testing.T) {
			r := c.open(t, withHost(t, dsn, proxy.Addr(), "", ""))
			receivertest.AssertSurvivesRestart(t, r, proxy)
		})
	}
}

type pingerFunc func(context.Context) error

func (f pingerFunc) Ping(ctx context.Context) error { return f(ctx) }

// BenchmarkBarePing is the client's own cost, the baseline for
// BenchmarkReceiver.
func BenchmarkBarePing(b *testing.B) {
	pool := newPool(b, serverURL(b))
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	require.NoError(b, pool.Ping(ctx))
	b.ReportAllocs()
	for b.Loop() {
		if err := pool.Ping(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReceiver is the same ping through the receiver: the difference
// to BenchmarkBarePing is the receiver's overhead (goroutine, timers,
// statistics, reply map).
func BenchmarkReceiver(b *testing.B) {
	pool := newPool(b, serverURL(b))
	r := postgres.New(pool)
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	require.True(b, r(ctx).Status)
	b.ReportAllocs()
	for b.Loop() {
		if reply := r(ctx); !reply.Status {
			b.Fatal(reply.Data)
		}
	}
}

func ExampleNew() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, "postgres://app@db.example:5432/app")
	if err != nil {
		panic(err)
	}
	defer pool.Close()

	check := postgres.New(pool,
		postgres.WithName("database"),
		postgres.WithQuery("select id from records_metadata limit 1"),
	)

	// The bus calls the receiver with a deadline; so can anyone else.
	ctx, cancel := context.WithTimeout(ctx, 800*time.Millisecond)
	defer cancel()
	reply := check(ctx)
	fmt.Println(reply.Name, reply.Status, reply.Data["time"], reply.Data["error"])
}

func ExampleNewSQL() {
	db, err := sql.Open("pgx", "postgres://app@db.example:5432/app")
	if err != nil {
		panic(err)
	}
	defer db.Close()

	// database/sql hides the DSN, so name the password if it might be echoed.
	check := postgres.NewSQL(db, postgres.WithSecrets("the-password"))
	_ = check
}
