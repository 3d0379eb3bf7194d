package rabbitmq_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/oarepo/heartbeat/internal/receivertest"
	"github.com/oarepo/heartbeat/internal/testenv"
	"github.com/oarepo/heartbeat/internal/testnet"
	"github.com/oarepo/heartbeat/receivers/rabbitmq"
	"github.com/oarepo/heartbeat/redact"
	"github.com/oarepo/heartbeat/signal"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// brokerURL is the real broker's URL, after making sure it answers.
func brokerURL(t testing.TB) string {
	t.Helper()
	u := testenv.Get("HEARTBEAT_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")
	testenv.RequireTCP(t, "RabbitMQ", testenv.HostPort(u, "5672"))
	return u
}

// withHost returns rawURL pointed at addr instead of its own host:port.
func withHost(t testing.TB, rawURL, addr string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	require.NoError(t, err)
	u.Host = addr
	return u.String()
}

// dial connects the way the package documentation recommends, and closes
// the connection when the test ends.
func dial(t testing.TB, rawURL string) *amqp.Connection {
	t.Helper()
	conn, err := amqp.DialConfig(rawURL, amqp.Config{Dial: amqp.DefaultDial(2 * time.Second)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// unique returns a name no other test run uses.
func unique(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

var probe = receivertest.Probe

func TestHealthy(t *testing.T) {
	conn := dial(t, brokerURL(t))
	reply, _ := probe(rabbitmq.New(conn), 2*time.Second)
	require.True(t, reply.Status, "%v", reply.Data)
	assert.Equal(t, "rabbitmq", reply.Name)
	assert.Greater(t, reply.Data["time"], 0.0)
	assert.Contains(t, reply.Data["server"], "RabbitMQ")
	assert.NotContains(t, reply.Data, "error")
	assert.NotContains(t, reply.Data, "queue")

	reply, _ = probe(rabbitmq.New(conn, rabbitmq.WithName("broker")), 2*time.Second)
	assert.True(t, reply.Status, "%v", reply.Data)
	assert.Equal(t, "broker", reply.Name)
	assert.False(t, conn.IsClosed(), "the check leaves the application's connection open")
}

// TestQueueStats declares a queue of the test's own (see ownQueue), puts
// two messages in it and consumes them.
func TestQueueStats(t *testing.T) {
	conn := dial(t, brokerURL(t))
	name := ownQueue(t, conn)
	ch, err := conn.Channel()
	require.NoError(t, err)
	t.Cleanup(func() { _ = ch.Close() })
	require.NoError(t, ch.Confirm(false))
	for range 2 {
		c, err := ch.PublishWithDeferredConfirm("", name, false, false, amqp.Publishing{Body: []byte("x")})
		require.NoError(t, err)
		ok, err := c.WaitContext(context.Background())
		require.NoError(t, err)
		require.True(t, ok)
	}

	r := rabbitmq.New(conn, rabbitmq.WithQueue(name))
	reply, _ := probe(r, 2*time.Second)
	require.True(t, reply.Status, "%v", reply.Data)
	assert.Equal(t, name, reply.Data["queue"])
	assert.Equal(t, 2, reply.Data["messages"])
	assert.Equal(t, 0, reply.Data["consumers"])

	// A consumer of the test's own shows in the next check; the check
	// itself consumed nothing.
	deliveries, err := ch.Consume(name, "", false, false, false, false, nil)
	require.NoError(t, err)
	reply, _ = probe(r, 2*time.Second)
	require.True(t, reply.Status, "%v", reply.Data)
	assert.Equal(t, 1, reply.Data["consumers"])
	for range 2 {
		select {
		case d := <-deliveries:
			require.NoError(t, d.Ack(false))
		case <-time.After(2 * time.Second):
			t.Fatal("the test's consumer got fewer than the two messages it published")
		}
	}
}

func TestMissingQueue(t *testing.T) {
	conn := dial(t, brokerURL(t))
	name := unique("heartbeat-missing-")
	r := rabbitmq.New(conn, rabbitmq.WithQueue(name))
	for range 2 { // the failed declare closed only its own channel
		reply, took := probe(r, 2*time.Second)
		receivertest.AssertFailed(t, reply, took, `queue "`+name+`" not found`, "NOT_FOUND")
	}
	assert.False(t, conn.IsClosed(), "a missing queue closes the throw-away channel, not the connection")
	reply, _ := probe(rabbitmq.New(conn), 2*time.Second)
	assert.True(t, reply.Status, "%v", reply.Data)
}

// TestSecretEchoedByTheBroker: a secret the application passes is masked
// also where the broker itself echoes it. The missing queue's name holds
// the secret, and the broker repeats the name in its error.
func TestSecretEchoedByTheBroker(t *testing.T) {
	const secret = "S3cr3t-pw"
	conn := dial(t, brokerURL(t))
	name := unique("heartbeat-" + secret + "-")
	reply, took := probe(rabbitmq.New(conn, rabbitmq.WithQueue(name), rabbitmq.WithSecrets(secret)), 2*time.Second)
	t.Logf("%v", reply.Data)
	receivertest.AssertFailed(t, reply, took, "not found", "NOT_FOUND", redact.Mask)
	receivertest.AssertNoSecret(t, reply, secret)
}

// app is an application that redials: it holds the connection in use, or
// the error of its last dial, dialing with the recommended settings.
type app struct {
	url  string
	mu   sync.Mutex
	conn *amqp.Connection
	err  error
}

func newApp(t *testing.T, rawURL string) *app {
	a := &app{url: rawURL}
	a.redial()
	t.Cleanup(func() {
		if c, _ := a.current(); c != nil {
			_ = c.Close()
		}
	})
	return a
}

func (a *app) redial() {
	conn, err := amqp.DialConfig(a.url, amqp.Config{Dial: amqp.DefaultDial(300 * time.Millisecond)})
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.conn != nil {
		_ = a.conn.Close()
	}
	a.conn, a.err = conn, err
	if err != nil {
		a.conn = nil
	}
}

func (a *app) current() (*amqp.Connection, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.conn, a.err
}

// TestDialFailures: an application that cannot get a connection reports
// its last dial error through NewFunc: a clear cause, in time, and never
// the password.
func TestDialFailures(t *testing.T) {
	raw := brokerURL(t)
	secret := unique("Wr0ng-pw-")
	wrong, err := url.Parse(raw)
	require.NoError(t, err)
	wrong.User = url.UserPassword(wrong.User.Username(), secret)
	cases := []struct {
		name, url string
		want      string
	}{
		{"closed port", withHost(t, wrong.String(), testnet.DeadAddr(t)), "connection refused"},
		{"wrong password", wrong.String(), "username or password not allowed"},
		{"silent server", withHost(t, wrong.String(), testnet.BlackHole(t)), "i/o timeout"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			a := newApp(t, tc.url)
			took := time.Since(start)
			assert.Less(t, took, receivertest.AnswerBy, "the recommended dial settings give up in time")
			_, err := a.current()
			require.Error(t, err)
			assert.NotContains(t, err.Error(), secret, "amqp091-go's own error")

			reply, took := probe(rabbitmq.NewFunc(a.current, rabbitmq.WithSecrets(secret)), time.Second)
			t.Logf("%v", reply.Data)
			receivertest.AssertFailed(t, reply, took, tc.want)
			receivertest.AssertNoSecret(t, reply, secret)
		})
	}
	reply, _ := probe(rabbitmq.NewFunc(func() (*amqp.Connection, error) { return nil, nil }), time.Second)
	assert.Equal(t, "no connection", reply.Data["error"])
}

// TestConnectionCut cuts the link between the application's connection and
// the broker: the client closes the connection and the receiver says so.
// After the link is back, a receiver made by New keeps reporting the
// closed connection it was given, and one made by NewFunc follows the
// application's new connection.
func TestConnectionCut(t *testing.T) {
	raw := brokerURL(t)
	u, err := url.Parse(raw)
	require.NoError(t, err)
	proxy := testnet.NewProxy(t, u.Host)
	a := newApp(t, withHost(t, raw, proxy.Addr()))
	conn, err := a.current()
	require.NoError(t, err)
	fixed, current := rabbitmq.New(conn), rabbitmq.NewFunc(a.current)
	for _, r := range []signal.Receiver{fixed, current} {
		reply, _ := probe(r, 2*time.Second)
		require.True(t, reply.Status, "%v", reply.Data)
	}

	proxy.Cut()
	reply, took := probe(fixed, 300*time.Millisecond)
	t.Logf("right after the cut, after %v: %v", took, reply.Data)
	receivertest.AssertFailed(t, reply, took)

	require.Eventually(t, conn.IsClosed, 2*time.Second, 10*time.Millisecond)
	for _, r := range []signal.Receiver{fixed, current} {
		reply, took = probe(r, 300*time.Millisecond)
		t.Logf("once the client noticed, after %v: %v", took, reply.Data)
		receivertest.AssertFailed(t, reply, took, "connection is closed")
	}

	require.NoError(t, proxy.Restore())
	a.redial()
	reply, _ = probe(current, 2*time.Second)
	assert.True(t, reply.Status, "NewFunc follows the new connection: %v", reply.Data)
	reply, _ = probe(fixed, 300*time.Millisecond)
	assert.False(t, reply.Status, "New's connection stays closed: %v", reply.Data)
}

// gate is a transport whose writes can be held back: the client's requests
// stop reaching the broker, as when the broker stops reading.
type gate struct {
	net.Conn
	mu   sync.Mutex
	open chan struct{} // closed while writes pass
}

func newGate(c net.Conn) *gate {
	g := &gate{Conn: c, open: make(chan struct{})}
	close(g.open)
	return g
}

func (g *gate) Write(p []byte) (int, error) {
	g.mu.Lock()
	open := g.open
	g.mu.Unlock()
	<-open
	return g.Conn.Write(p)
}

func (g *gate) hold() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.open = make(chan struct{})
}

func (g *gate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.open:
	default:
		close(g.open)
	}
}

// counting counts the channels opened through it.
type counting struct {
	*amqp.Connection
	opens atomic.Int32
}

func (c *counting) Channel() (*amqp.Channel, error) {
	c.opens.Add(1)
	return c.Connection.Channel()
}

// TestBrokerStopsAnswering: the connection is open, the broker no longer
// answers. The check answers by its deadline, says that the broker accepts
// TCP but did not answer, keeps one round trip in flight however many
// probes come, and passes again once the broker answers.
func TestBrokerStopsAnswering(t *testing.T) {
	raw := brokerURL(t)
	var g *gate
	conn, err := amqp.DialConfig(raw, amqp.Config{Dial: func(network, addr string) (net.Conn, error) {
		c, err := amqp.DefaultDial(2*time.Second)(network, addr)
		if err != nil {
			return nil, err
		}
		g = newGate(c)
		return g, nil
	}})
	require.NoError(t, err)
	t.Cleanup(func() {
		g.release()
		_ = conn.Close()
	})
	c := &counting{Connection: conn}
	r := rabbitmq.New(c)
	reply, _ := probe(r, 2*time.Second)
	require.True(t, reply.Status, "%v", reply.Data)

	g.hold()
	before := c.opens.Load()
	for range 3 {
		// A deadline long enough that the 100 ms kept for the
		// diagnosing dial is not eaten by a busy machine.
		reply, took := probe(r, time.Second)
		t.Logf("after %v: %v", took, reply.Data)
		receivertest.AssertFailed(t, reply, took, "timed out after", "accepts TCP connections")
	}
	assert.Equal(t, before+1, c.opens.Load(), "later probes join the round trip in flight")

	g.release()
	require.Eventually(t, func() bool {
		reply, _ := probe(r, time.Second)
		return reply.Status
	}, 5*time.Second, 50*time.Millisecond, "the same connection answers again")
}

// fake is a Connection whose channel opens fail, or hang until the test
// ends, and whose blocked and close notices the test sends.
type fake struct {
	hang    bool
	release chan struct{}
	opens   atomic.Int32
	blocks  chan amqp.Blocking
	closes  chan *amqp.Error
	closed  atomic.Bool
}

func newFake(t *testing.T, hang bool) *fake {
	f := &fake{hang: hang, release: make(chan struct{})}
	t.Cleanup(func() {
		close(f.release)
		if f.blocks != nil {
			close(f.blocks)
		}
		if f.closes != nil {
			close(f.closes)
		}
	})
	return f
}

func (f *fake) Channel() (*amqp.Channel, error) {
	f.opens.Add(1)
	if f.hang {
		<-f.release
	}
	return nil, amqp.ErrClosed
}

func (f *fake) IsClosed() bool { return f.closed.Load() }

func (f *fake) NotifyBlocked(c chan amqp.Blocking) chan amqp.Blocking {
	f.blocks = c
	return c
}

func (f *fake) NotifyClose(c chan *amqp.Error) chan *amqp.Error {
	f.closes = c
	return c
}

func TestHungRoundTripAnswersByTheDeadline(t *testing.T) {
	f := newFake(t, true)
	r := rabbitmq.New(f)
	for range 3 {
		reply, took := probe(r, 200*time.Millisecond)
		receivertest.AssertFailed(t, reply, took, "timed out after")
	}
	assert.Equal(t, int32(1), f.opens.Load(), "one round trip in flight, however many probes")
}

// TestBlocked sends the broker's notices the way the client delivers them;
// a real alarm would need changing the shared broker's limits.
func TestBlocked(t *testing.T) {
	f := newFake(t, false)
	r := rabbitmq.New(f)
	reply, _ := probe(r, time.Second)
	require.Equal(t, `open a channel: Exception (504) Reason: "channel/connection is not open"`, reply.Data["error"])

	f.blocks <- amqp.Blocking{Active: true, Reason: "low on memory"}
	require.Eventually(t, func() bool {
		reply, _ := probe(r, time.Second)
		return reply.Data["error"] == "connection blocked by the broker: low on memory"
	}, time.Second, 5*time.Millisecond)
	opens := f.opens.Load()
	for range 3 {
		reply, took := probe(r, time.Second)
		receivertest.AssertFailed(t, reply, took, "connection blocked by the broker: low on memory")
	}
	assert.Equal(t, opens, f.opens.Load(), "a blocked connection is reported without a round trip")

	f.blocks <- amqp.Blocking{Active: false}
	require.Eventually(t, func() bool {
		reply, _ := probe(r, time.Second)
		return reply.Data["error"] != "connection blocked by the broker: low on memory"
	}, time.Second, 5*time.Millisecond, "unblocked, the check goes back to the round trip")
	assert.Greater(t, f.opens.Load(), opens)
}

func TestClosedWithReason(t *testing.T) {
	f := newFake(t, false)
	r := rabbitmq.New(f)
	f.closed.Store(true)
	reply, took := probe(r, time.Second)
	receivertest.AssertFailed(t, reply, took, "connection is closed")

	f.closes <- &amqp.Error{Code: amqp.ConnectionForced, Reason: "CONNECTION_FORCED - broker forced connection closure with reason 'shutdown'"}
	require.Eventually(t, func() bool {
		reply, _ := probe(r, time.Second)
		return reply.Data["error"] == `connection is closed: Exception (320) Reason: "CONNECTION_FORCED - broker forced connection closure with reason 'shutdown'"`
	}, time.Second, 5*time.Millisecond)
	assert.Zero(t, f.opens.Load(), "a closed connection is reported without a round trip")
}

// TestSecretsAreScrubbed: an error that carries a secret of the
// application's reaches the reply masked.
func TestSecretsAreScrubbed(t *testing.T) {
	const secret = "S3cr3t-token"
	f := newFake(t, false)
	r := rabbitmq.New(f, rabbitmq.WithSecrets(secret))
	f.closed.Store(true)
	f.closes <- &amqp.Error{Code: amqp.AccessRefused, Reason: "ACCESS_REFUSED - token " + secret + " expired; amqp://app:pw-in-url@broker:5672/"}
	var reply signal.Reply
	require.Eventually(t, func() bool {
		reply, _ = probe(r, time.Second)
		e, _ := reply.Data["error"].(string)
		return strings.Contains(e, "ACCESS_REFUSED")
	}, time.Second, 5*time.Millisecond)
	t.Logf("%v", reply.Data)
	assert.False(t, reply.Status)
	receivertest.AssertNoSecret(t, reply, secret, "pw-in-url")
}

// ownQueue declares a queue of the test's own on conn, deleted when the
// test ends. The broker is shared, so the queue is exclusive: it belongs
// to conn, no other connection can use it, and
// the broker deletes it when conn closes, however the test run ends, a
// killed one included. The receiver under test must be given conn itself:
// from another connection even a passive declare fails with
// RESOURCE_LOCKED.
func ownQueue(t testing.TB, conn *amqp.Connection) string {
	t.Helper()
	ch, err := conn.Channel()
	require.NoError(t, err)
	name := unique("heartbeat-test-")
	_, err = ch.QueueDeclare(name, false, false, true, false, nil)
	require.NoError(t, err)
	t.Cleanup(func() {
		_, _ = ch.QueueDelete(name, false, false, false)
		_ = ch.Close()
	})
	return name
}
