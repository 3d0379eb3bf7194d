package rabbitmq

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/oarepo/heartbeat/internal/backend"
	"github.com/oarepo/heartbeat/redact"
	"github.com/oarepo/heartbeat/signal"
)

// Connection is what the receiver needs of an AMQP connection; an
// *amqp.Connection has it. The receiver reads the broker's product and
// version from an *amqp.Connection, and the broker's address from a
// RemoteAddr method, by type assertion.
type Connection interface {
	// Channel opens a channel: the round trip that proves the broker
	// answers.
	Channel() (*amqp.Channel, error)
	// IsClosed reports, without I/O, whether the connection is closed.
	IsClosed() bool
	// NotifyBlocked registers a listener for the broker's
	// connection.blocked and connection.unblocked notices.
	NotifyBlocked(receiver chan amqp.Blocking) chan amqp.Blocking
	// NotifyClose registers a listener for the error that closes the
	// connection.
	NotifyClose(receiver chan *amqp.Error) chan *amqp.Error
}

// Option configures a receiver made by New.
type Option func(*config)

type config struct {
	name    string
	queue   string
	secrets []string
}

// WithName sets the reply's name, the key of the check in the probe's
// response. The default is "rabbitmq".
func WithName(name string) Option {
	return func(c *config) { c.name = name }
}

// WithQueue makes each check also declare the named queue passively and
// report its ready message count and consumer count. A missing queue fails
// the check. The default is no queue: the check proves only that the broker
// answers.
func WithQueue(name string) Option {
	return func(c *config) { c.queue = name }
}

// WithSecrets adds strings that must never appear in the reply, such as the
// connection's password. amqp091-go zeroes the password in the connection's
// configuration once it has logged in, so the receiver cannot find it
// there; the client's own errors do not carry it, and URLs with userinfo
// are masked anyway. The default is none.
func WithSecrets(secrets ...string) Option {
	return func(c *config) { c.secrets = append(c.secrets, secrets...) }
}

// New returns a receiver that checks the broker behind conn: that the
// connection is open and not blocked, and that the broker answers a channel
// open and close now. It registers NotifyBlocked and NotifyClose listeners
// on conn once, followed by a goroutine that ends when conn is closed for
// good.
func New(conn Connection, opts ...Option) signal.Receiver {
	r := newReceiver(opts)
	w := r.use(conn)
	return func(ctx context.Context) signal.Reply { return r.check(ctx, w) }
}

// NewFunc returns a receiver for an application that replaces its
// connection when it redials: current returns the connection in use now,
// or nil and the error of the last dial while there is none, which the
// check reports ("dial tcp …: connection refused", "Exception (403) Reason:
// "username or password not allowed""). The receiver watches each new
// connection it is given as New watches its one.
func NewFunc(current func() (*amqp.Connection, error), opts ...Option) signal.Receiver {
	r := newReceiver(opts)
	var (
		mu   sync.Mutex
		last *amqp.Connection
		w    *watched
	)
	return func(ctx context.Context) signal.Reply {
		conn, err := current()
		if err == nil && conn == nil {
			err = errors.New("no connection")
		}
		if err != nil {
			return r.fail(err)
		}
		mu.Lock()
		if conn != last {
			last, w = conn, r.use(conn)
		}
		cw := w
		mu.Unlock()
		return r.check(ctx, cw)
	}
}

type receiver struct {
	cfg config
}

func newReceiver(opts []Option) *receiver {
	r := &receiver{cfg: config{name: "rabbitmq"}}
	for _, o := range opts {
		o(&r.cfg)
	}
	return r
}

// watched is one connection as a receiver follows it.
type watched struct {
	conn   Connection
	st     *state
	flight backend.Flight[queueStats]
	call   func(context.Context) (queueStats, error)
	server string
}

// use starts watching conn.
func (r *receiver) use(conn Connection) *watched {
	w := &watched{conn: conn, st: watch(conn)}
	w.call = func(context.Context) (queueStats, error) { return roundTrip(conn, r.cfg.queue) }
	if c, ok := conn.(*amqp.Connection); ok {
		// Read once: amqp091-go's automatic recovery rewrites the field
		// while it reconnects, to the same broker.
		w.server = product(c.Properties)
	}
	if c, ok := conn.(interface{ RemoteAddr() net.Addr }); ok {
		// The address a timed-out check dials to tell a refused port
		// from a silent broker; amqp091-go gives a zero TCPAddr for a
		// transport that has none.
		if a := c.RemoteAddr(); a != nil && a.String() != (&net.TCPAddr{}).String() {
			addr := a.String()
			w.flight.Addr = func() string { return addr }
		}
	}
	return w
}

