package elastic_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/opensearch-project/opensearch-go/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oarepo/heartbeat/receivers/elastic"
	"github.com/oarepo/heartbeat/receivers/elastic/internal/fakees"
)

// osClients are the ways an application reaches OpenSearch: the real
// opensearch-go v4 client through its deprecated Perform and through its
// Stream method (the shape v5 keeps) by way of TransportFunc, bare
// net/http, and a plain function through TransportFunc.
var osClients = []client{
	{name: "opensearch-go/v4", retries: true, new: newOS4},
	{name: "opensearch-go/v4 Stream", retries: true, new: newOS4Stream},
	{name: "net/http", new: newPlain},
	{name: "TransportFunc", new: newFunc},
}

func newOS4(t testing.TB, addr, user, password string, opt clientOpt) elastic.Transport {
	c, err := opensearch.NewClient(opensearch.Config{
		Addresses:     []string{addr},
		Username:      user,
		Password:      password,
		DisableRetry:  opt.disableRetry,
		RetryOnStatus: opt.retryOnStatus,
	})
	require.NoError(t, err)
	return c
}

func newOS4Stream(t testing.TB, addr, user, password string, opt clientOpt) elastic.Transport {
	return elastic.TransportFunc(newOS4(t, addr, user, password, opt).(*opensearch.Client).Stream)
}

func newFunc(t testing.TB, addr, user, password string, opt clientOpt) elastic.Transport {
	p := newPlain(t, addr, user, password, opt).(*plainTransport)
	return elastic.TransportFunc(p.Perform)
}

// osCase is one behaviour of an OpenSearch node and what the receiver must
// make of it.
type osCase struct {
	name      string
	status    string
	upper     bool // the node spells the colour in capitals
	fault     fakees.Fault
	user      string
	password  string
	noAuth    bool
	opts      []elastic.Option
	timeout   time.Duration
	wantOK    bool
	wantErr   string
	wantColor string // data["cluster_status"], empty when absent
	// wantHits and wantHitsRetrying as in fakeCase; 0: unchecked.
	wantHits, wantHitsRetrying int
}

var osCases = []osCase{
	{name: "green", status: "green", wantOK: true, wantColor: "green", wantHits: 1, wantHitsRetrying: 1},
	{name: "GREEN in capitals", status: "green", upper: true, wantOK: true, wantColor: "green"},
	{name: "YELLOW in capitals is ready", status: "yellow", upper: true, wantOK: true, wantColor: "yellow"},
	{
		name: "yellow not ready when asked", status: "yellow", opts: []elastic.Option{elastic.WithYellowReady(false)},
		wantErr: "cluster status is yellow (unassigned shards: 1)", wantColor: "yellow",
	},
	{name: "RED in capitals fails", status: "red", upper: true, wantErr: "cluster status is red (unassigned shards: 2)", wantColor: "red"},
	{name: "missing credentials", status: "green", noAuth: true, wantErr: "401 Unauthorized: Unauthorized"},
	{
		name: "wrong password", status: "green", user: fakees.OpenSearchUser, password: wrongPassword,
		wantErr: "401 Unauthorized: Unauthorized",
	},
	{
		name: "no cluster:monitor/health permission", status: "green", fault: fakees.Forbidden,
		wantErr: "403 security_exception: no permissions for [cluster:monitor/health] and User [name=admin",
	},
	{
		name: "no cluster manager", status: "green", fault: fakees.NoMaster,
		opts:    []elastic.Option{elastic.WithFlavor(elastic.OpenSearch)},
		wantErr: "503 cluster_manager_not_discovered_exception", wantHits: 1,
	},
	{
		name: "no cluster manager discovered, though green", status: "green", fault: fakees.Undiscovered,
		wantErr: "cluster status is green but no cluster manager is discovered", wantColor: "green",
	},
	{
		name: "no cluster manager discovered, red as a real node says", status: "red", fault: fakees.Undiscovered,
		wantErr: "cluster status is red but no cluster manager is discovered", wantColor: "red",
	},
	{
		name: "wait_for_status not met in time", status: "yellow", timeout: 400 * time.Millisecond,
		opts:    []elastic.Option{elastic.WithWaitForStatus("green")},
		wantErr: "408 timed out waiting for cluster status green; it is yellow", wantColor: "yellow",
	},
	{name: "hung node", status: "green", fault: fakees.Hang, timeout: 300 * time.Millisecond, wantErr: "timed out after "},
	{
		name: "connection closed without an answer", status: "green", fault: fakees.CloseConn,
		wantErr: "GET /_cluster/health: EOF (the connection closed before an answer)", wantHits: 1,
	},
}

