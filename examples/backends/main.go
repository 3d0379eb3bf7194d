// Command backends is the quickstart's companion: a service whose readiness
// checks every backend the environment names, through the bundled receivers
// and the clients an application would already hold.
//
//	HEARTBEAT_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test \
//	HEARTBEAT_REDIS_URL=redis://127.0.0.1:6379/0 \
//	HEARTBEAT_MYSQL_DSN='root@tcp(127.0.0.1:3306)/' \
//	HEARTBEAT_AMQP_URL=amqp://guest:guest@127.0.0.1:5672/ \
//	go run ./examples/backends
//	curl -i http://127.0.0.1:8080/.well-known/heartbeat/readiness
//
// HEARTBEAT_ELASTIC_URL (Elasticsearch, through go-elasticsearch),
// HEARTBEAT_OPENSEARCH_URL (OpenSearch 2 or later, through opensearch-go:
// https://admin:pw@host:9200) and HEARTBEAT_S3_URL
// (https://key:secret@host:9000/bucket) add those three.
//
// Unset variables leave their receivers out; with none set it serves an
// empty, passing readiness. Checks of shared backends go on readiness only:
// an outage of a shared database must take pods out of traffic, not restart
// every one of them.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	ossignal "os/signal"
	"syscall"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/oarepo/heartbeat/httpapi"
	"github.com/oarepo/heartbeat/signal"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	flag.Parse()
	ctx, stop := ossignal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, nil); err != nil {
		slog.Error("backends stopped", "error", err)
		os.Exit(1)
	}
}

// run serves until ctx ends. When ready is not nil it receives the
// listening address, which lets tests use port 0.
func run(ctx context.Context, addr string, ready chan<- string) error {
	bus := signal.NewBus()
	closeBackends, err := subscribeBackends(ctx, bus)
	if err != nil {
		return err
	}
	defer closeBackends()

	r := chi.NewRouter()
	r.Mount(httpapi.DefaultPrefix, httpapi.Router(bus))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: r, ReadHeaderTimeout: 5 * time.Second}
	slog.Info("serving heartbeat probes", "url", "http://"+ln.Addr().String()+httpapi.DefaultPrefix+"/readiness",
		"checks", bus.Names(signal.Readiness))
	if ready != nil {
		ready <- ln.Addr().String()
	}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}
