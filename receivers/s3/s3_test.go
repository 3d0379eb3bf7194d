package s3_test

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oarepo/heartbeat/internal/receivertest"
	"github.com/oarepo/heartbeat/internal/testnet"
	"github.com/oarepo/heartbeat/internal/testserver"
	"github.com/oarepo/heartbeat/receivers/s3"
)

var probe = receivertest.Probe

// ownBucket creates a bucket of the test's own on the test's server; the
// server and its data go away when the tests end.
func ownBucket(t testing.TB, endpoint string) string {
	t.Helper()
	name := randomHex("heartbeat-")
	c := client(t, endpoint, secretKey, recommended)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, c.MakeBucket(ctx, name, minio.MakeBucketOptions{}))
	return name
}

func TestHealthy(t *testing.T) {
	endpoint := requireServer(t)
	bucket := ownBucket(t, endpoint)
	for _, s := range settings {
		t.Run(s.name, func(t *testing.T) {
			reply, _ := probe(s3.New(client(t, endpoint, secretKey, s), bucket), 5*time.Second)
			require.True(t, reply.Status, "%v", reply.Data)
			assert.Equal(t, "s3", reply.Name)
			assert.Equal(t, bucket, reply.Data["bucket"])
			assert.Greater(t, reply.Data["time"], 0.0)
			assert.NotContains(t, reply.Data, "error")
		})
	}
	reply, _ := probe(s3.New(client(t, endpoint, secretKey, recommended), bucket, s3.WithName("records")), 5*time.Second)
	assert.True(t, reply.Status, "%v", reply.Data)
	assert.Equal(t, "records", reply.Name)
}

func TestMissingBucket(t *testing.T) {
	endpoint := requireServer(t)
	for _, s := range settings {
		t.Run(s.name, func(t *testing.T) {
			name := randomHex("heartbeat-missing-")
			reply, took := probe(s3.New(client(t, endpoint, secretKey, s), name), 5*time.Second)
			t.Logf("%v", reply.Data)
			receivertest.AssertFailed(t, reply, took, `bucket "`+name+`" does not exist`)
		})
	}
}

// TestWrongKeys: the server refuses a wrong secret key and an unknown
// access key; the reply says so and shows no secret.
func TestWrongKeys(t *testing.T) {
	endpoint := requireServer(t)
	bucket := ownBucket(t, endpoint)
	wrong := randomHex("wrong-secret-")
	for _, s := range settings {
		t.Run("secret key/"+s.name, func(t *testing.T) {
			reply, took := probe(s3.New(client(t, endpoint, wrong, s), bucket), 5*time.Second)
			t.Logf("%v", reply.Data)
			// Without a region the client first asks for the bucket's
			// location, a GET whose error body names the cause; a HEAD's
			// answer has no body, so only the status is known.
			want := map[string]string{"defaults": "SignatureDoesNotMatch", "recommended": "AccessDenied"}[s.name]
			receivertest.AssertFailed(t, reply, took, want, "HTTP 403", "the access key or secret key is wrong")
			receivertest.AssertNoSecret(t, reply, wrong, secretKey)
		})
	}
	for _, s := range settings {
		t.Run("access key/"+s.name, func(t *testing.T) {
			tr, err := minio.DefaultTransport(false)
			require.NoError(t, err)
			t.Cleanup(tr.CloseIdleConnections)
			o := &minio.Options{Creds: credentials.NewStaticV4(randomHex("nobody-"), secretKey, ""), Transport: tr}
			s.apply(o)
			c, err := minio.New(endpoint, o)
			require.NoError(t, err)
			reply, took := probe(s3.New(c, bucket), 5*time.Second)
			t.Logf("%v", reply.Data)
			want := map[string]string{"defaults": "InvalidAccessKeyId", "recommended": "AccessDenied"}[s.name]
			receivertest.AssertFailed(t, reply, took, want, "HTTP 403", "the access key or secret key is wrong")
			receivertest.AssertNoSecret(t, reply, secretKey)
		})
	}
}

