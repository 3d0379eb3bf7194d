package sql

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/oarepo/heartbeat/internal/backend"
	"github.com/oarepo/heartbeat/redact"
	"github.com/oarepo/heartbeat/signal"
)

// Pinger is the least New needs: *sql.DB and *sql.Conn have it, and so does
// a wrapper of your own.
type Pinger interface {
	PingContext(ctx context.Context) error
}

// Queryer is what WithQuery needs besides Pinger; *sql.DB and *sql.Conn
// have it.
type Queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Option configures the receiver New returns.
type Option func(*config)

type config struct {
	name    string
	query   string
	addr    string
	secrets []string
}

// WithName sets the reply's name, the key of the check in the probe's
// response. The default is "database": database/sql does not tell under
// which name a driver was registered, and a guess from the driver's type
// would read "stdlib" for pgx.
func WithName(name string) Option {
	return func(c *config) { c.name = name }
}

// WithQuery runs query instead of a ping, for a check that also proves the
// schema is in place or the user may read a table, such as "select id from
// records limit 1". The statement runs with QueryContext, so it may return
// any columns and any number of rows, none included; the rows are read to
// the end and discarded, which returns the connection to the pool clean.
// The default is no query: a ping, the cheapest round trip. The client must
// have QueryContext, as *sql.DB and *sql.Conn do.
func WithQuery(query string) Option {
	return func(c *config) { c.query = query }
}

// WithAddr names the server's host:port. database/sql hides the address in
// the DSN, so without it a timeout reads just "timed out after 750ms" (with
// the bus's default timeout); with it
// the receiver dials the address once, shortly before the deadline, and
// adds what it found ("connection refused", "the server at … accepts TCP
// connections but the call got no answer in time"). The default is none.
func WithAddr(hostPort string) Option {
	return func(c *config) { c.addr = hostPort }
}

// WithSecrets adds strings that must never appear in the reply, such as the
// password in the DSN, in case the driver echoes it. Passwords in URLs and
// password= pairs are masked by shape without it. The default is none.
func WithSecrets(secrets ...string) Option {
	return func(c *config) { c.secrets = append(c.secrets, secrets...) }
}

// New returns a receiver that pings db, or runs the WithQuery query on it.
func New(db Pinger, opts ...Option) signal.Receiver {
	c := &check{config: config{name: "database"}}
	for _, o := range opts {
		o(&c.config)
	}
	c.call = db.PingContext
	if c.query != "" {
		if q, ok := db.(Queryer); ok {
			query := c.query
			c.call = func(ctx context.Context) error { return drain(q.QueryContext(ctx, query)) }
		} else {
			c.call = func(context.Context) error {
				return errors.New("WithQuery needs a client with QueryContext, such as *sql.DB")
			}
		}
	}
	if s, ok := db.(interface{ Stats() sql.DBStats }); ok {
		c.stats = s.Stats
	}
	if c.addr != "" {
		addr := c.addr
		c.flight.Addr = func() string { return addr }
	}
	return c.run
}

type check struct {
	config
	call   func(context.Context) error
	stats  func() sql.DBStats // nil without a pool
	flight backend.Flight[struct{}]
}

func (c *check) run(ctx context.Context) signal.Reply {
	start := time.Now()
	_, err := c.flight.Do(ctx, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, c.call(ctx)
	})
	elapsed := time.Since(start)

	data := make(map[string]any, 2)
	if err != nil {
		data["error"] = redact.Error(err, c.secrets...)
	} else {
		data["time"] = elapsed.Seconds()
	}
	if c.stats != nil {
		st := c.stats()
		data["pool"] = map[string]any{
			"open":       st.OpenConnections,
			"in_use":     st.InUse,
			"idle":       st.Idle,
			"max_open":   st.MaxOpenConnections,
			"wait_count": st.WaitCount,
		}
	}
	return signal.Reply{Name: c.name, Status: err == nil, Data: data}
}

// drain reads every row so the connection goes back to the pool clean, and
// reports an error that only shows up while reading.
func drain(rows *sql.Rows, err error) error {
	if err != nil {
		return err
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return rows.Close()
}
