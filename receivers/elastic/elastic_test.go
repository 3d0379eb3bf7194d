package elastic_test

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oarepo/heartbeat/internal/receivertest"
	"github.com/oarepo/heartbeat/receivers/elastic"
	"github.com/oarepo/heartbeat/receivers/elastic/internal/fakees"
	"github.com/oarepo/heartbeat/signal"
)

const (
	password      = "S3cr3t-es-pw"
	wrongPassword = "Wr0ng-guess-pw"
)

// fakeCase is one behaviour of a node and what the receiver must make of it.
type fakeCase struct {
	name     string
	status   string // cluster colour the fake reports
	fault    fakees.Fault
	user     string // client credentials; zero means the right ones
	password string
	noAuth   bool // send no credentials at all
	opts     []elastic.Option
	timeout  time.Duration // probe deadline; zero means 1 s

	// skip leaves out clients the case does not apply to.
	skip func(client) bool

	wantOK            bool
	wantErr           string // substring of data["error"]
	wantClusterStatus string // data["cluster_status"], empty when absent
	wantHits          int    // requests the node sees from a non-retrying client; 0: unchecked
	wantHitsRetrying  int    // the same from go-elasticsearch with default settings
	maxElapsed        time.Duration
}

var fakeCases = []fakeCase{
	{name: "green", status: "green", wantOK: true, wantClusterStatus: "green", wantHits: 1, wantHitsRetrying: 1},
	{name: "yellow is ready by default", status: "yellow", wantOK: true, wantClusterStatus: "yellow"},
	{
		name: "yellow not ready when asked", status: "yellow", opts: []elastic.Option{elastic.WithYellowReady(false)},
		wantErr: "cluster status is yellow (unassigned shards: 1)", wantClusterStatus: "yellow",
	},
	{
		name: "red is answered with 200 and still fails", status: "red",
		wantErr: "cluster status is red (unassigned shards: 2)", wantClusterStatus: "red",
	},
	{name: "unknown colour fails", status: "unknown", wantErr: `cluster status is "unknown"`, wantClusterStatus: "unknown"},
	{name: "unavailable colour fails", status: "unavailable", wantErr: `cluster status is "unavailable"`, wantClusterStatus: "unavailable"},
	{
		name: "missing credentials", status: "green", noAuth: true,
		wantErr: "401 security_exception: missing authentication credentials for REST request [/_cluster/health",
	},
	{
		name: "wrong password", status: "green", user: fakees.User, password: wrongPassword,
		wantErr: "401 security_exception: unable to authenticate user [elastic] for REST request [/_cluster/health",
	},
	{
		name: "no monitor privilege", status: "green", fault: fakees.Forbidden,
		wantErr: "403 security_exception: action [cluster:monitor/health] is unauthorized for user [elastic]",
	},
	{
		name: "no master is retried by go-elasticsearch", status: "green", fault: fakees.NoMaster,
		wantErr: "503 master_not_discovered_exception", wantHits: 1, wantHitsRetrying: 4,
	},
	{
		name: "wait_for_status not met in time", status: "yellow", timeout: 400 * time.Millisecond,
		opts:    []elastic.Option{elastic.WithWaitForStatus("green")},
		wantErr: "408 timed out waiting for cluster status green; it is yellow", wantClusterStatus: "yellow",
		maxElapsed: 2 * time.Second,
	},
	{
		name: "wait_for_status already met", status: "green", opts: []elastic.Option{elastic.WithWaitForStatus("yellow")},
		wantOK: true, wantClusterStatus: "green", maxElapsed: 200 * time.Millisecond,
	},
	{
		name: "index health", status: "green", opts: []elastic.Option{elastic.WithIndex("records-*")},
		wantOK: true, wantClusterStatus: "green",
	},
	{
		name: "not Elasticsearch is refused by the product check", status: "green", fault: fakees.NotElasticsearch,
		skip:    func(c client) bool { return !c.productCheck },
		wantErr: "GET /_cluster/health: the client noticed that the server is not Elasticsearch and we do not support this unknown product (the answer lacked the X-Elastic-Product: Elasticsearch header",
	},
	{
		name: "not Elasticsearch passes a transport without product check", status: "green", fault: fakees.NotElasticsearch,
		skip:   func(c client) bool { return c.productCheck },
		wantOK: true, wantClusterStatus: "green",
	},
	{
		name: "hung node", status: "green", fault: fakees.Hang, timeout: 300 * time.Millisecond,
		wantErr: "timed out after ", maxElapsed: 2 * time.Second,
	},
	{
		name: "connection closed without an answer", status: "green", fault: fakees.CloseConn,
		wantErr: "GET /_cluster/health: EOF (the connection closed before an answer)", wantHits: 1, wantHitsRetrying: 4,
	},
}