// TestUnreachable: every way the server can be out of reach, with both
// client settings. The receiver answers by its deadline and names the
// cause, whatever the client's retries.
func TestUnreachable(t *testing.T) {
	cases := []struct {
		name string
		addr string
		want []string
	}{
		{"closed port", testnet.DeadAddr(t), []string{"connection refused"}},
		{"black hole", testnet.BlackHole(t), []string{"timed out after", "accepts TCP connections"}},
	}
	for _, tc := range cases {
		for _, s := range settings {
			t.Run(tc.name+"/"+s.name, func(t *testing.T) {
				r := s3.New(client(t, tc.addr, secretKey, s), "records")
				reply, took := probe(r, time.Second)
				t.Logf("after %v: %v", took, reply.Data)
				receivertest.AssertFailed(t, reply, took, tc.want...)
				assert.NotContains(t, reply.Data, "time")
				receivertest.AssertNoSecret(t, reply, secretKey)
			})
		}
	}
}

// TestServerRestart cuts the link to the server while the application
// holds its client, then restores it on the same address: the same client
// passes again at the next probe.
func TestServerRestart(t *testing.T) {
	endpoint := requireServer(t)
	bucket := ownBucket(t, endpoint)
	proxy := testnet.NewProxy(t, endpoint)
	for _, s := range settings {
		t.Run(s.name, func(t *testing.T) {
			r := s3.New(client(t, proxy.Addr(), secretKey, s), bucket)
			receivertest.AssertSurvivesRestart(t, r, proxy)
		})
	}
}

// TestStoppedServer runs a second server of the test's own and stops it
// while a client holds kept-alive connections to it.
func TestStoppedServer(t *testing.T) {
	requireServer(t)
	if testing.Short() {
		t.Skip("starts a second server")
	}
	w := testserver.SeaweedFS(t, accessKey, secretKey)
	bucket := ownBucket(t, w.Addr)
	r := s3.New(client(t, w.Addr, secretKey, recommended), bucket)
	reply, _ := probe(r, 5*time.Second)
	require.True(t, reply.Status, "%v", reply.Data)

	require.NoError(t, w.Close()) // Close may be called again when the test ends
	reply, took := probe(r, time.Second)
	t.Logf("after %v: %v", took, reply.Data)
	receivertest.AssertFailed(t, reply, took, "connection refused")
}

// TestHungCallAnswersByTheDeadline: a client that ignores the deadline
// (not minio-go's way, but any Client may) is still answered for in time,
// and later probes join its call instead of adding more.
func TestHungCallAnswersByTheDeadline(t *testing.T) {
	c := &hung{release: make(chan struct{})}
	t.Cleanup(func() { close(c.release) })
	r := s3.New(c, "records")
	for range 3 {
		reply, took := probe(r, 200*time.Millisecond)
		receivertest.AssertFailed(t, reply, took, "timed out after")
	}
	assert.Equal(t, int32(1), c.calls.Load())
}

type hung struct {
	release chan struct{}
	calls   atomic.Int32
}

func (h *hung) BucketExists(context.Context, string) (bool, error) {
	h.calls.Add(1)
	<-h.release
	return true, nil
}

// TestErrorsAreScrubbed: an error that carries a secret reaches the reply
// masked, whether the secret is the client's own or passed as an option.
func TestErrorsAreScrubbed(t *testing.T) {
	const token = "S3ssion-T0ken"
	err := &net.OpError{Op: "dial", Net: "tcp", Err: errorString("proxy said: token " + token + " rejected")}
	reply, _ := probe(s3.New(failing{err}, "records", s3.WithSecrets(token)), time.Second)
	t.Logf("%v", reply.Data)
	assert.False(t, reply.Status)
	assert.Contains(t, reply.Data["error"], "rejected")
	receivertest.AssertNoSecret(t, reply, token)

	// The client's own secret key is found through the client.
	err = &net.OpError{Op: "dial", Net: "tcp", Err: errorString("proxy said: secret " + secretKey + " rejected")}
	c := client(t, testnet.DeadAddr(t), secretKey, recommended)
	reply, _ = probe(s3.New(leaky{c, err}, "records"), time.Second)
	t.Logf("%v", reply.Data)
	receivertest.AssertNoSecret(t, reply, secretKey)
	assert.Contains(t, reply.Data["error"], "rejected")
}

type errorString string

func (e errorString) Error() string { return string(e) }

type failing struct{ err error }

func (f failing) BucketExists(context.Context, string) (bool, error) { return false, f.err }

// leaky is a *minio.Client whose BucketExists fails with an error that
// quotes the secret key.
type leaky struct {
	*minio.Client
	err error
}

func (l leaky) BucketExists(context.Context, string) (bool, error) { return false, l.err }
