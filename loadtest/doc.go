// Package loadtest proves heartbeat under load and under backend faults,
// against the real PostgreSQL and Redis on 127.0.0.1: thousands of probes
// from many clients through a real http.Server, with the backend's own
// counters showing how few queries they cost, and faults injected between
// heartbeat and the backends by an in-process toxiproxy (latency spikes,
// connection resets, a full cut, then restore).
//
// It is a module of its own so that the heartbeat module does not depend on
// toxiproxy. The package holds only tests:
//
//	go test -race -count=1 ./loadtest/...
//
// Like the receivers' tests, they skip when a server is absent, except under
// CI=true, where they fail. docs/reliability.md lists what they guarantee.
package loadtest