// TestFake runs every node behaviour through every client: go-elasticsearch
// v8, v9 and bare net/http must give the same replies, except where a
// client's own behaviour (product check, retries) is the point.
func TestFake(t *testing.T) {
	for _, c := range clients {
		t.Run(c.name, func(t *testing.T) {
			for _, tc := range fakeCases {
				if tc.skip != nil && tc.skip(c) {
					continue
				}
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					srv := fakees.New(tc.status, password)
					srv.Fault = tc.fault
					t.Cleanup(srv.Close)

					user, pw := fakees.User, password
					if tc.user != "" {
						user, pw = tc.user, tc.password
					}
					if tc.noAuth {
						user, pw = "", ""
					}
					tr := c.new(t, srv.URL, user, pw, clientOpt{})

					timeout := tc.timeout
					if timeout == 0 {
						timeout = time.Second
					}
					ctx, cancel := context.WithTimeout(context.Background(), timeout)
					defer cancel()
					start := time.Now()
					r := elastic.New(tr, tc.opts...)(ctx)
					elapsed := time.Since(start)

					assert.Equal(t, "elasticsearch", r.Name)
					assert.Equal(t, tc.wantOK, r.Status, "data: %v", r.Data)
					assert.IsType(t, float64(0), r.Data["time"])
					if tc.wantOK {
						assert.NotContains(t, r.Data, "error")
						assert.Equal(t, fakees.ClusterName, r.Data["cluster_name"])
						assert.Equal(t, 1, r.Data["number_of_nodes"])
						if r.Data["cluster_status"] == "yellow" {
							assert.Equal(t, "cluster status is yellow (unassigned shards: 1)", r.Data["warning"],
								"ready, with a warning")
						} else {
							assert.NotContains(t, r.Data, "warning")
						}
					} else {
						assert.NotContains(t, r.Data, "warning", "a failed check carries its error, not a warning")
						assert.Contains(t, r.Data["error"], tc.wantErr)
						assert.NotContains(t, r.Data["error"], "\n", "the error is one line")
					}
					if tc.wantClusterStatus != "" {
						assert.Equal(t, tc.wantClusterStatus, r.Data["cluster_status"])
					} else {
						assert.NotContains(t, r.Data, "cluster_status")
					}
					hits := tc.wantHits
					if c.retries && tc.wantHitsRetrying != 0 {
						hits = tc.wantHitsRetrying
					}
					if hits != 0 {
						assert.Equal(t, hits, srv.Hits(), "requests that reached the node")
					}
					if tc.maxElapsed != 0 {
						assert.Less(t, elapsed, tc.maxElapsed)
					}
					assertNoSecret(t, r)
				})
			}
		})
	}
}

// assertNoSecret checks the reply as it would go on the wire.
func assertNoSecret(t *testing.T, r signal.Reply) {
	t.Helper()
	receivertest.AssertNoSecret(t, r, password, wrongPassword)
}

