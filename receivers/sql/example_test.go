package sql_test

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	_ "github.com/go-sql-driver/mysql" // registers the "mysql" driver

	heartbeatsql "github.com/oarepo/heartbeat/receivers/sql"
	"github.com/oarepo/heartbeat/signal"
)

// A readiness check on the application's own *sql.DB. Here the server is
// down (nothing listens on port 1), so the reply says why, without the
// password of the DSN.
func Example() {
	db, err := sql.Open("mysql", "app:S3cr3t-sql-pw@tcp(127.0.0.1:1)/app")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()

	bus := signal.NewBus()
	bus.Subscribe(signal.Readiness, heartbeatsql.New(db, heartbeatsql.WithName("mysql"), heartbeatsql.WithSecrets("S3cr3t-sql-pw")))

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	for _, r := range bus.Publish(ctx, signal.Readiness) {
		fmt.Println(r.Name, r.Status, r.Data["error"])
	}
	// Output: mysql false dial tcp 127.0.0.1:1: connect: connection refused
}

// WithQuery proves more than a ping: here that the user may read a table.
// A query that fails names the server's reason.
func ExampleWithQuery() {
	db, err := sql.Open("mysql", "app@tcp(127.0.0.1:1)/app")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	check := heartbeatsql.New(db,
		heartbeatsql.WithQuery("select id from records limit 1"),
		heartbeatsql.WithAddr("127.0.0.1:1"), // lets a timeout say what a TCP dial finds
	)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	r := check(ctx)
	fmt.Println(r.Name, r.Status, r.Data["pool"].(map[string]any)["in_use"])
	// Output: database false 0
}