// TestOpenSearch runs the failure table against a fake OpenSearch 2 node
// through the real opensearch-go v4 client and the client-free transports,
// both with the flavour named and detected. Whatever the case, no request
// may use master_timeout.
func TestOpenSearch(t *testing.T) {
	for _, c := range osClients {
		for _, flavor := range []elastic.Flavor{elastic.Detect, elastic.OpenSearch} {
			t.Run(c.name+"/"+flavor.String(), func(t *testing.T) {
				for _, tc := range osCases {
					t.Run(tc.name, func(t *testing.T) {
						t.Parallel()
						srv := fakees.NewOpenSearch(tc.status, password)
						srv.Fault, srv.UpperCase = tc.fault, tc.upper
						t.Cleanup(srv.Close)

						user, pw := fakees.OpenSearchUser, password
						if tc.user != "" {
							user, pw = tc.user, tc.password
						}
						if tc.noAuth {
							user, pw = "", ""
						}
						tr := c.new(t, srv.URL, user, pw, clientOpt{})
						opts := append([]elastic.Option{elastic.WithFlavor(flavor)}, tc.opts...)
						timeout := tc.timeout
						if timeout == 0 {
							timeout = time.Second
						}
						check := elastic.New(tr, opts...)
						// Twice: the second probe speaks what the first taught.
						for probe := range 2 {
							ctx, cancel := context.WithTimeout(context.Background(), timeout)
							start := time.Now()
							r := check(ctx)
							elapsed := time.Since(start)
							cancel()

							assert.Equal(t, tc.wantOK, r.Status, "probe %d: %v", probe, r.Data)
							assert.Less(t, elapsed, 2*time.Second)
							if tc.wantOK {
								assert.NotContains(t, r.Data, "error")
								assert.Equal(t, true, r.Data["discovered_cluster_manager"])
							} else {
								assert.Contains(t, r.Data["error"], tc.wantErr, "probe %d", probe)
							}
							if tc.fault == fakees.Undiscovered {
								assert.Equal(t, false, r.Data["discovered_cluster_manager"])
							}
							if tc.wantColor != "" {
								assert.Equal(t, tc.wantColor, r.Data["cluster_status"])
							}
							assertNoSecret(t, r)
							if probe == 0 && tc.wantHits != 0 {
								hits := tc.wantHits
								if c.retries && tc.wantHitsRetrying != 0 {
									hits = tc.wantHitsRetrying
								}
								if !c.retries || tc.wantHitsRetrying != 0 {
									assert.Equal(t, hits, srv.Hits(), "requests that reached the node")
								}
							}
						}
						for _, req := range srv.Requests() {
							assert.NotContains(t, req, "master_timeout=", "OpenSearch deprecates master_timeout")
						}
						assert.Zero(t, srv.Deprecations(), "deprecation warnings caused")
					})
				}
			})
		}
	}
}

