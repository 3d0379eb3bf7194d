package sql_test

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/oarepo/heartbeat/internal/receivertest"
	"github.com/oarepo/heartbeat/internal/testenv"
	"github.com/oarepo/heartbeat/internal/testnet"
	heartbeatsql "github.com/oarepo/heartbeat/receivers/sql"
	"github.com/oarepo/heartbeat/signal"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// secret is the password put into every DSN that is meant to fail; no reply
// may show it.
const secret = "S3cr3t-sql-pw"

// noSuchUser is a user no shared server has: the server refuses it, so a
// login failure is tested without creating or changing any role.
const noSuchUser = "heartbeat_no_such_user"

// server is one real database reached through database/sql.
type server struct {
	name   string
	driver string
	// dsn is the shared server's DSN; it skips (fails under CI) when the
	// server does not answer.
	dsn func(t testing.TB) string
	// at rewrites dsn to reach addr, as user with password when user is
	// not empty.
	at func(t testing.TB, dsn, addr, user, password string) string
	// addr is the host:port of dsn.
	addr func(t testing.TB, dsn string) string

	missingTable string // what the server says of a missing table
	unknownUser  string // what it says of a user that does not exist
	sleep        string // a query that takes 5 s
}

var servers = []server{
	{
		name: "mariadb", driver: "mysql",
		dsn: func(t testing.TB) string {
			dsn := testenv.Get("HEARTBEAT_TEST_MYSQL_DSN", "root@tcp(127.0.0.1:3306)/test")
			cfg, err := mysql.ParseDSN(dsn)
			require.NoError(t, err)
			testenv.RequireTCP(t, "MariaDB", cfg.Addr)
			return dsn
		},
		at: func(t testing.TB, dsn, addr, user, password string) string {
			cfg, err := mysql.ParseDSN(dsn)
			require.NoError(t, err)
			cfg.Addr = addr
			cfg.Timeout = 10 * time.Second // the receiver's deadline must win, not the driver's
			if user != "" {
				cfg.User, cfg.Passwd = user, password
			}
			return cfg.FormatDSN()
		},
		addr: func(t testing.TB, dsn string) string {
			cfg, err := mysql.ParseDSN(dsn)
			require.NoError(t, err)
			return cfg.Addr
		},
		missingTable: "Error 1146 (42S02): Table 'test.heartbeat_no_such_table' doesn't exist",
		unknownUser:  "Error 1045 (28000): Access denied for user '" + noSuchUser + "'@",
		sleep:        "select sleep(5)",
	},
	{
		name: "postgres", driver: "pgx",
		dsn: func(t testing.TB) string {
			dsn := testenv.Get("HEARTBEAT_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
			testenv.RequireTCP(t, "PostgreSQL", testenv.HostPort(dsn, "5432"))
			return dsn
		},
		at: func(t testing.TB, dsn, addr, user, password string) string {
			u, err := url.Parse(dsn)
			require.NoError(t, err)
			u.Host = addr
			if user != "" {
				u.User = url.UserPassword(user, password)
			}
			q := u.Query()
			q.Set("connect_timeout", "10")
			u.RawQuery = q.Encode()
			return u.String()
		},
		addr: func(t testing.TB, dsn string) string {
			return testenv.HostPort(dsn, "5432")
		},
		missingTable: `relation "heartbeat_no_such_table" does not exist (SQLSTATE 42P01)`,
		unknownUser:  `role "` + noSuchUser + `" does not exist (SQLSTATE 28000)`,
		sleep:        "select pg_sleep(5)",
	},
}

func open(t testing.TB, driver, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open(driver, dsn)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func probe(r signal.Receiver, timeout time.Duration) (signal.Reply, time.Duration) {
	return receivertest.Probe(r, timeout)
}

func TestHealthy(t *testing.T) {
	for _, s := range servers {
		t.Run(s.name, func(t *testing.T) {
			db := open(t, s.driver, s.dsn(t))
			db.SetMaxOpenConns(4)
			for _, opts := range [][]heartbeatsql.Option{nil, {heartbeatsql.WithQuery("select 1")}} {
				reply, _ := probe(heartbeatsql.New(db, opts...), 2*time.Second)
				require.True(t, reply.Status, "%v", reply.Data)
				assert.Equal(t, "database", reply.Name)
				assert.Greater(t, reply.Data["time"], 0.0)
				assert.NotContains(t, reply.Data, "error")
				pool, ok := reply.Data["pool"].(map[string]any)
				require.True(t, ok, "pool statistics: %v", reply.Data)
				assert.Equal(t, 4, pool["max_open"])
				assert.GreaterOrEqual(t, pool["open"], 1, "the check's connection stays in the pool")
				assert.Equal(t, 0, pool["in_use"], "the check gave its connection back")
				assert.Contains(t, pool, "idle")
				assert.Contains(t, pool, "wait_count")
			}
		})
	}
}

func TestQuery(t *testing.T) {
	for _, s := range servers {
		t.Run(s.name, func(t *testing.T) {
			db := open(t, s.driver, s.dsn(t))
			reply, _ := probe(heartbeatsql.New(db, heartbeatsql.WithName("catalog"), heartbeatsql.WithQuery("select 1 union all select 2")), 2*time.Second)
			assert.True(t, reply.Status, "%v", reply.Data)
			assert.Equal(t, "catalog", reply.Name)

			reply, _ = probe(heartbeatsql.New(db, heartbeatsql.WithQuery("select 1 from heartbeat_no_such_table")), 2*time.Second)
			assert.False(t, reply.Status)
			assert.Contains(t, reply.Data["error"], s.missingTable)
			assert.NotContains(t, reply.Data, "time")
			assert.Equal(t, 0, reply.Data["pool"].(map[string]any)["in_use"], "a failed query gives its connection back")
		})
	}
}

func TestWithQueryNeedsAQueryer(t *testing.T) {
	reply, _ := probe(heartbeatsql.New(pingFunc(func(context.Context) error { return nil }), heartbeatsql.WithQuery("select 1")), time.Second)
	assert.False(t, reply.Status)
	assert.Equal(t, "WithQuery needs a client with QueryContext, such as *sql.DB", reply.Data["error"])
	assert.NotContains(t, reply.Data, "pool", "a client without Stats has no pool data")
}

// TestUnreachable: a closed port and a server that accepts and never
// speaks, with a password in the DSN that must never be shown. WithAddr
// lets the timeout say what a TCP dial found.
func TestUnreachable(t *testing.T) {
	for _, s := range servers {
		dsn := s.dsn(t)
		cases := []struct {
			name string
			addr string
			opts func(addr string) []heartbeatsql.Option
			want []string
		}{
			{"closed port", testnet.DeadAddr(t), nil, []string{"connection refused"}},
			{"black hole", testnet.BlackHole(t), nil, []string{"timed out after"}},
			{"black hole, address named", testnet.BlackHole(t),
				func(addr string) []heartbeatsql.Option { return []heartbeatsql.Option{heartbeatsql.WithAddr(addr)} },
				[]string{"timed out after", "accepts TCP connections but the call got no answer in time"}},
		}
		for _, tc := range cases {
			t.Run(s.name+"/"+tc.name, func(t *testing.T) {
				db := open(t, s.driver, s.at(t, dsn, tc.addr, "heartbeat", secret))
				var opts []heartbeatsql.Option
				if tc.opts != nil {
					opts = tc.opts(tc.addr)
				}
				reply, took := probe(heartbeatsql.New(db, opts...), 300*time.Millisecond)
				t.Logf("after %v: %v", took, reply.Data)
				receivertest.AssertFailed(t, reply, took, tc.want...)
				assert.NotContains(t, reply.Data, "time")
				receivertest.AssertNoSecret(t, reply, secret)
			})
		}
	}
}

// TestUnknownUser logs in as a user that does not exist, with a password:
// the server refuses it, the error says so, and the password stays out.
// No role is created or changed on the shared servers.
func TestUnknownUser(t *testing.T) {
	for _, s := range servers {
		t.Run(s.name, func(t *testing.T) {
			dsn := s.dsn(t)
			db := open(t, s.driver, s.at(t, dsn, s.addr(t, dsn), noSuchUser, secret))
			reply, took := probe(heartbeatsql.New(db), 2*time.Second)
			t.Logf("after %v: %v", took, reply.Data)
			receivertest.AssertFailed(t, reply, took, s.unknownUser)
			receivertest.AssertNoSecret(t, reply, secret)
		})
	}
}

// TestSlowQuery: a statement that outlasts the deadline is answered by the
// deadline, and the application's pool answers the next ping.
func TestSlowQuery(t *testing.T) {
	for _, s := range servers {
		t.Run(s.name, func(t *testing.T) {
			db := open(t, s.driver, s.dsn(t))
			reply, took := probe(heartbeatsql.New(db, heartbeatsql.WithQuery(s.sleep)), 300*time.Millisecond)
			t.Logf("after %v: %v", took, reply.Data)
			receivertest.AssertFailed(t, reply, took, "timed out after")

			ping := heartbeatsql.New(db)
			require.Eventually(t, func() bool {
				reply, _ := probe(ping, time.Second)
				return reply.Status
			}, 5*time.Second, 50*time.Millisecond)
		})
	}
}

// TestServerRestart cuts the link to the server while the application holds
// its pool, then restores it on the same address: database/sql discards the
// dead connections (ErrBadConn) and the next probe passes.
func TestServerRestart(t *testing.T) {
	for _, s := range servers {
		t.Run(s.name, func(t *testing.T) {
			dsn := s.dsn(t)
			proxy := testnet.NewProxy(t, s.addr(t, dsn))
			db := open(t, s.driver, s.at(t, dsn, proxy.Addr(), "", ""))
			receivertest.AssertSurvivesRestart(t, heartbeatsql.New(db), proxy)
		})
	}
}

// TestHungCallIsShared: while a ping hangs, later probes answer by their
// deadline and wait for it instead of taking more connections.
func TestHungCallIsShared(t *testing.T) {
	release := make(chan struct{})
	var calls atomic.Int32
	check := heartbeatsql.New(pingFunc(func(context.Context) error {
		calls.Add(1)
		<-release
		return errors.New("driver: bad connection")
	}))
	for range 3 {
		reply, took := probe(check, 100*time.Millisecond)
		receivertest.AssertFailed(t, reply, took, "timed out after")
	}
	assert.Equal(t, int32(1), calls.Load(), "calls made while the first one hung")
	close(release)
	reply, _ := probe(check, time.Second)
	assert.Equal(t, "driver: bad connection", reply.Data["error"])
}

// TestScrubbing: whatever a driver puts in its error, no password reaches
// the reply: by shape in URLs and key=value DSNs, and literally when named
// with WithSecrets, which the mysql DSN form (user:password@tcp(host)/db)
// needs, being no URL.
func TestScrubbing(t *testing.T) {
	cases := []struct {
		name string
		err  string
		opts []heartbeatsql.Option
	}{
		{"URL", "cannot connect to postgres://app:" + secret + "@db.internal:5432/app", nil},
		{"key=value", "connect: host=db.internal user=app password=" + secret + " dbname=app", nil},
		{"quoted key=value", "connect: host=db.internal user=app password='" + secret + " x' dbname=app", nil},
		{"mysql DSN, named", "open app:" + secret + "@tcp(db.internal:3306)/app failed", []heartbeatsql.Option{heartbeatsql.WithSecrets(secret)}},
		{"percent-encoded, named", "dial " + url.QueryEscape(secret+"/&") + " failed", []heartbeatsql.Option{heartbeatsql.WithSecrets(secret + "/&")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			reply, _ := probe(heartbeatsql.New(pingFunc(func(context.Context) error { return errors.New(tc.err) }), tc.opts...), time.Second)
			assert.False(t, reply.Status)
			assert.Contains(t, reply.Data["error"], "xxxxx")
			receivertest.AssertNoSecret(t, reply, secret)
		})
	}
}

type pingFunc func(context.Context) error

func (f pingFunc) PingContext(ctx context.Context) error { return f(ctx) }
