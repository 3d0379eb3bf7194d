package redis_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oarepo/heartbeat/internal/receivertest"
	"github.com/oarepo/heartbeat/internal/testenv"
	"github.com/oarepo/heartbeat/internal/testnet"
	"github.com/oarepo/heartbeat/internal/testserver"
	heartbeatredis "github.com/oarepo/heartbeat/receivers/redis"
	"github.com/oarepo/heartbeat/signal"
)

// secret is the password given to every failing client; no reply may show
// it.
const secret = "S3cr3t-pw"

// serverOptions parses the shared server's URL, after making sure it
// answers. Tests only read from it.
func serverOptions(t testing.TB) *redis.Options {
	t.Helper()
	u := testenv.Get("HEARTBEAT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
	testenv.RequireTCP(t, "Redis", testenv.HostPort(u, "6379"))
	return parseURL(t, u)
}

// privateOptions starts a server of the test's own, for a test that sets
// ACL users or pauses every client.
func privateOptions(t testing.TB) *redis.Options {
	t.Helper()
	return parseURL(t, testserver.Redis(t).URL)
}

// ownServer starts a server of the test's own and returns its options and
// the client through which the test changes it (ACL users, CLIENT PAUSE):
// the only kind of client a test may change a server with.
func ownServer(t testing.TB) (*redis.Options, *redis.Client) {
	t.Helper()
	o := privateOptions(t)
	return o, newClient(t, o)
}

func parseURL(t testing.TB, u string) *redis.Options {
	t.Helper()
	o, err := redis.ParseURL(u)
	require.NoError(t, err)
	return o
}

// settings are the two ways an application configures its client: go-redis's
// defaults, and the ones the package documentation recommends.
var settings = []struct {
	name  string
	apply func(*redis.Options)
}{
	{"defaults", func(*redis.Options) {}},
	{"recommended", func(o *redis.Options) {
		o.MaxRetries = -1
		o.DialerRetries = 1
		o.ContextTimeoutEnabled = true
	}},
}

func newClient(t testing.TB, o *redis.Options) *redis.Client {
	t.Helper()
	c := redis.NewClient(o)
	t.Cleanup(func() { _ = c.Close() })
	return c
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
	o := serverOptions(t)
	t.Run("Client", func(t *testing.T) {
		reply, _ := probe(heartbeatredis.New(newClient(t, o)), 2*time.Second)
		require.True(t, reply.Status, "%v", reply.Data)
		assert.Equal(t, "redis", reply.Name)
		assert.Greater(t, reply.Data["time"], 0.0)
		assert.Equal(t, "master", reply.Data["role"])
		assert.NotContains(t, reply.Data, "error")
	})
	t.Run("UniversalClient", func(t *testing.T) {
		c := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{o.Addr}, DB: o.DB})
		t.Cleanup(func() { _ = c.Close() })
		reply, _ := probe(heartbeatredis.New(c, heartbeatredis.WithName("cache")), 2*time.Second)
		require.True(t, reply.Status, "%v", reply.Data)
		assert.Equal(t, "cache", reply.Name)
	})
	t.Run("Ring", func(t *testing.T) {
		ring := redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"one": o.Addr}, DB: o.DB})
		t.Cleanup(func() { _ = ring.Close() })
		reply, _ := probe(heartbeatredis.New(ring), 2*time.Second)
		require.True(t, reply.Status, "%v", reply.Data)
		assert.Equal(t, 1, reply.Data["shards"])
	})
}

// TestClusterClientAgainstAPlainServer shows the cluster path's failure: the
// server here is not a cluster, and the reply must say so. The client sends
// a wrong password, so the server is a private one.
func TestClusterClientAgainstAPlainServer(t *testing.T) {
	t.Parallel()
	o := privateOptions(t)
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{o.Addr}, Password: secret, MaxRetries: -1})
	t.Cleanup(func() { _ = c.Close() })
	reply, _ := probe(heartbeatredis.New(c), 2*time.Second)
	t.Logf("%v", reply.Data)
	if reply.Status {
		// go-redis may treat a lone server as a one-shard cluster.
		assert.EqualValues(t, 1, reply.Data["shards"])
		return
	}
	assert.NotEmpty(t, reply.Data["error"])
	assertNoSecret(t, reply)
}

