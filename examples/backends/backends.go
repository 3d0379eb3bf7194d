package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/opensearch-project/opensearch-go/v4"
	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/redis/go-redis/v9"

	"github.com/oarepo/heartbeat/receivers/elastic"
	"github.com/oarepo/heartbeat/receivers/postgres"
	"github.com/oarepo/heartbeat/receivers/rabbitmq"
	heartbeatredis "github.com/oarepo/heartbeat/receivers/redis"
	"github.com/oarepo/heartbeat/receivers/s3"
	heartbeatsql "github.com/oarepo/heartbeat/receivers/sql"
	"github.com/oarepo/heartbeat/redact"
	"github.com/oarepo/heartbeat/signal"
)

// The environment variables that add the bundled receivers to readiness.
// Unset, the server runs with its sample receivers only.
const (
	envPostgres = "HEARTBEAT_POSTGRES_URL" // postgres://user:pw@host:5432/db
	envRedis    = "HEARTBEAT_REDIS_URL"    // redis://:pw@host:6379/0
	envElastic  = "HEARTBEAT_ELASTIC_URL"  // https://elastic:pw@host:9200
	// OpenSearch 2 or later: https://admin:pw@host:9200. An OpenSearch 1.x
	// cluster is checked the same way with elastic.WithFlavor(elastic.Elasticsearch).
	envOpenSearch = "HEARTBEAT_OPENSEARCH_URL"
	envMySQL      = "HEARTBEAT_MYSQL_DSN" // user:pw@tcp(host:3306)/db (go-sql-driver/mysql)
	envAMQP       = "HEARTBEAT_AMQP_URL"  // amqp://user:pw@host:5672/
	envS3         = "HEARTBEAT_S3_URL"    // https://key:secret@host:9000/bucket
)

// subscribeBackends creates a client for each backend named in the
// environment and subscribes its receiver to readiness — not liveliness: an
// outage of a shared backend must take pods out of traffic, not restart all
// of them. It returns a function that closes the clients. Errors never carry
// a password: the clients' own messages can (go-redis's ParseURL and
// go-elasticsearch's and opensearch-go's NewClient print the raw URL), so
// they are scrubbed.
func subscribeBackends(ctx context.Context, bus *signal.Bus) (closeAll func(), err error) {
	var closers []func()
	closeAll = func() {
		for _, c := range closers {
			c()
		}
	}
	fail := func(name string, err error, secret string) (func(), error) {
		closeAll()
		return nil, fmt.Errorf("%s: %s", name, redact.String(err.Error(), secret))
	}

	if raw := os.Getenv(envPostgres); raw != "" {
		pool, err := pgxpool.New(ctx, raw) // lazy: a bad server shows in the probe, not here
		if err != nil {
			return fail(envPostgres, err, password(raw))
		}
		closers = append(closers, pool.Close)
		bus.Subscribe(signal.Readiness, postgres.New(pool), signal.Named("postgres"))
	}

	if raw := os.Getenv(envRedis); raw != "" {
		opts, err := redis.ParseURL(raw)
		if err != nil {
			return fail(envRedis, err, password(raw))
		}
		// A health check wants the real error at once, within its deadline:
		// see the redis receiver's documentation.
		opts.MaxRetries = -1
		opts.DialerRetries = 1
		opts.ContextTimeoutEnabled = true
		client := redis.NewClient(opts)
		closers = append(closers, func() { _ = client.Close() })
		bus.Subscribe(signal.Readiness, heartbeatredis.New(client), signal.Named("redis"))
	}

	if raw := os.Getenv(envElastic); raw != "" {
		es, err := elasticsearch.NewClient(elasticsearch.Config{
			Addresses: []string{raw},
			// 503 means "no master"; retrying it in a probe only hides it.
			DisableRetry: true,
		})
		if err != nil {
			return fail(envElastic, err, password(raw))
		}
		bus.Subscribe(signal.Readiness, elastic.New(es), signal.Named("elasticsearch"))
	}

	if raw := os.Getenv(envOpenSearch); raw != "" {
		// go-elasticsearch refuses OpenSearch; opensearch-go's client is a
		// Transport as well, and naming the flavour makes the first probe
		// send cluster_manager_timeout, not the deprecated master_timeout.
		client, err := opensearch.NewClient(opensearch.Config{
			Addresses:    []string{raw},
			DisableRetry: true, // as for Elasticsearch: a retried 503 hides the missing cluster manager
		})
		if err != nil {
			return fail(envOpenSearch, err, password(raw))
		}
		bus.Subscribe(signal.Readiness, elastic.New(client, elastic.WithFlavor(elastic.OpenSearch),
			elastic.WithName("opensearch")), signal.Named("opensearch"))
	}

	if raw := os.Getenv(envMySQL); raw != "" {
		cfg, err := mysql.ParseDSN(raw)
		if err != nil {
			return fail(envMySQL, err, "")
		}
		cfg.Timeout = 5 * time.Second // the dial, as a probe wants it: seconds, not the OS's minutes
		connector, err := mysql.NewConnector(cfg)
		if err != nil {
			return fail(envMySQL, err, cfg.Passwd)
		}
		db := sql.OpenDB(connector)
		closers = append(closers, func() { _ = db.Close() })
		bus.Subscribe(signal.Readiness, heartbeatsql.New(db, heartbeatsql.WithAddr(cfg.Addr),
			heartbeatsql.WithSecrets(cfg.Passwd)), signal.Named("mysql"))
	}

	if raw := os.Getenv(envAMQP); raw != "" {
		conn, err := amqp.DialConfig(raw, amqp.Config{Dial: amqp.DefaultDial(5 * time.Second)})
		if err != nil {
			return fail(envAMQP, err, password(raw))
		}
		closers = append(closers, func() { _ = conn.Close() })
		bus.Subscribe(signal.Readiness, rabbitmq.New(conn, rabbitmq.WithSecrets(password(raw))), signal.Named("rabbitmq"))
	}

	if raw := os.Getenv(envS3); raw != "" {
		u, err := url.Parse(raw)
		if err != nil {
			return fail(envS3, err, password(raw))
		}
		secret, _ := u.User.Password()
		client, err := minio.New(u.Host, &minio.Options{
			Creds:  credentials.NewStaticV4(u.User.Username(), secret, ""),
			Secure: u.Scheme == "https",
			// One attempt: the real error at once; the next probe is the retry.
			MaxRetries: 1,
		})
		if err != nil {
			return fail(envS3, err, password(raw))
		}
		bus.Subscribe(signal.Readiness, s3.New(client, strings.Trim(u.Path, "/")), signal.Named("s3"))
	}
	return closeAll, nil
}

// password returns the password of a URL's userinfo, for scrubbing, or "".
func password(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "" // redact still masks the userinfo of a URL it finds in text
	}
	p, _ := u.User.Password()
	return p
}
