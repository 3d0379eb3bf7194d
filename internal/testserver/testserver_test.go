package testserver_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oarepo/heartbeat/internal/goroutines"
	"github.com/oarepo/heartbeat/internal/testserver"
)

// TestMain checks that no goroutine outlives the servers: each server's log
// reader ends when Close has waited for it.
func TestMain(m *testing.M) {
	before := goroutines.Count()
	code := m.Run()
	if after := goroutines.Settled(10, 100); code == 0 && after > before {
		fmt.Fprintf(os.Stderr, "goroutines: %d before, %d after the tests\n", before, after)
		code = 1
	}
	os.Exit(code)
}

// psql runs one statement against s with the psql beside the server's
// binaries, as user, and returns its unaligned output.
func psql(t *testing.T, s *testserver.Server, user, password, sql string) (string, error) {
	t.Helper()
	bin, err := exec.LookPath("psql")
	if err != nil {
		dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/psql")
		require.NotEmpty(t, dirs, "psql")
		bin = dirs[len(dirs)-1]
	}
	host, port, _ := net.SplitHostPort(s.Addr)
	cmd := exec.Command(bin, "-X", "-At", "-h", host, "-p", port, "-U", user, "-d", "postgres", "-c", sql)
	cmd.Env = append(os.Environ(), "PGPASSWORD="+password, "PGCONNECT_TIMEOUT=5")
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func TestPostgres(t *testing.T) {
	t.Parallel()
	s := testserver.Postgres(t)
	assert.True(t, strings.HasPrefix(s.URL, "postgres://postgres@"+s.Addr+"/"), s.URL)

	out, err := psql(t, s, "postgres", "", "select current_setting('listen_addresses'), current_setting('port')")
	require.NoError(t, err, out)
	_, port, _ := net.SplitHostPort(s.Addr)
	assert.Equal(t, "127.0.0.1|"+port, out)

	// Another role must give its password.
	out, err = psql(t, s, "postgres", "", "create role app login password 'right-pw'")
	require.NoError(t, err, out)
	out, err = psql(t, s, "app", "right-pw", "select current_user")
	require.NoError(t, err, out)
	assert.Equal(t, "app", out)
	out, err = psql(t, s, "app", "wrong-pw", "select 1")
	assert.Error(t, err)
	assert.Contains(t, out, "password authentication failed")

	require.NoError(t, s.Close())
	assert.NoDirExists(t, s.Dir, "the data directory is deleted")
	_, err = net.DialTimeout("tcp", s.Addr, time.Second)
	assert.Error(t, err, "the server is stopped")
	assert.NoError(t, s.Close(), "a second Close is harmless")
}

// redisCmd sends one inline command and returns the first line of the reply.
func redisCmd(t *testing.T, addr, command string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.SetDeadline(time.Now().Add(5*time.Second)))
	_, err = c.Write([]byte(command + "\r\n"))
	require.NoError(t, err)
	line, err := bufio.NewReader(c).ReadString('\n')
	require.NoError(t, err)
	return strings.TrimSpace(line)
}

func TestRedis(t *testing.T) {
	t.Parallel()
	s := testserver.Redis(t, "--requirepass", "right-pw")
	assert.Equal(t, "redis://"+s.Addr+"/0", s.URL)
	assert.Contains(t, redisCmd(t, s.Addr, "PING"), "NOAUTH", "the extra arguments reach the server")
	assert.Equal(t, "+OK", redisCmd(t, s.Addr, "AUTH right-pw"))
	assert.Contains(t, s.Log(), "Ready to accept connections")

	require.NoError(t, s.Close())
	assert.NoDirExists(t, s.Dir)
	_, err := net.DialTimeout("tcp", s.Addr, time.Second)
	assert.Error(t, err, "the server is stopped")
}

func TestRedisBadArgument(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server is not installed")
	}
	_, err := testserver.StartRedis("--no-such-option", "x")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "exited before it was ready")
}

// TestSeaweedFS: the S3 gateway answers, refuses an unsigned request (only
// the given identity may use it), and is gone with its directory after
// Close. The receiver tests sign requests with minio-go, which the core
// module does not depend on.
func TestSeaweedFS(t *testing.T) {
	t.Parallel()
	s := testserver.SeaweedFS(t, "heartbeat-test", "the-secret")
	assert.Equal(t, "http://"+s.Addr, s.URL)

	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	resp, err := c.Get(s.URL)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "%s", body)
	assert.Contains(t, string(body), "AccessDenied")

	require.NoError(t, s.Close())
	assert.NoDirExists(t, s.Dir)
	_, err = net.DialTimeout("tcp", s.Addr, time.Second)
	assert.Error(t, err, "the server is stopped")
}
