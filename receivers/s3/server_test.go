package s3_test

import (
	"crypto/rand"
	"encoding/hex"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"go.uber.org/goleak"

	"github.com/oarepo/heartbeat/internal/testenv"
	"github.com/oarepo/heartbeat/internal/testserver"
)

// The tests share one SeaweedFS server of their own (internal/testserver),
// started by TestMain on free loopback ports and stopped when they end: it
// takes seconds to start, and nothing else on the machine is touched.

// weed is the running server, or nil when it could not be started; then
// unavailable says why.
var (
	weed        *testserver.Server
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
	if weed, err = testserver.StartSeaweedFS(accessKey, secretKey); err != nil {
		unavailable = err.Error()
	}
	code := s.m.Run()
	if weed != nil {
		_ = weed.Close()
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
	return weed.Addr
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
