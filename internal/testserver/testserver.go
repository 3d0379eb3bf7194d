// Package testserver starts private PostgreSQL, Redis and SeaweedFS servers
// for tests that would otherwise have to change a shared one: a test that
// creates a role, sets an ACL user, pauses every client or reads the
// server's own counters does it to a server of its own, on a free loopback
// port, which is stopped and deleted when the test ends. SeaweedFS, an S3
// store, has no shared server at all.
//
// The servers are the installed binaries (initdb and postgres from the
// PostgreSQL packages, redis-server, the weed that .ci/seaweedfs.sh
// builds), so they are as real as the shared ones. PostgreSQL refuses to
// run as root: under root the server runs as the postgres system user, in a
// temporary directory given to that user; any other user runs it as
// themselves.
//
// When a binary is missing, Postgres, Redis and SeaweedFS skip the test, or
// fail it under CI=true (see internal/testenv).
package testserver

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/oarepo/heartbeat/internal/testenv"
)

// ErrNotInstalled is returned when the server's binaries cannot be found.
var ErrNotInstalled = errors.New("testserver: server binaries not installed")

// StartTimeout bounds how long a server may take to accept connections.
const StartTimeout = 30 * time.Second

// Server is a running private server.
type Server struct {
	// Addr is the server's 127.0.0.1:port; for SeaweedFS, its S3 endpoint.
	Addr string
	// URL connects as the server's superuser without a password:
	// postgres://postgres@127.0.0.1:port/postgres?sslmode=disable for
	// PostgreSQL, redis://127.0.0.1:port/0 for Redis. For SeaweedFS it is
	// the S3 endpoint, http://127.0.0.1:port.
	URL string
	// Dir is the server's private directory (data, socket, log).
	Dir string

	cmd       *exec.Cmd
	exited    chan struct{} // closed once cmd has been waited for
	log       *lockedBuffer
	stopWait  time.Duration // from SIGTERM to SIGKILL
	leftovers []string      // files outside Dir to delete after it stopped
	once      sync.Once
	err       error
}

// Postgres starts a private PostgreSQL server and stops it when the test
// ends. Its pg_hba.conf trusts the superuser postgres on 127.0.0.1 and asks
// every other role for its password (scram-sha-256), so a test can create a
// role with a password and see a wrong one refused.
func Postgres(t testing.TB) *Server {
	t.Helper()
	return start(t, "PostgreSQL", StartPostgres)
}

// Redis starts a private redis-server with args added to its command line
// (e.g. "--requirepass", "pw") and stops it when the test ends. It keeps
// nothing on disk.
func Redis(t testing.TB, args ...string) *Server {
	t.Helper()
	return start(t, "Redis", func() (*Server, error) { return StartRedis(args...) })
}

func start(t testing.TB, what string, run func() (*Server, error)) *Server {
	t.Helper()
	s, err := run()
	if errors.Is(err, ErrNotInstalled) {
		testenv.Unavailable(t, "a private %s server: %v", what, err)
		return nil
	}
	if err != nil {
		t.Fatalf("start a private %s server: %v", what, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("stop the private %s server: %v", what, err)
		}
	})
	return s
}

// StartPostgres is Postgres without a test: the caller must Close the
// server.
func StartPostgres() (*Server, error) {
	bin, err := postgresBin()
	if err != nil {
		return nil, err
	}
	owner, err := serverUser()
	if err != nil {
		return nil, err
	}
	dir, err := privateDir("heartbeat-pg-", owner)
	if err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "data")
	initdb := command(owner, dir, filepath.Join(bin, "initdb"),
		"-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync")
	if out, err := initdb.CombinedOutput(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}
	hba := "local all all trust\n" +
		"host all postgres 127.0.0.1/32 trust\n" +
		"host all all 127.0.0.1/32 scram-sha-256\n"
	if err := os.WriteFile(filepath.Join(data, "pg_hba.conf"), []byte(hba), 0o600); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	if owner != nil {
		_ = os.Chown(filepath.Join(data, "pg_hba.conf"), owner.uid, owner.gid)
	}
	s, err := listen(1, func(ports []string) *exec.Cmd {
		return command(owner, dir, filepath.Join(bin, "postgres"), "-D", data, "-p", ports[0], "-k", dir,
			"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
			"-c", "full_page_writes=off", "-c", "max_connections=50", "-c", "shared_buffers=16MB")
	}, "database system is ready to accept connections", dir)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	s.URL = "postgres://postgres@" + s.Addr + "/postgres?sslmode=disable"
	return s, nil
}

