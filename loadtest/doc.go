// Package loadtest proves heartbeat under load and under backend faults,
// against real PostgreSQL and Redis servers that each test starts for
// itself on free loopback ports (internal/testserver): probes from many
// clients through a real http.Server, with the backends' own counters
// showing how few queries they cost, and faults injected between heartbeat
// and the backends by an in-process toxiproxy (latency spikes, connection
// resets, a full cut, then restore). The tests assert behaviour, never
// speed; throughput figures belong to the bench/ report.
//
// It is a module of its own so that the heartbeat module does not depend on
// toxiproxy. The package holds only tests:
//
//	go test -race -count=1 ./loadtest/...
//
// They need the PostgreSQL server binaries (initdb, postgres) and
// redis-server; without them they skip, except under CI=true, where they
// fail. docs/reliability.md lists what they guarantee.
package loadtest
