// Package testenv finds the real servers that heartbeat's tests talk to.
//
// A test names its server through an environment variable with a local
// default. When the server cannot be reached the test is skipped with a clear
// message, except under CI=true, where it fails: a green CI run never hides a
// backend that was not tested.
//
// These shared servers are only read from: a test that needs a fault, a
// pause, a role or a setting of its own starts a private server with
// internal/testserver, or a proxy with internal/testnet.
package testenv

import (
	"net"
	"net/url"
	"os"
	"testing"
	"time"
)

// Get returns the environment variable key, or def when it is unset or empty.
func Get(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// InCI reports whether the tests run under CI (CI=true), where an absent
// server is a failure rather than a skip.
func InCI() bool {
	return os.Getenv("CI") == "true"
}

// Unavailable stops the test because a server it needs is absent: a skip
// locally, a failure under CI.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if InCI() {
		t.Fatalf("CI=true and a required server is unavailable: "+format, args...)
	}
	t.Skipf("server unavailable (set the variable or start the server; under CI=true this fails): "+format, args...)
}

// RequireTCP makes sure something listens at addr (host:port), calling
// Unavailable when it does not.
func RequireTCP(t testing.TB, what, addr string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		Unavailable(t, "%s at %s: %v", what, addr, err)
		return
	}
	_ = c.Close()
}

// HostPort returns the host:port of a URL such as
// postgres://user@127.0.0.1:5432/db, using defPort when the URL has none.
func HostPort(rawURL, defPort string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return "127.0.0.1:" + defPort
	}
	if u.Port() == "" {
		return net.JoinHostPort(u.Hostname(), defPort)
	}
	return u.Host
}