// TestRequest checks what the receiver asks for: server-side timeouts
// derived from the probe deadline, so a masterless cluster or an unmet
// wait_for_status answers before the probe gives up, and none without one.
// Until an answer has shown the flavour, no cluster-manager timeout is sent:
// each server refuses or warns about the other's name for it.
func TestRequest(t *testing.T) {
	srv := fakees.New("green", "")
	t.Cleanup(srv.Close)
	tr := newPlain(t, srv.URL, "", "", clientOpt{})

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	detect := elastic.New(tr)
	require.True(t, detect(ctx).Status)
	require.True(t, detect(ctx).Status)
	require.True(t, elastic.New(tr, elastic.WithFlavor(elastic.Elasticsearch), elastic.WithIndex("records-*"),
		elastic.WithWaitForStatus("yellow"))(ctx).Status)
	require.True(t, elastic.New(tr, elastic.WithFlavor(elastic.Elasticsearch))(context.Background()).Status)

	reqs := srv.Requests()
	require.Len(t, reqs, 4)
	assert.Equal(t, "/_cluster/health", reqs[0], "the flavour is not known yet")
	assert.Regexp(t, `^/_cluster/health\?master_timeout=7[0-9]{2}ms$`, reqs[1], "learned from X-Elastic-Product")
	assert.Regexp(t, `^/_cluster/health/records-\*\?master_timeout=7[0-9]{2}ms&timeout=7[0-9]{2}ms&wait_for_status=yellow$`, reqs[2])
	assert.Equal(t, "/_cluster/health", reqs[3], "no deadline, no server-side timeout")
}

// TestRetrySettings measures how often one probe asks a masterless
// cluster, under the client settings docs/receivers.md discusses: without 503
// among the retried statuses, or with retries off, once instead of four
// times. Zero retries is not "off": the clients read 0 as their default.
func TestRetrySettings(t *testing.T) {
	settings := []struct {
		name string
		opt  clientOpt
		hits int
	}{
		{"defaults", clientOpt{}, 4},
		{"zero retries means the default", clientOpt{zeroRetries: true}, 4},
		{"retry on 502 and 504 only", clientOpt{retryOnStatus: []int{502, 504}}, 1},
		{"retries disabled", clientOpt{disableRetry: true}, 1},
	}
	for _, c := range clients {
		if !c.retries {
			continue
		}
		for _, s := range settings {
			t.Run(c.name+"/"+s.name, func(t *testing.T) {
				srv := fakees.New("green", password)
				srv.Fault = fakees.NoMaster
				t.Cleanup(srv.Close)
				r := elastic.New(c.new(t, srv.URL, fakees.User, password, s.opt))(context.Background())
				assert.False(t, r.Status)
				assert.Equal(t, "503 master_not_discovered_exception", r.Data["error"])
				assert.Equal(t, s.hits, srv.Hits(), "requests that reached the node")
			})
		}
	}
}

// TestUnreachable points each client at a closed port, with the password in
// the address as users often write it.
func TestUnreachable(t *testing.T) {
	srv := fakees.New("green", password)
	addr := "http://" + fakees.User + ":" + password + "@" + strings.TrimPrefix(srv.URL, "http://")
	srv.Close()
	for _, c := range clients {
		t.Run(c.name, func(t *testing.T) {
			tr := c.new(t, addr, "", "", clientOpt{disableRetry: true})
			r := elastic.New(tr)(context.Background())
			assert.False(t, r.Status)
			assert.Regexp(t, `^GET /_cluster/health: dial tcp 127\.0\.0\.1:\d+: connect: connection refused$`, r.Data["error"])
			assertNoSecret(t, r)
		})
	}
}

// stubTransport answers every request from a function, for answers no
// Elasticsearch gives but proxies and broken transports do.
type stubTransport func(*http.Request) (*http.Response, error)

func (f stubTransport) Perform(r *http.Request) (*http.Response, error) { return f(r) }

func answer(code int, body string) stubTransport {
	return func(*http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: code, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body))}, nil
	}
}