func (r *receiver) fail(err error) signal.Reply {
	return signal.Reply{Name: r.cfg.name, Status: false, Data: map[string]any{
		"error": redact.Error(err, r.cfg.secrets...),
	}}
}

// check is one probe of the connection w.
func (r *receiver) check(ctx context.Context, w *watched) signal.Reply {
	if err := w.st.check(w.conn); err != nil {
		return r.fail(err)
	}
	start := time.Now()
	q, err := w.flight.Do(ctx, w.call)
	elapsed := time.Since(start)
	if err != nil {
		return r.fail(err)
	}
	data := map[string]any{"time": elapsed.Seconds()}
	if w.server != "" {
		data["server"] = w.server
	}
	if r.cfg.queue != "" {
		data["queue"] = r.cfg.queue
		data["messages"] = q.messages
		data["consumers"] = q.consumers
	}
	return signal.Reply{Name: r.cfg.name, Status: true, Data: data}
}

// queueStats is what a passive declare tells of a queue.
type queueStats struct {
	messages, consumers int
}

// roundTrip opens a channel, declares queue passively on it when one is
// named, and closes it. It never creates anything on the broker.
func roundTrip(conn Connection, queue string) (queueStats, error) {
	ch, err := conn.Channel()
	if err != nil {
		return queueStats{}, fmt.Errorf("open a channel: %w", err)
	}
	// A failed passive declare has already closed the channel (the
	// broker's channel.close); Close then returns nil at once. On every
	// other path this Close is a no-op after the one below.
	defer func() { _ = ch.Close() }()

	var q queueStats
	if queue != "" {
		got, err := ch.QueueDeclarePassive(queue, false, false, false, false, nil)
		if err != nil {
			var ae *amqp.Error
			if errors.As(err, &ae) && ae.Code == amqp.NotFound {
				return queueStats{}, fmt.Errorf("queue %q not found: %w", queue, err)
			}
			return queueStats{}, fmt.Errorf("queue %q: %w", queue, err)
		}
		q = queueStats{messages: got.Messages, consumers: got.Consumers}
	}
	if err := ch.Close(); err != nil {
		return queueStats{}, fmt.Errorf("close the channel: %w", err)
	}
	return q, nil
}

// state is what the broker told the connection without being asked: that
// it blocked it, and why it closed.
type state struct {
	mu          sync.Mutex
	blocked     bool
	blockReason string
	closeErr    *amqp.Error
}

// watch registers the listeners on conn and follows them on one goroutine
// until the client closes both, which it does when the connection is closed
// for good (at once for a connection that is already closed).
func watch(conn Connection) *state {
	st := &state{}
	// Buffered so the client's reader, which waits up to a few seconds
	// for a listener, never waits for this one.
	blocks := conn.NotifyBlocked(make(chan amqp.Blocking, 1))
	closes := conn.NotifyClose(make(chan *amqp.Error, 1))
	go func() {
		for blocks != nil || closes != nil {
			select {
			case b, ok := <-blocks:
				if !ok {
					blocks = nil
					continue
				}
				st.mu.Lock()
				st.blocked, st.blockReason = b.Active, b.Reason
				st.mu.Unlock()
			case e, ok := <-closes:
				if !ok {
					closes = nil
					continue
				}
				st.mu.Lock()
				if e != nil {
					st.closeErr = e
				}
				// A connection that comes back through automatic
				// recovery starts unblocked; the broker says again
				// if the alarm is still on.
				st.blocked, st.blockReason = false, ""
				st.mu.Unlock()
			}
		}
	}()
	return st
}

// check reports a closed or blocked connection, or nil.
func (st *state) check(conn Connection) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if conn.IsClosed() {
		if st.closeErr != nil {
			return fmt.Errorf("connection is closed: %w", st.closeErr)
		}
		return errors.New("connection is closed")
	}
	if st.blocked {
		if st.blockReason != "" {
			return fmt.Errorf("connection blocked by the broker: %s", st.blockReason)
		}
		return errors.New("connection blocked by the broker")
	}
	return nil
}

// product is "RabbitMQ 3.10.8" from the broker's connection properties, or
// as much of it as the broker sent.
func product(p amqp.Table) string {
	name, _ := p["product"].(string)
	version, _ := p["version"].(string)
	switch {
	case name != "" && version != "":
		return name + " " + version
	case name != "":
		return name
	default:
		return version
	}
}