// TestRoleIsOptional: a user whose ACL forbids ROLE still gets a passing
// check, just without the role. The user lives on a private server.
func TestRoleIsOptional(t *testing.T) {
	t.Parallel()
	o, admin := ownServer(t)
	ctx := context.Background()
	require.NoError(t, admin.Do(ctx, "ACL", "SETUSER", "heartbeat_norole", "reset", "on", ">norole-pw", "+ping").Err())

	uo := *o
	uo.Username, uo.Password = "heartbeat_norole", "norole-pw"
	reply, _ := probe(heartbeatredis.New(newClient(t, &uo)), 2*time.Second)
	assert.True(t, reply.Status, "%v", reply.Data)
	assert.NotContains(t, reply.Data, "role")
}

// TestFailures runs every way the server can be out of reach against both
// client settings, with a password that must never be shown. Whatever the
// settings, the receiver answers by its deadline and names the cause.
func TestFailures(t *testing.T) {
	t.Parallel()
	o := serverOptions(t)
	cases := []struct {
		name string
		addr string
		want []string
	}{
		{"closed port", testnet.DeadAddr(t), []string{"connection refused"}},
		{"unknown host", "nosuch.invalid:6379", []string{"nosuch.invalid"}},
		{"black hole", testnet.BlackHole(t), []string{"timed out after", "accepts TCP connections"}},
	}
	for _, tc := range cases {
		for _, s := range settings {
			t.Run(tc.name+"/"+s.name, func(t *testing.T) {
				co := *o
				co.Addr, co.Password = tc.addr, secret
				s.apply(&co)
				reply, took := probe(heartbeatredis.New(newClient(t, &co)), 300*time.Millisecond)
				t.Logf("after %v: %v", took, reply.Data)
				receivertest.AssertFailed(t, reply, took, tc.want...)
				assert.NotContains(t, reply.Data, "time")
				assertNoSecret(t, reply)
			})
		}
	}
}

// TestWrongPassword sets an ACL user on a private server.
func TestWrongPassword(t *testing.T) {
	t.Parallel()
	o, admin := ownServer(t)
	ctx := context.Background()
	require.NoError(t, admin.Do(ctx, "ACL", "SETUSER", "heartbeat_pw", "reset", "on", ">heartbeat-right-pw", "+ping", "+role").Err())

	for _, s := range settings {
		t.Run(s.name, func(t *testing.T) {
			co := *o
			co.Username, co.Password = "heartbeat_pw", "heartbeat-right-pw"
			s.apply(&co)
			reply, _ := probe(heartbeatredis.New(newClient(t, &co)), 2*time.Second)
			require.True(t, reply.Status, "the right password must work: %v", reply.Data)

			co.Password = secret
			reply, _ = probe(heartbeatredis.New(newClient(t, &co)), 2*time.Second)
			t.Logf("%v", reply.Data)
			assert.False(t, reply.Status)
			assert.Contains(t, reply.Data["error"], "WRONGPASS")
			assertNoSecret(t, reply)
		})
	}
}

// TestBadURLNeverShowsThePassword: redis.ParseURL quotes the whole URL,
// password included, in its error. An application that reports it through
// the receiver gets it scrubbed.
func TestBadURLNeverShowsThePassword(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{
		"redis://:" + secret + "@127.0.0.1:notaport/0",
		"redis://user:" + secret + " with spaces@127.0.0.1:6379/0",
		"rediss://:" + secret + "@[::1/0",
		"redis://:" + secret + "@127.0.0.1:6379/0%zz",
	} {
		_, err := redis.ParseURL(raw)
		require.Error(t, err)
		require.Contains(t, err.Error(), secret, "go-redis changed; this test no longer proves anything")
		reply, _ := probe(heartbeatredis.New(failing{err}), time.Second)
		assert.False(t, reply.Status)
		assertNoSecret(t, reply)
	}
}

// failing is a client whose every PING fails with err.
type failing struct{ err error }

func (f failing) Ping(ctx context.Context) *redis.StatusCmd {
	cmd := redis.NewStatusCmd(ctx, "ping")
	cmd.SetErr(f.err)
	return cmd
}

