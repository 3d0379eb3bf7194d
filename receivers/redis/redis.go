// Package redis is a heartbeat receiver that checks a Redis server through
// the go-redis v9 client the application already holds: *redis.Client,
// *redis.ClusterClient, *redis.Ring, or anything with their Ping method.
//
//	import heartbeatredis "github.com/oarepo/heartbeat/receivers/redis"
//
//	rdb := redis.NewClient(&redis.Options{Addr: "cache:6379",
//		MaxRetries: -1, DialerRetries: 1, ContextTimeoutEnabled: true})
//	bus.Subscribe(signal.Readiness, heartbeatredis.New(rdb))
//
// The reply's data holds "time" (seconds, float64) on success and "error"
// on failure, scrubbed by package redact with the client's password as an
// extra secret. It also says what the client talks to, without extra round
// trips:
//
//   - "role" for a single server (*redis.Client): "master", "slave" or
//     "sentinel", from a ROLE command sent in the same pipeline as the
//     PING, so the check stays one round trip; a failover that turns the
//     server into a replica shows at the next probe. If ROLE is not allowed
//     (ACL) the key is left out and the check still passes.
//   - "shards" for a cluster (the masters in the client's cached slot map)
//     or a ring (its live shards).
//
// # Client settings
//
// go-redis's defaults suit request traffic, not health checks:
//
//   - ContextTimeoutEnabled is false by default, so the client ignores the
//     probe's deadline and a hung server holds the call for the full read
//     timeout (5 s by default, past the kubelet's 1 s). The receiver answers
//     by its deadline anyway, but set ContextTimeoutEnabled: true so the
//     call stops too and the connection is freed.
//   - MaxRetries (3) and DialerRetries (5) retry inside one call, so
//     "connection refused" is lost and the probe only learns that the
//     deadline passed. MaxRetries: -1 and DialerRetries: 1 bring the real
//     error back at once; the next probe is the retry.
//
// With the defaults, the receiver still answers on time: when the deadline
// passes it reports "timed out after …", plus what a quick TCP dial to the
// server finds ("connection refused", or that it accepts connections but did
// not answer) and the error of the previous check if that one finished late.
// At most one call per receiver is in flight: a probe that arrives while an
// earlier call still hangs waits for it instead of adding another.
//
// Check a shared Redis on readiness, not on liveliness: a liveness failure
// restarts the container, so an outage checked there restarts every pod of
// the service at once and fixes nothing.
package redis

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/oarepo/heartbeat/internal/backend"
	"github.com/oarepo/heartbeat/redact"
	"github.com/oarepo/heartbeat/signal"
)

// Pinger is the least a Redis client must offer. *redis.Client,
// *redis.ClusterClient, *redis.Ring and redis.UniversalClient all have it;
// the receiver finds their role, shards, password and address by type
// assertion.
type Pinger interface {
	Ping(ctx context.Context) *goredis.StatusCmd
}

// Option configures a receiver made by New.
type Option func(*config)

type config struct {
	name    string
	secrets []string
}

// WithName sets the reply's name, the key of the check in the probe's
// response. The default is "redis".
func WithName(name string) Option {
	return func(c *config) { c.name = name }
}

// WithSecrets adds strings that must never appear in the reply, such as a
// password given through a CredentialsProvider, which the receiver cannot
// see. The password in the client's options is added automatically. The
// default is none.
func WithSecrets(secrets ...string) Option {
	return func(c *config) { c.secrets = append(c.secrets, secrets...) }
}

// New returns a receiver that pings c and expects PONG.
func New(c Pinger, opts ...Option) signal.Receiver {
	cfg := config{name: "redis"}
	for _, o := range opts {
		o(&cfg)
	}

	var (
		flight backend.Flight[map[string]any]
		call   func(ctx context.Context) (map[string]any, error)
	)
	switch c := c.(type) {
	case *goredis.Client:
		o := c.Options()
		cfg.secrets = append(cfg.secrets, o.Password)
		if o.Network == "" || o.Network == "tcp" {
			flight.Addr = func() string { return o.Addr }
		}
		call = func(ctx context.Context) (map[string]any, error) { return pingWithRole(ctx, c) }
	case *goredis.ClusterClient:
		o := c.Options()
		cfg.secrets = append(cfg.secrets, o.Password)
		if len(o.Addrs) > 0 {
			flight.Addr = func() string { return o.Addrs[0] }
		}
		call = func(ctx context.Context) (map[string]any, error) {
			if err := ping(ctx, c); err != nil {
				return nil, err
			}
			// The PING above loaded the slot map, so this counts the
			// masters it names without another round trip.
			var n atomic.Int64
			if err := c.ForEachMaster(ctx, func(context.Context, *goredis.Client) error {
				n.Add(1)
				return nil
			}); err != nil {
				return nil, err
			}
			return map[string]any{"shards": n.Load()}, nil
		}
	case *goredis.Ring:
		cfg.secrets = append(cfg.secrets, c.Options().Password)
		call = func(ctx context.Context) (map[string]any, error) {
			if err := ping(ctx, c); err != nil {
				return nil, err
			}
			return map[string]any{"shards": c.Len()}, nil
		}
	default:
		call = func(ctx context.Context) (map[string]any, error) { return nil, ping(ctx, c) }
	}

	return func(ctx context.Context) signal.Reply {
		start := time.Now()
		extra, err := flight.Do(ctx, call)
		elapsed := time.Since(start)

		data := map[string]any{}
		if err != nil {
			data["error"] = redact.Error(err, cfg.secrets...)
			return signal.Reply{Name: cfg.name, Status: false, Data: data}
		}
		data["time"] = elapsed.Seconds()
		for k, v := range extra {
			data[k] = v
		}
		return signal.Reply{Name: cfg.name, Status: true, Data: data}
	}
}

// ping sends PING and insists on PONG: anything else is not a healthy
// Redis (a proxy answering for it, a protocol mix-up).
func ping(ctx context.Context, c Pinger) error {
	got, err := c.Ping(ctx).Result()
	if err != nil {
		return err
	}
	if got != "PONG" {
		return fmt.Errorf("PING answered %q, want PONG", got)
	}
	return nil
}

// pingWithRole sends PING and ROLE in one pipeline: one round trip, as
// cheap as a bare PING on any real network, and it tells a master from a
// replica. ROLE's failure alone (an ACL without it) does not fail the check.
func pingWithRole(ctx context.Context, c *goredis.Client) (map[string]any, error) {
	var (
		pong *goredis.StatusCmd
		role *goredis.Cmd
	)
	// Pipelined's error is the first failed command's, which may be ROLE's
	// alone; each command is looked at instead. A failure before any
	// command ran (AUTH on a new connection: WRONGPASS) shows only there.
	_, err := c.Pipelined(ctx, func(p goredis.Pipeliner) error {
		pong = p.Ping(ctx)
		role = p.Do(ctx, "ROLE")
		return nil
	})
	if perr := pong.Err(); perr != nil {
		return nil, perr
	}
	if got := pong.Val(); got != "PONG" {
		if err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("PING answered %q, want PONG", got)
	}
	if r, err := role.Slice(); err == nil && len(r) > 0 {
		if name, ok := r[0].(string); ok {
			return map[string]any{"role": name}, nil
		}
	}
	return nil, nil
}
