// Package sql is a heartbeat receiver that checks any database reached
// through database/sql (MySQL and MariaDB with go-sql-driver/mysql,
// PostgreSQL with pgx's stdlib, SQLite, SQL Server …) on the *sql.DB the
// application already holds; it never opens a connection of its own.
//
//	db, err := sql.Open("mysql", os.Getenv("MYSQL_DSN"))
//	...
//	bus.Subscribe(signal.Readiness, heartbeatsql.New(db, heartbeatsql.WithName("mysql")))
//
// The package's name is the standard library's, so import it under another
// name (heartbeatsql above) beside database/sql.
//
// By default the check is db.PingContext, which the driver answers with its
// cheapest round trip (COM_PING for MySQL, an empty statement for pgx).
// WithQuery runs a statement instead, for a check that also proves the
// schema or a permission. The reply's data holds "time" (seconds, float64)
// on success, "error" on failure, and "pool" with the connection counts of
// db.Stats(): open, in_use, idle, max_open (0: no limit) and wait_count (how
// often a caller had to wait for a connection since the pool was opened).
//
// The receiver answers by the context's deadline even when the driver does
// not, and runs at most one database call at a time: a probe that arrives
// while an earlier call still hangs waits for that call instead of taking a
// second connection from the application's pool.
//
// database/sql retries a call that fails with driver.ErrBadConn: twice on a
// pooled connection, then once on a new one. A ping after a server restart
// therefore throws away the dead pooled connections and reports what a new
// connection finds, so the check tells the server's state, not a stale
// connection's; it also means one probe may dial the server, and the error
// reported is the last attempt's. All of it runs within the probe's
// deadline.
//
// Errors pass through package redact. database/sql hides the DSN, so a
// driver that echoes its password could only be caught by shape; name the
// password with WithSecrets to be sure.
//
// Check a shared database on readiness, not on liveliness: a liveness
// failure restarts the container, so a database outage checked there
// restarts every pod of the service at once and fixes nothing.
package sql
