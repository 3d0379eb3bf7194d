package elastic_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oarepo/heartbeat/receivers/elastic"
)

const greenBody = `{"cluster_name":"testcluster","status":"green","timed_out":false,"number_of_nodes":1,` +
	`"number_of_data_nodes":1,"discovered_master":true,"discovered_cluster_manager":true,"active_primary_shards":1,` +
	`"active_shards":1,"relocating_shards":0,"initializing_shards":0,"unassigned_shards":0,"delayed_unassigned_shards":0,` +
	`"number_of_pending_tasks":0,"number_of_in_flight_fetch":0,"task_max_waiting_in_queue_millis":0,` +
	`"active_shards_percent_as_number":100.0}`

// signer is a transport that signs every request afresh, as opensearch-go's
// AWS SigV4 signer does: a new Signature and session token each time. While
// fail is set it answers a 502 whose page repeats the request's
// Authorization header, or a transport error that does, in turn.
type signer struct {
	n    atomic.Int64
	fail atomic.Bool

	mu   sync.Mutex
	last []string // the secrets of the latest request
}

func (s *signer) Perform(r *http.Request) (*http.Response, error) {
	n := s.n.Add(1)
	sig := fmt.Sprintf("%064x", uint64(n)*0x9E3779B97F4A7C15)
	token := fmt.Sprintf("IQoJb3JpZ2luX2VjE%040d", n)
	auth := "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261201/eu-west-1/es/aws4_request, " +
		"SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=" + sig
	r.Header.Set("Authorization", auth)
	r.Header.Set("X-Amz-Security-Token", token)
	s.mu.Lock()
	s.last = []string{sig, token}
	s.mu.Unlock()
	if !s.fail.Load() {
		return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(greenBody))}, nil
	}
	if n%2 == 0 {
		return nil, errors.New("proxy: rejected Authorization " + strings.TrimPrefix(auth, "AWS4-HMAC-SHA256 ") + " token " + token)
	}
	page := "<html>upstream refused signature " + sig + " for request with " + auth + " and token " + token + "</html>"
	return &http.Response{StatusCode: 502, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(page))}, nil
}

func (s *signer) latest() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// heapAfterGC is the live heap, settled.
func heapAfterGC() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestSecretMemoryIsBounded: 100,000 probes, each signed with a new
// Authorization value and session token, leave the receiver's memory where
// it was (it used to keep every value: about 200 B a probe, 20 MB here),
// and a failing probe afterwards still masks the signature and token of its
// own request, in an answer's body and in a transport error alike.
func TestSecretMemoryIsBounded(t *testing.T) {
	probes := 100_000
	if testing.Short() {
		probes = 10_000
	}
	s := &signer{}
	check := elastic.New(s, elastic.WithFlavor(elastic.OpenSearch))
	ctx := context.Background()
	for range 1000 { // warm up pools and caches
		require.True(t, check(ctx).Status)
	}
	before := heapAfterGC()
	for range probes {
		if r := check(ctx); !r.Status {
			require.True(t, r.Status, "%v", r.Data)
		}
	}
	after := heapAfterGC()
	grew := int64(after) - int64(before)
	t.Logf("heap %d B before, %d B after %d signed probes: %+d B", before, after, probes, grew)
	assert.Less(t, grew, int64(2<<20), "the receiver's memory grows with the number of probes")
	runtime.KeepAlive(check)

	s.fail.Store(true)
	for range 2 { // one 502 page, one transport error
		r := check(ctx)
		require.False(t, r.Status)
		got := r.Data["error"].(string)
		for _, secret := range s.latest() {
			assert.NotContains(t, got, secret)
		}
		assert.NotContains(t, got, "IQoJb3JpZ2luX2VjE", "no session token, whole or in part")
		assert.Contains(t, got, "xxxxx")
	}
}

// TestPreviousFailureIsMasked: a call that fails after its probe gave up is
// reported by the next probe as "the previous check failed with": its text
// was masked with its own request's signature when it failed, as the
// receiver no longer remembers that signature by then.
func TestPreviousFailureIsMasked(t *testing.T) {
	release, done, hang := make(chan struct{}), make(chan struct{}), make(chan struct{})
	t.Cleanup(func() { close(hang) })
	var n atomic.Int32
	const first = "Signature=0000000000000000000000000000000000000000000000000000000000000001"
	tr := elastic.TransportFunc(func(r *http.Request) (*http.Response, error) {
		i := n.Add(1)
		sig := fmt.Sprintf("Signature=%064d", i)
		r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/x, "+sig)
		if i == 1 {
			defer close(done)
			<-release
			return nil, errors.New("signature does not match: " + sig)
		}
		<-hang // outlives the probe, so the first call stays the previous one
		return nil, context.Canceled
	})
	check := elastic.New(tr)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	r := check(ctx)
	cancel()
	require.False(t, r.Status)
	close(release)
	<-done
	time.Sleep(20 * time.Millisecond) // let the flight record the first call's end

	ctx, cancel = context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	r = check(ctx)
	got := r.Data["error"].(string)
	assert.Contains(t, got, "the previous check failed with: GET /_cluster/health: signature does not match: ")
	assert.NotContains(t, got, strings.TrimPrefix(first, "Signature="))
}

// BenchmarkMasking is a failing probe whose answer repeats the request's
// fresh signature, on a new receiver and on one that has signed 100,000
// requests before: the two cost the same, as nothing is remembered.
//
//	go test -run '^$' -bench Masking -benchmem ./receivers/elastic/
func BenchmarkMasking(b *testing.B) {
	for _, before := range []int{0, 100_000} {
		b.Run(fmt.Sprintf("after %d probes", before), func(b *testing.B) {
			s := &signer{}
			check := elastic.New(s, elastic.WithFlavor(elastic.OpenSearch))
			ctx := context.Background()
			for range before {
				check(ctx)
			}
			s.fail.Store(true)
			b.ReportAllocs()
			for b.Loop() {
				if r := check(ctx); r.Status {
					b.Fatal("a failing probe passed")
				}
			}
		})
	}
}