// TestOpenSearch1 runs an OpenSearch 1.x node through the same clients:
// detected or named Elasticsearch, the receiver speaks master_timeout, the
// only name 1.x knows, and reads discovered_master.
func TestOpenSearch1(t *testing.T) {
	cases := []struct {
		name    string
		status  string
		fault   fakees.Fault
		wantOK  bool
		wantErr string
	}{
		{name: "green", status: "green", wantOK: true},
		{name: "red", status: "red", wantErr: "cluster status is red (unassigned shards: 2)"},
		{name: "no master discovered", status: "green", fault: fakees.Undiscovered, wantErr: "cluster status is green but no cluster manager is discovered"},
		{name: "no master", status: "green", fault: fakees.NoMaster, wantErr: "503 master_not_discovered_exception"},
	}
	for _, c := range osClients {
		for _, flavor := range []elastic.Flavor{elastic.Detect, elastic.Elasticsearch} {
			t.Run(c.name+"/"+flavor.String(), func(t *testing.T) {
				for _, tc := range cases {
					t.Run(tc.name, func(t *testing.T) {
						t.Parallel()
						srv := fakees.NewOpenSearch1(tc.status, password)
						srv.Fault = tc.fault
						t.Cleanup(srv.Close)
						check := elastic.New(c.new(t, srv.URL, fakees.OpenSearchUser, password, clientOpt{disableRetry: true}),
							elastic.WithFlavor(flavor))
						for probe := range 2 {
							ctx, cancel := context.WithTimeout(context.Background(), time.Second)
							r := check(ctx)
							cancel()
							assert.Equal(t, tc.wantOK, r.Status, "probe %d: %v", probe, r.Data)
							if tc.wantOK {
								assert.NotContains(t, r.Data, "error")
							} else {
								assert.Equal(t, tc.wantErr, r.Data["error"], "probe %d", probe)
							}
							if tc.fault != fakees.NoMaster {
								assert.Equal(t, tc.fault != fakees.Undiscovered, r.Data["discovered_cluster_manager"], "from discovered_master")
							}
							assertNoSecret(t, r)
						}
						for _, req := range srv.Requests() {
							assert.NotContains(t, req, "cluster_manager_timeout=", "OpenSearch 1.x refuses cluster_manager_timeout")
						}
					})
				}
			})
		}
	}
}

// TestOpenSearchDialect pins what each flavour sends: detected OpenSearch 2
// speaks cluster_manager_timeout from its second probe on, a named one from
// the first, and detected OpenSearch 1.x master_timeout; each server's reaction to the other's dialect shows why a
// guess would be worse than sending neither.
func TestOpenSearchDialect(t *testing.T) {
	cases := []struct {
		name     string
		node     func() *fakees.Server
		flavor   elastic.Flavor
		wantOK   bool
		wantReqs []string // regexps, one per probe
		wantDepr int
		wantErr  string
	}{
		{
			name: "detected OpenSearch", node: func() *fakees.Server { return fakees.NewOpenSearch("green", "") },
			flavor: elastic.Detect, wantOK: true,
			wantReqs: []string{`^/_cluster/health$`, `^/_cluster/health\?cluster_manager_timeout=7\d\dms$`, `^/_cluster/health\?cluster_manager_timeout=7\d\dms$`},
		},
		{
			name: "named OpenSearch", node: func() *fakees.Server { return fakees.NewOpenSearch("green", "") },
			flavor: elastic.OpenSearch, wantOK: true,
			wantReqs: []string{`^/_cluster/health\?cluster_manager_timeout=7\d\dms$`, `^/_cluster/health\?cluster_manager_timeout=7\d\dms$`, `^/_cluster/health\?cluster_manager_timeout=7\d\dms$`},
		},
		{
			name: "OpenSearch named as Elasticsearch warns every time", node: func() *fakees.Server { return fakees.NewOpenSearch("green", "") },
			flavor: elastic.Elasticsearch, wantOK: true, wantDepr: 3,
			wantReqs: []string{`master_timeout=`, `master_timeout=`, `master_timeout=`},
		},
		{
			// discovered_master alone is 1.x, which knows only master_timeout.
			name: "detected OpenSearch 1.x speaks master_timeout", node: func() *fakees.Server { return fakees.NewOpenSearch1("green", "") },
			flavor: elastic.Detect, wantOK: true,
			wantReqs: []string{`^/_cluster/health$`, `^/_cluster/health\?master_timeout=7\d\dms$`, `^/_cluster/health\?master_timeout=7\d\dms$`},
		},
		{
			name: "OpenSearch 1.x named as Elasticsearch", node: func() *fakees.Server { return fakees.NewOpenSearch1("green", "") },
			flavor: elastic.Elasticsearch, wantOK: true,
			wantReqs: []string{`^/_cluster/health\?master_timeout=7\d\dms$`, `^/_cluster/health\?master_timeout=7\d\dms$`, `^/_cluster/health\?master_timeout=7\d\dms$`},
		},
		{
			name: "OpenSearch 1.x named as OpenSearch refuses the parameter", node: func() *fakees.Server { return fakees.NewOpenSearch1("green", "") },
			flavor: elastic.OpenSearch, wantErr: "400 illegal_argument_exception: request [/_cluster/health] contains unrecognized parameter: [cluster_manager_timeout]",
			wantReqs: []string{`cluster_manager_timeout=`, `cluster_manager_timeout=`, `cluster_manager_timeout=`},
		},
		{
			name: "Elasticsearch named as OpenSearch refuses the parameter", node: func() *fakees.Server { return fakees.New("green", "") },
			flavor: elastic.OpenSearch, wantErr: "400 illegal_argument_exception: request [/_cluster/health] contains unrecognized parameter: [cluster_manager_timeout]",
			wantReqs: []string{`cluster_manager_timeout=`, `cluster_manager_timeout=`, `cluster_manager_timeout=`},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := tc.node()
			t.Cleanup(srv.Close)
			check := elastic.New(newPlain(t, srv.URL, "", "", clientOpt{}), elastic.WithFlavor(tc.flavor))
			for range 3 {
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				r := check(ctx)
				cancel()
				assert.Equal(t, tc.wantOK, r.Status, "%v", r.Data)
				if tc.wantErr != "" {
					assert.Equal(t, tc.wantErr, r.Data["error"])
				}
			}
			reqs := srv.Requests()
			require.Len(t, reqs, len(tc.wantReqs))
			for i, re := range tc.wantReqs {
				assert.Regexp(t, re, reqs[i], "request %d", i)
			}
			assert.Equal(t, tc.wantDepr, srv.Deprecations())
		})
	}
}

