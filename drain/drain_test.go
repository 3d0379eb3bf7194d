package drain_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oarepo/heartbeat/drain"
	"github.com/oarepo/heartbeat/httpapi"
	"github.com/oarepo/heartbeat/signal"
)

// server is a real http.Server on 127.0.0.1:0 serving the probes and a /slow
// endpoint, driven by d.Serve.
type server struct {
	url      string
	entered  chan struct{} // a /slow request has started
	release  chan struct{} // let /slow answer
	served   chan error    // d.Serve's result
	returned atomic.Int64  // when d.Serve returned, UnixNano
}

func start(t *testing.T, ctx context.Context, d *drain.Drain) *server {
	t.Helper()
	s := &server{entered: make(chan struct{}, 10), release: make(chan struct{}), served: make(chan error, 1)}
	bus := signal.NewBus()
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply { return signal.Reply{Name: "db", Status: true} })
	mux := http.NewServeMux()
	d.Subscribe(bus)
	mux.Handle("/.well-known/heartbeat/", httpapi.Router(bus))
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		s.entered <- struct{}{}
		<-s.release
		_, _ = io.WriteString(w, "done")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s.url = "http://" + ln.Addr().String()
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		err := d.Serve(ctx, srv, ln)
		s.returned.Store(time.Now().UnixNano())
		s.served <- err
	}()
	t.Cleanup(func() {
		select {
		case <-s.release:
		default:
			close(s.release)
		}
		_ = srv.Close()
	})
	return s
}

func get(t *testing.T, url string) (int, map[string]any) {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

func TestServeDrainsThenShutsDown(t *testing.T) {
	const delay = time.Second
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d := &drain.Drain{Delay: delay, Timeout: 10 * time.Second}
	s := start(t, ctx, d)

	code, _ := get(t, s.url+"/.well-known/heartbeat/readiness")
	require.Equal(t, http.StatusOK, code)

	// A slow request is in flight when the drain starts.
	slow := make(chan string, 1)
	go func() {
		resp, err := http.Get(s.url + "/slow")
		if err != nil {
			slow <- "error: " + err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		slow <- string(b)
	}()
	<-s.entered

	began := time.Now()
	cancel() // what SIGTERM does
	require.Eventually(t, func() bool { return d.State() != nil }, 5*time.Second, time.Millisecond)

	// During the delay: still serving, readiness fails with the reason,
	// liveliness passes.
	code, body := get(t, s.url+"/.well-known/heartbeat/readiness")
	assert.Equal(t, http.StatusInternalServerError, code)
	shutdown := body["checks"].(map[string]any)["shutdown"].(map[string]any)
	assert.Equal(t, "draining: context canceled", shutdown["error"])
	code, _ = get(t, s.url+"/.well-known/heartbeat/liveliness")
	assert.Equal(t, http.StatusOK, code)
	assert.Less(t, time.Since(began), delay, "the checks above ran within the delay")

	// After the delay the server stops taking connections but waits for the
	// slow request, which finishes normally.
	time.Sleep(delay)
	select {
	case err := <-s.served:
		t.Fatalf("Serve returned with a request in flight: %v", err)
	default:
	}
	close(s.release)
	assert.Equal(t, "done", <-slow)
	select {
	case err := <-s.served:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after the last request finished")
	}
	assert.GreaterOrEqual(t, time.Unix(0, s.returned.Load()).Sub(began), delay, "the delay was kept")

	_, err := net.DialTimeout("tcp", s.url[len("http://"):], time.Second)
	assert.Error(t, err, "the server is closed")
}

func TestShutdownGivesUpOnHungRequests(t *testing.T) {
	d := &drain.Drain{Timeout: 100 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	s := start(t, ctx, d)
	go func() {
		if resp, err := http.Get(s.url + "/slow"); err == nil {
			resp.Body.Close()
		}
	}()
	<-s.entered
	cancel()
	select {
	case err := <-s.served:
		require.Error(t, err)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Contains(t, err.Error(), "requests in flight did not finish")
	case <-time.After(5 * time.Second):
		t.Fatal("Serve hung on a hung request")
	}
}

func TestShutdownSkipsTheRestOfTheDelayWhenCtxEnds(t *testing.T) {
	d := &drain.Drain{Delay: time.Hour}
	srv := &http.Server{ReadHeaderTimeout: time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := d.Shutdown(ctx, srv)
	assert.Less(t, time.Since(start), 10*time.Second)
	assert.NoError(t, err, "nothing was in flight")
	require.NotNil(t, d.State())
	assert.Equal(t, "shutting down", d.State().Reason)
}

func TestServeReturnsServeErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	require.NoError(t, ln.Close())
	err = (&drain.Drain{}).Serve(context.Background(), &http.Server{ReadHeaderTimeout: time.Second}, ln)
	require.Error(t, err)
	assert.False(t, errors.Is(err, http.ErrServerClosed))
}

func TestZeroDrainIsNotDraining(t *testing.T) {
	var d drain.Drain
	assert.Nil(t, d.State())
	assert.True(t, d.Start("first"))
	assert.False(t, d.Start("second"))
	assert.Equal(t, "first", d.State().Reason)
}
