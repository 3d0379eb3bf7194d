// Package postgres is a heartbeat receiver that checks a PostgreSQL
// database through the client the application already holds.
//
//	pool, _ := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
//	bus.Subscribe(signal.Readiness, postgres.New(pool))
//
// New takes anything with Ping(ctx) error: *pgxpool.Pool, *pgx.Conn or a
// wrapper of your own. NewSQL takes a *sql.DB (any driver, including
// pgx/v5/stdlib), whose method is called PingContext instead; it is the
// database/sql receiver of github.com/oarepo/heartbeat/receivers/sql under
// this package's default name and options.
//
// The reply's data holds "time" (seconds, float64) on success, "error" on
// failure, and "pool" with the connection counts when the client keeps a
// pool, in its own client's terms: total, idle, in_use and max for
// *pgxpool.Pool (pgxpool.Stat), open, in_use, idle, max_open and wait_count
// for *sql.DB (sql.DBStats). Errors pass through package redact, with the
// password of a pgx client's configuration as an extra secret, so no
// password reaches the reply.
//
// The receiver answers by its context's deadline even if the driver does
// not, and runs at most one database call at a time: a probe that arrives
// while an earlier call still hangs waits for that call instead of adding
// another. A timeout reads "timed out after 750ms" with the bus's default
// timeout (800ms less its 50ms margin) followed, when a quick TCP dial to
// the server can tell, by what it found ("connection refused",
// "the server at … accepts TCP connections but the call got no answer in
// time").
//
// Check a shared database on readiness, not on liveliness: a liveness
// failure restarts the container, so a database outage checked there
// restarts every pod of the service at once and fixes nothing.
package postgres

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/oarepo/heartbeat/internal/backend"
	heartbeatsql "github.com/oarepo/heartbeat/receivers/sql"
	"github.com/oarepo/heartbeat/redact"
	"github.com/oarepo/heartbeat/signal"
)

// Pinger is the least a client must offer: *pgxpool.Pool and *pgx.Conn
// have it. A *pgx.Conn is not safe for concurrent use, so give the receiver
// a connection of its own, or better a pool.
type Pinger interface {
	Ping(ctx context.Context) error
}

// SQLPinger is what NewSQL needs; *sql.DB and *sql.Conn have it.
type SQLPinger = heartbeatsql.Pinger

// Option configures a receiver made by New or NewSQL.
type Option func(*config)

type config struct {
	name    string
	query   string
	secrets []string
}

// WithName sets the reply's name, the key of the check in the probe's
// response. The default is "postgres".
func WithName(name string) Option {
	return func(c *config) { c.name = name }
}

// WithQuery runs query instead of a ping, for a check that also proves the
// schema is in place, such as "select id from records_metadata limit 1".
// Rows are read to the end and discarded. The default is no query: a ping,
// the cheapest round trip (an empty statement). With New the client must
// also have pgx's Exec method, as *pgxpool.Pool and *pgx.Conn do; with
// NewSQL it must have QueryContext (see receivers/sql's WithQuery).
func WithQuery(query string) Option {
	return func(c *config) { c.query = query }
}

// WithSecrets adds strings that must never appear in the reply, such as a
// password the driver might echo. The password of a pgx client is added
// automatically; with NewSQL the receiver cannot see the DSN, so pass it
// here. The default is none.
func WithSecrets(secrets ...string) Option {
	return func(c *config) { c.secrets = append(c.secrets, secrets...) }
}

// pgxExecer runs a query on a pgx client.
type pgxExecer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// check is what both constructors reduce a client to.
type check struct {
	config
	call  func(ctx context.Context) error
	stats func() map[string]any // nil when the client has no pool
	addr  string                // host:port for the timeout diagnosis, or ""
}

// New returns a receiver that pings db, or runs the WithQuery query on it.
func New(db Pinger, opts ...Option) signal.Receiver {
	c := check{config: newConfig(opts)}
	c.call = db.Ping
	if c.query != "" {
		if e, ok := db.(pgxExecer); ok {
			c.call = func(ctx context.Context) error {
				_, err := e.Exec(ctx, c.query)
				return err
			}
		} else {
			c.call = func(context.Context) error {
				return errors.New("postgres: WithQuery needs a client with Exec(ctx, sql, args...), such as *pgxpool.Pool")
			}
		}
	}
	var cc *pgx.ConnConfig
	switch db := db.(type) {
	case interface{ Config() *pgxpool.Config }:
		cc = db.Config().ConnConfig
	case interface{ Config() *pgx.ConnConfig }:
		cc = db.Config()
	}
	if cc != nil {
		c.secrets = append(c.secrets, cc.Password)
		c.addr = tcpAddr(cc.Host, cc.Port)
	}
	if s, ok := db.(interface{ Stat() *pgxpool.Stat }); ok {
		c.stats = func() map[string]any {
			st := s.Stat()
			return map[string]any{
				"total":  st.TotalConns(),
				"idle":   st.IdleConns(),
				"in_use": st.AcquiredConns(),
				"max":    st.MaxConns(),
			}
		}
	}
	return c.receiver()
}

// NewSQL returns a receiver that pings db, or runs the WithQuery query on
// it, through package receivers/sql. It is a constructor of its own because
// database/sql names the method PingContext; a separate function keeps both
// signatures checked by the compiler instead of accepting any value and
// failing at run time. database/sql hides the DSN, so pass its password
// with WithSecrets if the driver might echo it.
func NewSQL(db SQLPinger, opts ...Option) signal.Receiver {
	c := newConfig(opts)
	return heartbeatsql.New(db, heartbeatsql.WithName(c.name), heartbeatsql.WithQuery(c.query), heartbeatsql.WithSecrets(c.secrets...))
}

func newConfig(opts []Option) config {
	c := config{name: "postgres"}
	for _, o := range opts {
		o(&c)
	}
	return c
}

func (c *check) receiver() signal.Receiver {
	flight := &backend.Flight[struct{}]{}
	if c.addr != "" {
		addr := c.addr
		flight.Addr = func() string { return addr }
	}
	return func(ctx context.Context) signal.Reply {
		start := time.Now()
		_, err := flight.Do(ctx, func(ctx context.Context) (struct{}, error) {
			return struct{}{}, c.call(ctx)
		})
		elapsed := time.Since(start)

		data := map[string]any{}
		if err != nil {
			data["error"] = redact.Error(err, c.secrets...)
		} else {
			data["time"] = elapsed.Seconds()
		}
		if c.stats != nil {
			data["pool"] = c.stats()
		}
		return signal.Reply{Name: c.name, Status: err == nil, Data: data}
	}
}

// tcpAddr is host:port for a TCP server, or "" for a Unix socket, which the
// timeout diagnosis does not dial.
func tcpAddr(host string, port uint16) string {
	if host == "" || strings.HasPrefix(host, "/") {
		return ""
	}
	return net.JoinHostPort(host, strconv.Itoa(int(port)))
}