// TestOpenSearchRefusedByGoElasticsearch: go-elasticsearch will not talk to
// OpenSearch, and the error says what to do.
func TestOpenSearchRefusedByGoElasticsearch(t *testing.T) {
	srv := fakees.NewOpenSearch("green", password)
	t.Cleanup(srv.Close)
	r := elastic.New(newV8(t, srv.URL, fakees.OpenSearchUser, password, clientOpt{}))(context.Background())
	assert.False(t, r.Status)
	assert.Contains(t, r.Data["error"], "is this OpenSearch")
	assertNoSecret(t, r)
}

// TestOpenSearchUnreachable: a closed port through opensearch-go, with the
// password in the address.
func TestOpenSearchUnreachable(t *testing.T) {
	srv := fakees.NewOpenSearch("green", password)
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	srv.Close()
	u.User = url.UserPassword(fakees.OpenSearchUser, password)
	for _, c := range osClients {
		t.Run(c.name, func(t *testing.T) {
			check := elastic.New(c.new(t, u.String(), "", "", clientOpt{disableRetry: true}), elastic.WithFlavor(elastic.OpenSearch))
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			r := check(ctx)
			assert.False(t, r.Status)
			assert.Contains(t, r.Data["error"], "connection refused")
			assert.True(t, strings.HasPrefix(r.Data["error"].(string), "GET /_cluster/health: "), "%v", r.Data["error"])
			assertNoSecret(t, r)
		})
	}
}

// TestOpenSearchRetrySettings measures how often opensearch-go asks a
// cluster without a manager in one probe, under its defaults and the
// settings docs/receivers.md recommends.
func TestOpenSearchRetrySettings(t *testing.T) {
	for _, s := range []struct {
		name string
		opt  clientOpt
	}{
		{"defaults", clientOpt{}},
		{"retry on 502 and 504 only", clientOpt{retryOnStatus: []int{502, 504}}},
		{"retries disabled", clientOpt{disableRetry: true}},
	} {
		t.Run(s.name, func(t *testing.T) {
			srv := fakees.NewOpenSearch("green", password)
			srv.Fault = fakees.NoMaster
			t.Cleanup(srv.Close)
			check := elastic.New(newOS4(t, srv.URL, fakees.OpenSearchUser, password, s.opt), elastic.WithFlavor(elastic.OpenSearch))
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			r := check(ctx)
			assert.False(t, r.Status)
			t.Logf("%s: %d requests, %v", s.name, srv.Hits(), r.Data["error"])
			if s.name == "defaults" {
				assert.Greater(t, srv.Hits(), 1, "opensearch-go retries a 503 by default")
			} else {
				assert.Equal(t, 1, srv.Hits())
				assert.Equal(t, "503 cluster_manager_not_discovered_exception", r.Data["error"])
			}
		})
	}
}