// StartRedis is Redis without a test: the caller must Close the server.
func StartRedis(args ...string) (*Server, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("%w: redis-server: %v", ErrNotInstalled, err)
	}
	dir, err := os.MkdirTemp("", "heartbeat-redis-")
	if err != nil {
		return nil, err
	}
	s, err := listen(1, func(ports []string) *exec.Cmd {
		base := []string{"--port", ports[0], "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
			"--dir", dir, "--daemonize", "no", "--logfile", ""}
		return command(nil, dir, bin, append(base, args...)...)
	}, "Ready to accept connections", dir)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	s.URL = "redis://" + s.Addr + "/0"
	return s, nil
}

// Close stops the server (SIGTERM, then SIGKILL after ten seconds, or three
// for SeaweedFS, which often ignores SIGTERM), waits for it and deletes its
// directory. It may be called more than once.
func (s *Server) Close() error {
	s.once.Do(func() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(cmp.Or(s.stopWait, 10*time.Second)):
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
		for _, f := range s.leftovers {
			_ = os.Remove(f)
		}
		s.err = os.RemoveAll(s.Dir)
	})
	return s.err
}

// Log returns what the server has written to its log so far.
func (s *Server) Log() string { return s.log.String() }

// listen starts the command newCmd makes for n free ports and waits for
// ready in its output; the first port is the server's Addr. A port taken by
// someone else between the probe and the bind is retried with others.
func listen(n int, newCmd func(ports []string) *exec.Cmd, ready, dir string) (*Server, error) {
	var err error
	for range 3 {
		var s *Server
		if s, err = startOnce(n, newCmd, ready, dir); err == nil {
			return s, nil
		}
	}
	return nil, err
}

func startOnce(n int, newCmd func(ports []string) *exec.Cmd, ready, dir string) (*Server, error) {
	ports, err := freePorts(n)
	if err != nil {
		return nil, err
	}
	cmd := newCmd(ports)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = cmd.Stdout // one pipe for both: *os.File, so one copy
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &Server{Addr: "127.0.0.1:" + ports[0], Dir: dir, cmd: cmd, exited: make(chan struct{}), log: &lockedBuffer{}}
	readyc := make(chan struct{})
	go func() {
		defer close(s.exited)
		scanUntil(out, s.log, ready, readyc)
		_ = cmd.Wait()
	}()
	select {
	case <-readyc:
		return s, nil
	case <-s.exited:
		return nil, fmt.Errorf("%s exited before it was ready:\n%s", filepath.Base(cmd.Path), s.Log())
	case <-time.After(StartTimeout):
		_ = cmd.Process.Kill()
		<-s.exited
		return nil, fmt.Errorf("%s not ready within %v:\n%s", filepath.Base(cmd.Path), StartTimeout, s.Log())
	}
}

// scanUntil copies r into log line by line, closing readyc at the first
// line that contains ready, and goes on until r ends.
func scanUntil(r io.Reader, log *lockedBuffer, ready string, readyc chan struct{}) {
	sc := bufio.NewScanner(r)
	seen := false
	for sc.Scan() {
		line := sc.Text()
		log.add(line)
		if !seen && strings.Contains(line, ready) {
			seen = true
			close(readyc)
		}
	}
	_, _ = io.Copy(io.Discard, r)
}

// freePorts returns n distinct loopback ports that were free a moment ago:
// all are listened on at once, then released.
func freePorts(n int) ([]string, error) {
	var ports []string
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer ln.Close()
		ports = append(ports, strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
	}
	return ports, nil
}

// postgresBin finds the directory of initdb and postgres: $PATH first, then
// Debian's /usr/lib/postgresql/<version>/bin, newest version first.
func postgresBin() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if _, err := os.Stat(filepath.Join(filepath.Dir(p), "postgres")); err == nil {
			return filepath.Dir(p), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return version(b) - version(a) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("%w: initdb and postgres are neither in $PATH nor in /usr/lib/postgresql/*/bin", ErrNotInstalled)
}

// version is the major version in /usr/lib/postgresql/<version>/bin.
func version(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

// privateDir makes a temporary directory owned by owner (nil: the current
// user), which only that user can enter.
func privateDir(prefix string, owner *account) (string, error) {
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		return "", err
	}
	if owner != nil {
		if err := os.Chown(dir, owner.uid, owner.gid); err != nil {
			_ = os.RemoveAll(dir)
			return "", err
		}
	}
	return dir, nil
}

// command runs name as owner (nil: the current user) in dir. The server
// dies with the test binary, should the test be killed before its cleanup.
func command(owner *account, dir, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	cmd.SysProcAttr = procAttr(owner)
	return cmd
}

// lockedBuffer is a server's log, written by one goroutine and read by the
// test.
type lockedBuffer struct {
	mu    sync.Mutex
	lines []string
}

func (b *lockedBuffer) add(line string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lines = append(b.lines, line)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.lines, "\n")
}
