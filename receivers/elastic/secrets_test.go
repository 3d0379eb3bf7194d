package elastic

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oarepo/heartbeat/signal"
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
	n := uint64(s.n.Add(1))
	sig := padded(strconv.FormatUint(n*0x9E3779B97F4A7C15, 16), 64)
	token := "IQoJb3JpZ2luX2VjE" + padded(strconv.FormatUint(n, 10), 40)
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

// padded puts zeros before digits up to width, as fmt's %064x and %040d
// do, at a fraction of fmt's cost: the test makes a million signatures.
func padded(digits string, width int) string {
	return strings.Repeat("0", width-len(digits)) + digits
}

func (s *signer) latest() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// signRequests sends n healthy requests through c's perform, each signed
// afresh by the transport. perform is the step of a probe that takes the
// credentials off the request, masks them in its own error and hands them
// on with the answer; the rest of a probe (the goroutine that keeps the
// deadline, decoding the body, the reply) never sees a credential it did
// not get from there, and makes a probe cost about ten times as much: a
// million whole probes take well over a minute under the race detector.
func signRequests(tb testing.TB, c *check, n int) {
	ctx := context.Background()
	target := c.target(0)
	for range n {
		if a, err := c.perform(ctx, target); err != nil || a.code != http.StatusOK {
			tb.Fatalf("a healthy request failed: %d, %v", a.code, err)
		}
	}
}

// maskingCost is the shortest of k failing probes, each answered with a
// page or an error that repeats the credentials of its own request, and
// checks that each probe's error masks them. The shortest, because a pause
// elsewhere (a collection, another test) can only lengthen a probe.
// Sampling stops early once a second has gone by, so that a receiver
// whose masking has slowed fails the test rather than stall it.
func maskingCost(t *testing.T, s *signer, check signal.Receiver, k int) time.Duration {
	t.Helper()
	s.fail.Store(true)
	defer s.fail.Store(false)
	ctx := context.Background()
	began := time.Now()
	shortest := time.Duration(math.MaxInt64)
	for i := 0; i < k && (i == 0 || time.Since(began) < time.Second); i++ {
		start := time.Now()
		r := check(ctx)
		shortest = min(shortest, time.Since(start))
		require.False(t, r.Status)
		got := r.Data["error"].(string)
		for _, secret := range s.latest() {
			assert.NotContains(t, got, secret)
		}
		assert.NotContains(t, got, "IQoJb3JpZ2luX2VjE", "no session token, whole or in part")
		assert.Contains(t, got, "xxxxx")
	}
	return shortest
}

// heapAfterGC is the live heap, settled.
func heapAfterGC() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestSecretMemoryIsBounded: after 1,000,000 requests (100,000 with
// -short), each signed with a new Authorization value and session token,
// the receiver holds no more memory than before (it used to keep every
// value: about 200 B a request, 200 MB here), and a failing probe still
// masks the signature and token of its own request, in an answer's body
// and in a transport error alike, at the cost it had on the receiver's
// first probes. Masking once slowed with every value kept, from 0.18 ms to
// 36 ms after 5,000 probes, so "not ten times slower" tells constant from
// growing with room to spare. The million go through signRequests, whose
// comment says why they are not whole probes.
func TestSecretMemoryIsBounded(t *testing.T) {
	requests := 1_000_000
	if testing.Short() {
		requests = 100_000
	}
	s := &signer{}
	c := newCheck(s, WithFlavor(OpenSearch))
	fresh := maskingCost(t, s, c.run, 50)
	signRequests(t, c, 1000) // warm up pools and caches

	before := heapAfterGC()
	signRequests(t, c, requests)
	after := heapAfterGC()
	grew := int64(after) - int64(before)
	t.Logf("heap %d B before, %d B after %d signed requests: %+d B", before, after, requests, grew)
	assert.Less(t, grew, int64(2<<20), "the receiver's memory grows with the number of requests")

	used := maskingCost(t, s, c.run, 50)
	t.Logf("a failing probe took %v on the new receiver, %v after %d signed requests", fresh, used, requests)
	assert.Less(t, used, 10*fresh, "masking slows with the number of requests signed before")
	runtime.KeepAlive(c)
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
	tr := TransportFunc(func(r *http.Request) (*http.Response, error) {
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
	check := New(tr)
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
// fresh signature, on a new receiver and on one that has signed 1,000,000
// requests before (through signRequests, as TestSecretMemoryIsBounded
// does): the two cost the same, as nothing is remembered.
//
//	go test -run '^$' -bench Masking -benchmem ./receivers/elastic/
func BenchmarkMasking(b *testing.B) {
	for _, before := range []int{0, 1_000_000} {
		b.Run(fmt.Sprintf("after %d requests", before), func(b *testing.B) {
			s := &signer{}
			c := newCheck(s, WithFlavor(OpenSearch))
			signRequests(b, c, before)
			s.fail.Store(true)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if r := c.run(ctx); r.Status {
					b.Fatal("a failing probe passed")
				}
			}
		})
	}
}