func TestOddAnswers(t *testing.T) {
	cases := []struct {
		name    string
		tr      stubTransport
		wantErr string
	}{
		{"proxy error page", answer(502, "<html>\n<body>Bad Gateway</body>\n</html>"), "502 Bad Gateway: <html> <body>Bad Gateway</body> </html>"},
		{"empty 503", answer(503, ""), "503 Service Unavailable"},
		{"string error", answer(400, `{"error":"no handler found"}`), "400 no handler found"},
		{"200 not JSON", answer(200, "OK"), "200 but the body is not cluster health: invalid character"},
		{"200 without status", answer(200, `{"cluster_name":"x"}`), `200 but the body is not cluster health: no "status" field`},
		{"secret echoed by a proxy", answer(502, "upstream http://elastic:"+password+"@10.0.0.1:9200 failed"), "502 Bad Gateway: upstream http://elastic:"},
		{"very long body", answer(502, strings.Repeat("x", 5000)), "502 Bad Gateway: " + strings.Repeat("x", 200) + "…"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := elastic.New(tc.tr)(context.Background())
			assert.False(t, r.Status)
			got, _ := r.Data["error"].(string)
			assert.True(t, strings.HasPrefix(got, tc.wantErr), "error %q does not start with %q", got, tc.wantErr)
			assertNoSecret(t, r)
		})
	}
}

// TestTransportIgnoringContext: a transport that never returns must not
// hold the probe past its deadline, and probes that come while it hangs
// wait for it rather than pile up more requests.
func TestTransportIgnoringContext(t *testing.T) {
	release := make(chan struct{})
	var calls atomic.Int32
	stuck := stubTransport(func(*http.Request) (*http.Response, error) {
		calls.Add(1)
		<-release
		return nil, io.ErrUnexpectedEOF
	})
	check := elastic.New(stuck, elastic.WithName("search"))
	for range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		start := time.Now()
		r := check(ctx)
		cancel()
		assert.Less(t, time.Since(start), time.Second)
		assert.Equal(t, "search", r.Name)
		assert.False(t, r.Status)
		assert.Regexp(t, `^timed out after \d+ms$`, r.Data["error"])
	}
	assert.Equal(t, int32(1), calls.Load(), "requests sent while the first one hung")

	// When the hung call ends, the probe waiting on it gets its real error.
	close(release)
	r := check(context.Background())
	assert.Equal(t, "GET /_cluster/health: unexpected EOF (the connection closed before an answer)", r.Data["error"])
}

// TestHungNodeDiagnosis: once the receiver has reached a node, a timeout
// says whether the node still accepts connections.
func TestHungNodeDiagnosis(t *testing.T) {
	srv := fakees.New("green", password)
	srv.Fault = fakees.Hang
	t.Cleanup(srv.Close)
	for _, c := range clients {
		t.Run(c.name, func(t *testing.T) {
			check := elastic.New(c.new(t, srv.URL, fakees.User, password, clientOpt{}))
			var r signal.Reply
			for range 2 {
				ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
				r = check(ctx)
				cancel()
			}
			host := strings.TrimPrefix(srv.URL, "http://")
			assert.Regexp(t, `^timed out after \d+ms: the server at `+regexp.QuoteMeta(host)+
				` accepts TCP connections but the call got no answer in time$`, r.Data["error"])
			assertNoSecret(t, r)
		})
	}
}

// TestLearnedCredentials: whatever credential the transport puts on the
// request is masked when an answer repeats it, in any form.
func TestLearnedCredentials(t *testing.T) {
	const apiKey = "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw=="
	basic := base64.StdEncoding.EncodeToString([]byte(fakees.User + ":" + password))
	cases := map[string]struct {
		authorize func(*http.Request)
		echoed    string
	}{
		"basic password":         {func(r *http.Request) { r.SetBasicAuth(fakees.User, password) }, password},
		"basic encoded":          {func(r *http.Request) { r.SetBasicAuth(fakees.User, password) }, basic},
		"API key":                {func(r *http.Request) { r.Header.Set("Authorization", "ApiKey "+apiKey) }, apiKey},
		"bearer (service token)": {func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+apiKey) }, apiKey},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			echo := stubTransport(func(r *http.Request) (*http.Response, error) {
				tc.authorize(r)
				body := "rejected credentials " + tc.echoed
				return &http.Response{StatusCode: 502, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body))}, nil
			})
			r := elastic.New(echo)(context.Background())
			assert.Contains(t, r.Data["error"], "502 Bad Gateway: rejected credentials ")
			assert.NotContains(t, r.Data["error"], tc.echoed)
		})
	}
}
