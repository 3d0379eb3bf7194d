package s3_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"go.uber.org/goleak"

	"github.com/oarepo/heartbeat/internal/testenv"
)

// The tests share one SeaweedFS server, started by TestMain on free
// loopback ports and stopped when they end: it takes seconds to start, and
// nothing else on the machine is touched.

// weed is the running server, or nil when it could not be started; then
// unavailable says why.
var (
	weed        *weedServer
	unavailable string
)

// accessKey is the only identity the server accepts; secretKey is made
// fresh for each run.
const accessKey = "heartbeat-test"

var secretKey = randomHex("secret-")

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(serverAround{m})
}

// serverAround runs the tests between starting and stopping the server, so
// that goleak looks for leaks after the server's process is gone.
type serverAround struct{ m *testing.M }

func (s serverAround) Run() int {
	var err error
	weed, err = startWeed()
	if err != nil {
		unavailable = err.Error()
	}
	code := s.m.Run()
	if weed != nil {
		weed.stop()
	}
	return code
}

// requireServer returns the server's S3 endpoint (host:port), or stops the
// test: a skip locally, a failure under CI=true.
func requireServer(t testing.TB) string {
	t.Helper()
	if weed == nil {
		testenv.Unavailable(t, "SeaweedFS: %s", unavailable)
	}
	return weed.s3
}

// weedBinary is where .ci/seaweedfs.sh puts the server.
func weedBinary() string {
	if p := os.Getenv("HEARTBEAT_WEED"); p != "" {
		return p
	}
	cache := os.Getenv("HEARTBEAT_CACHE")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		cache = filepath.Join(home, ".cache", "heartbeat")
	}
	return filepath.Join(cache, "weed")
}

type weedServer struct {
	cmd  *exec.Cmd
	dir  string
	s3   string
	done chan struct{}
}

func startWeed() (*weedServer, error) {
	bin := weedBinary()
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("no server binary at %s (build it with bash .ci/seaweedfs.sh, or set HEARTBEAT_WEED): %w", bin, err)
	}
	dir, err := os.MkdirTemp("", "heartbeat-weed-")
	if err != nil {
		return nil, err
	}
	ports, err := freePorts(8)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	identities := map[string]any{"identities": []any{map[string]any{
		"name":        "heartbeat",
		"credentials": []any{map[string]string{"accessKey": accessKey, "secretKey": secretKey}},
		"actions":     []string{"Admin", "Read", "Write", "List", "Tagging"},
	}}}
	b, _ := json.Marshal(identities)
	config := filepath.Join(dir, "s3.json")
	if err := os.WriteFile(config, b, 0o600); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	p := func(i int) string { return strconv.Itoa(ports[i]) }
	s3 := "127.0.0.1:" + p(6)
	cmd := exec.Command(bin, "server",
		"-dir="+data,
		"-ip=127.0.0.1", "-ip.bind=127.0.0.1",
		"-master.port="+p(0), "-master.port.grpc="+p(1),
		"-volume.port="+p(2), "-volume.port.grpc="+p(3),
		"-filer.port="+p(4), "-filer.port.grpc="+p(5),
		"-s3", "-s3.port="+p(6), "-s3.port.grpc="+p(7),
		"-s3.config="+config,
		"-s3.port.iceberg=0", "-volume.preStopSeconds=0",
		"-master.volumeSizeLimitMB=64", "-volume.max=4",
	)
	log, err := os.Create(filepath.Join(dir, "weed.log"))
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		_ = log.Close()
		_ = os.RemoveAll(dir)
		return nil, err
	}
	w := &weedServer{cmd: cmd, dir: dir, s3: s3, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		_ = log.Close()
		close(w.done)
	}()
	if err := w.waitReady(90 * time.Second); err != nil {
		out, _ := os.ReadFile(filepath.Join(dir, "weed.log"))
		w.stop()
		return nil, fmt.Errorf("%w; its log:\n%s", err, tail(out, 2000))
	}
	return w, nil
}

// waitReady waits until the server answers a signed S3 request.
func (w *weedServer) waitReady(limit time.Duration) error {
	c, closeIdle, err := newClient(w.s3, secretKey, recommended)
	if err != nil {
		return err
	}
	defer closeIdle()
	deadline := time.Now().Add(limit)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err = c.BucketExists(ctx, "heartbeat-ready")
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-w.done:
			return errors.New("SeaweedFS exited before it answered S3")
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("SeaweedFS did not answer S3 within %v: %v", limit, err)
		}
	}
}

// stop asks the server to end and kills it if it has not after a few
// seconds, as SeaweedFS often does not.
func (w *weedServer) stop() {
	_ = w.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-w.done:
	case <-time.After(3 * time.Second):
		_ = w.cmd.Process.Kill()
		<-w.done
	}
	_ = os.RemoveAll(w.dir)
}

// freePorts returns n distinct free loopback ports: each is listened on
// and released, so another process could take one in between, which is
// unlikely enough for tests.
func freePorts(n int) ([]int, error) {
	var (
		lns   []net.Listener
		ports []int
	)
	defer func() {
		for _, ln := range lns {
			_ = ln.Close()
		}
	}()
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

func randomHex(prefix string) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// setting is one way an application configures its client.
type setting struct {
	name  string
	apply func(*minio.Options)
}

var (
	defaults    = setting{"defaults", func(*minio.Options) {}}
	recommended = setting{"recommended", func(o *minio.Options) {
		o.MaxRetries = 1
		o.Region = "us-east-1"
	}}
	settings = []setting{defaults, recommended}
)

// newClient makes a client of endpoint with the test's access key and the
// given secret key. closeIdle closes its kept-alive connections, whose
// goroutines would otherwise outlive the tests.
func newClient(endpoint, secret string, s setting) (c *minio.Client, closeIdle func(), err error) {
	tr, err := minio.DefaultTransport(false)
	if err != nil {
		return nil, nil, err
	}
	o := &minio.Options{Creds: credentials.NewStaticV4(accessKey, secret, ""), Transport: tr}
	s.apply(o)
	c, err = minio.New(endpoint, o)
	if err != nil {
		return nil, nil, err
	}
	return c, tr.CloseIdleConnections, nil
}

// client is newClient for a test, closed when it ends.
func client(t testing.TB, endpoint, secret string, s setting) *minio.Client {
	t.Helper()
	c, closeIdle, err := newClient(endpoint, secret, s)
	if err != nil {
		t.Fatalf("minio.New: %v", err)
	}
	t.Cleanup(closeIdle)
	return c
}