func TestNotPONG(t *testing.T) {
	t.Parallel()
	reply, _ := probe(heartbeatredis.New(answer("+OK")), time.Second)
	assert.False(t, reply.Status)
	assert.Contains(t, reply.Data["error"], `PING answered "+OK", want PONG`)
}

type answer string

func (a answer) Ping(ctx context.Context) *redis.StatusCmd {
	return redis.NewStatusResult(string(a), nil)
}

// TestPausedServer makes a private server slow with CLIENT PAUSE, which
// holds every client of the server it is sent to.
func TestPausedServer(t *testing.T) {
	t.Parallel()
	for _, s := range settings {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			o, admin := ownServer(t)
			ctx := context.Background()
			co := *o
			s.apply(&co)
			c := newClient(t, &co)
			r := heartbeatredis.New(c)
			reply, _ := probe(r, 2*time.Second)
			require.True(t, reply.Status, "%v", reply.Data)

			require.NoError(t, admin.Do(ctx, "CLIENT", "PAUSE", "1000", "ALL").Err())
			t.Cleanup(func() { _ = admin.Do(ctx, "CLIENT", "UNPAUSE").Err() })
			reply, took := probe(r, 300*time.Millisecond)
			t.Logf("after %v: %v", took, reply.Data)
			receivertest.AssertFailed(t, reply, took, "timed out after")

			require.NoError(t, admin.Do(ctx, "CLIENT", "UNPAUSE").Err())
			require.Eventually(t, func() bool {
				reply, _ := probe(r, time.Second)
				return reply.Status
			}, 5*time.Second, 50*time.Millisecond, "the same client recovers")
		})
	}
}

// TestServerRestart cuts the link to the server while the application holds
// its client, then restores it on the same address: the same client must
// report healthy at the next probe.
func TestServerRestart(t *testing.T) {
	t.Parallel()
	o := serverOptions(t)
	proxy := testnet.NewProxy(t, o.Addr)
	for _, s := range settings {
		t.Run(s.name, func(t *testing.T) {
			co := *o
			co.Addr = proxy.Addr()
			s.apply(&co)
			r := heartbeatredis.New(newClient(t, &co))
			receivertest.AssertSurvivesRestart(t, r, proxy)
		})
	}
}

// BenchmarkBarePing is the client's own PING, the baseline.
func BenchmarkBarePing(b *testing.B) {
	c := newClient(b, serverOptions(b))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Ping(ctx).Err(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBarePingRole is PING and ROLE in one pipeline without the
// receiver: what the role costs on the wire.
func BenchmarkBarePingRole(b *testing.B) {
	c := newClient(b, serverOptions(b))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.Ping(ctx)
			p.Do(ctx, "ROLE")
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBarePingInfo is PING and INFO replication in one pipeline, the
// alternative that ROLE was chosen over.
func BenchmarkBarePingInfo(b *testing.B) {
	c := newClient(b, serverOptions(b))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.Ping(ctx)
			p.Info(ctx, "replication")
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReceiver is the receiver as the bus calls it, under a deadline.
// Compared with BenchmarkBarePingRole it shows the receiver's overhead
// (goroutine, timers, reply map).
func BenchmarkReceiver(b *testing.B) {
	r := heartbeatredis.New(newClient(b, serverOptions(b)))
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	b.ReportAllocs()
	for b.Loop() {
		if reply := r(ctx); !reply.Status {
			b.Fatal(reply.Data)
		}
	}
}

func ExampleNew() {
	rdb := redis.NewClient(&redis.Options{
		Addr: "cache.example:6379",
		// Give the probe's deadline and the real error to the receiver;
		// see the package documentation.
		MaxRetries:            -1,
		DialerRetries:         1,
		ContextTimeoutEnabled: true,
	})
	defer rdb.Close()

	check := heartbeatredis.New(rdb, heartbeatredis.WithName("cache"))

	ctx, cancel := context.WithTimeout(context.Background(), 800*time.Millisecond)
	defer cancel()
	reply := check(ctx)
	fmt.Println(reply.Name, reply.Status, reply.Data["role"], reply.Data["error"])
}
