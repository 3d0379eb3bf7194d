package fakees_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oarepo/heartbeat/receivers/elastic/internal/fakees"
)

const password = "S3cr3t-es-pw"

// TestFaithful pins the fake to what a real node sends, as described in
// Elastic's API specification: the receiver's tests are only as good as
// this server's likeness.
func TestFaithful(t *testing.T) {
	cases := []struct {
		name        string
		status      string
		fault       fakees.Fault
		method      string
		path        string
		auth        bool
		badPassword bool
		wantCode    int
		wantProduct bool
		wantBody    string // exact JSON, if set
		check       func(t *testing.T, h http.Header, body map[string]any)
	}{
		{
			name: "info", status: "green", method: "GET", path: "/", auth: true, wantCode: 200, wantProduct: true,
			check: func(t *testing.T, _ http.Header, b map[string]any) {
				assert.Equal(t, "You Know, for Search", b["tagline"])
				assert.Equal(t, "8.12.1", b["version"].(map[string]any)["number"])
			},
		},
		{name: "info HEAD", status: "green", method: "HEAD", path: "/", auth: true, wantCode: 200, wantProduct: true},
		{name: "green", status: "green", method: "GET", path: "/_cluster/health", auth: true, wantCode: 200, wantProduct: true,
			check: healthIs("green", false)},
		{name: "yellow is 200", status: "yellow", method: "GET", path: "/_cluster/health", auth: true, wantCode: 200, wantProduct: true,
			check: healthIs("yellow", false)},
		{name: "red is 200 too", status: "red", method: "GET", path: "/_cluster/health", auth: true, wantCode: 200, wantProduct: true,
			check: healthIs("red", false)},
		{
			name: "wait_for_status unmet", status: "yellow", method: "GET", auth: true,
			path:     "/_cluster/health?wait_for_status=green&timeout=50ms",
			wantCode: 408, wantProduct: true, check: healthIs("yellow", true),
		},
		{
			name: "missing credentials", status: "green", method: "GET", path: "/_cluster/health", wantCode: 401,
			wantBody: `{"error":{"root_cause":[{"type":"security_exception","reason":"missing authentication credentials for REST request [/_cluster/health]","header":{"WWW-Authenticate":["Basic realm=\"security\", charset=\"UTF-8\"","Bearer realm=\"security\"","ApiKey"]}}],"type":"security_exception","reason":"missing authentication credentials for REST request [/_cluster/health]","header":{"WWW-Authenticate":["Basic realm=\"security\", charset=\"UTF-8\"","Bearer realm=\"security\"","ApiKey"]}},"status":401}`,
			check: func(t *testing.T, h http.Header, _ map[string]any) {
				assert.Equal(t, []string{`Basic realm="security", charset="UTF-8"`, `Bearer realm="security"`, `ApiKey`}, h.Values("WWW-Authenticate"))
			},
		},
		{
			name: "wrong password", status: "green", method: "GET", path: "/_cluster/health", auth: true, badPassword: true, wantCode: 401,
			check: func(t *testing.T, _ http.Header, b map[string]any) {
				assert.Equal(t, "unable to authenticate user [elastic] for REST request [/_cluster/health]", b["error"].(map[string]any)["reason"])
			},
		},
		{
			name: "no master", status: "green", fault: fakees.NoMaster, method: "GET", path: "/_cluster/health", auth: true,
			wantCode: 503, wantProduct: true,
			wantBody: `{"error":{"root_cause":[{"type":"master_not_discovered_exception","reason":null}],"type":"master_not_discovered_exception","reason":null},"status":503}`,
		},
		{name: "forbidden", status: "green", fault: fakees.Forbidden, method: "GET", path: "/_cluster/health", auth: true, wantCode: 403, wantProduct: true},
		{name: "Elasticsearch has no discovered field", status: "green", fault: fakees.Undiscovered, method: "GET", path: "/_cluster/health", auth: true,
			wantCode: 200, wantProduct: true,
			check: func(t *testing.T, h http.Header, b map[string]any) {
				healthIs("green", false)(t, h, b)
				assert.NotContains(t, b, "discovered_master")
				assert.NotContains(t, b, "discovered_cluster_manager")
			}},
		{name: "not Elasticsearch", status: "green", fault: fakees.NotElasticsearch, method: "GET", path: "/_cluster/health", auth: true, wantCode: 200,
			check: healthIs("green", false)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := fakees.New(tc.status, password)
			srv.Fault = tc.fault
			t.Cleanup(srv.Close)

			req, err := http.NewRequest(tc.method, srv.URL+tc.path, nil)
			require.NoError(t, err)
			if tc.auth {
				pw := password
				if tc.badPassword {
					pw = "Wr0ng-guess-pw"
				}
				req.SetBasicAuth(fakees.User, pw)
			}
			res, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer func() { _ = res.Body.Close() }()
			raw, err := io.ReadAll(res.Body)
			require.NoError(t, err)

			assert.Equal(t, tc.wantCode, res.StatusCode)
			assert.Equal(t, "application/json", res.Header.Get("Content-Type"))
			if tc.wantProduct {
				assert.Equal(t, "Elasticsearch", res.Header.Get("X-Elastic-Product"))
			} else {
				assert.Empty(t, res.Header.Values("X-Elastic-Product"))
			}
			assert.NotContains(t, string(raw), password)
			assert.NotContains(t, string(raw), "Wr0ng-guess-pw")
			if tc.wantBody != "" {
				assert.JSONEq(t, tc.wantBody, string(raw))
			}
			if tc.check != nil {
				var body map[string]any
				if tc.method != http.MethodHead {
					require.NoError(t, json.Unmarshal(raw, &body))
				}
				tc.check(t, res.Header, body)
			}
		})
	}
}

func healthIs(status string, timedOut bool) func(*testing.T, http.Header, map[string]any) {
	return func(t *testing.T, _ http.Header, b map[string]any) {
		for _, k := range []string{"cluster_name", "status", "timed_out", "number_of_nodes", "number_of_data_nodes",
			"active_primary_shards", "active_shards", "relocating_shards", "initializing_shards", "unassigned_shards",
			"delayed_unassigned_shards", "number_of_pending_tasks", "number_of_in_flight_fetch",
			"task_max_waiting_in_queue_millis", "active_shards_percent_as_number"} {
			assert.Contains(t, b, k)
		}
		assert.Equal(t, status, b["status"])
		assert.Equal(t, timedOut, b["timed_out"])
	}
}

// TestFaults: the hang ends with the client, the closed connection is an
// EOF, and every health request is counted.
func TestFaults(t *testing.T) {
	srv := fakees.New("green", "")
	t.Cleanup(srv.Close)

	srv.Fault = fakees.Hang
	c := &http.Client{Timeout: 100 * time.Millisecond}
	start := time.Now()
	_, err := c.Get(srv.URL + "/_cluster/health")
	require.Error(t, err)
	assert.Less(t, time.Since(start), 2*time.Second)

	srv2 := fakees.New("green", "")
	srv2.Fault = fakees.CloseConn
	t.Cleanup(srv2.Close)
	_, err = http.Get(srv2.URL + "/_cluster/health")
	require.Error(t, err)
	assert.ErrorIs(t, err, io.EOF)
	assert.Equal(t, 1, srv.Hits())
	assert.Equal(t, []string{"/_cluster/health"}, srv.Requests())
}

// TestFaithfulOpenSearch pins the OpenSearch modes to what an OpenSearch 2
// node (and, where legacy is set, a 1.x node) sends, after
// opensearch-api-specification (cluster.health, info) and the OpenSearch
// and security plugin sources.
func TestFaithfulOpenSearch(t *testing.T) {
	cases := []struct {
		name        string
		legacy      bool // OpenSearch 1.x
		status      string
		upper       bool
		fault       fakees.Fault
		path        string
		auth        bool
		wantCode    int
		wantType    string // Content-Type
		wantWarning string // substring of the Warning header; "" means none
		wantBody    string // exact JSON or text, if set
		check       func(t *testing.T, h http.Header, body map[string]any)
	}{
		{
			name: "info", status: "green", path: "/", auth: true, wantCode: 200, wantType: "application/json; charset=UTF-8",
			check: func(t *testing.T, _ http.Header, b map[string]any) {
				v := b["version"].(map[string]any)
				assert.Equal(t, "opensearch", v["distribution"])
				assert.Equal(t, fakees.OpenSearchVersion, v["number"])
				assert.Equal(t, "The OpenSearch Project: https://opensearch.org/", b["tagline"])
				for _, k := range []string{"build_date", "build_hash", "build_snapshot", "build_type", "lucene_version",
					"minimum_index_compatibility_version", "minimum_wire_compatibility_version"} {
					assert.Contains(t, v, k, "required by OpenSearchVersionInfo")
				}
			},
		},
		{
			name: "green", status: "green", path: "/_cluster/health?cluster_manager_timeout=30s", auth: true,
			wantCode: 200, wantType: "application/json; charset=UTF-8",
			check: func(t *testing.T, h http.Header, b map[string]any) {
				healthIs("green", false)(t, h, b)
				assert.Equal(t, true, b["discovered_cluster_manager"])
				assert.Equal(t, true, b["discovered_master"])
			},
		},
		{
			name: "no cluster manager discovered", status: "green", fault: fakees.Undiscovered, path: "/_cluster/health", auth: true,
			wantCode: 200, wantType: "application/json; charset=UTF-8",
			check: func(t *testing.T, h http.Header, b map[string]any) {
				healthIs("green", false)(t, h, b)
				assert.Equal(t, false, b["discovered_cluster_manager"])
				assert.Equal(t, false, b["discovered_master"])
			},
		},
		{
			name: "1.x info", legacy: true, status: "green", path: "/", auth: true, wantCode: 200, wantType: "application/json; charset=UTF-8",
			check: func(t *testing.T, _ http.Header, b map[string]any) {
				v := b["version"].(map[string]any)
				assert.Equal(t, "opensearch", v["distribution"])
				assert.Equal(t, fakees.OpenSearch1Version, v["number"])
				assert.True(t, strings.HasPrefix(v["number"].(string), "1."))
			},
		},
		{
			name: "1.x green knows only discovered_master", legacy: true, status: "green", path: "/_cluster/health", auth: true,
			wantCode: 200, wantType: "application/json; charset=UTF-8",
			check: func(t *testing.T, h http.Header, b map[string]any) {
				healthIs("green", false)(t, h, b)
				assert.Equal(t, true, b["discovered_master"])
				assert.NotContains(t, b, "discovered_cluster_manager")
			},
		},
		{
			name: "1.x master_timeout without a warning", legacy: true, status: "green", path: "/_cluster/health?master_timeout=30s", auth: true,
			wantCode: 200, wantType: "application/json; charset=UTF-8", check: healthIs("green", false),
		},
		{
			name: "1.x refuses cluster_manager_timeout", legacy: true, status: "green", path: "/_cluster/health?cluster_manager_timeout=30s", auth: true,
			wantCode: 400, wantType: "application/json; charset=UTF-8",
			wantBody: `{"error":{"root_cause":[{"type":"illegal_argument_exception","reason":"request [/_cluster/health] contains unrecognized parameter: [cluster_manager_timeout]"}],"type":"illegal_argument_exception","reason":"request [/_cluster/health] contains unrecognized parameter: [cluster_manager_timeout]"},"status":400}`,
		},
		{
			name: "1.x no master", legacy: true, status: "green", fault: fakees.NoMaster, path: "/_cluster/health", auth: true,
			wantCode: 503, wantType: "application/json; charset=UTF-8",
			wantBody: `{"error":{"root_cause":[{"type":"master_not_discovered_exception","reason":null}],"type":"master_not_discovered_exception","reason":null},"status":503}`,
		},
		{
			name: "1.x no master discovered", legacy: true, status: "green", fault: fakees.Undiscovered, path: "/_cluster/health", auth: true,
			wantCode: 200, wantType: "application/json; charset=UTF-8",
			check: func(t *testing.T, h http.Header, b map[string]any) {
				assert.Equal(t, false, b["discovered_master"])
				assert.NotContains(t, b, "discovered_cluster_manager")
			},
		},
		{
			name: "1.x security plugin 401", legacy: true, status: "green", path: "/_cluster/health", wantCode: 401,
			wantType: "text/plain; charset=UTF-8", wantBody: "Unauthorized",
		},
		{
			name: "RED in capitals is 200", status: "red", upper: true, path: "/_cluster/health", auth: true,
			wantCode: 200, wantType: "application/json; charset=UTF-8", check: healthIs("RED", false),
		},
		{
			name: "master_timeout warns", status: "green", path: "/_cluster/health?master_timeout=30s", auth: true,
			wantCode: 200, wantType: "application/json; charset=UTF-8",
			wantWarning: `299 OpenSearch-` + fakees.OpenSearchVersion + `-`,
			check:       healthIs("green", false),
		},
		{
			name: "both timeouts refused", status: "green", path: "/_cluster/health?master_timeout=1s&cluster_manager_timeout=1s", auth: true,
			wantCode: 400, wantType: "application/json; charset=UTF-8",
			wantBody: `{"error":{"root_cause":[{"type":"parse_exception","reason":"Please only use one of the request parameters [master_timeout, cluster_manager_timeout]."}],"type":"parse_exception","reason":"Please only use one of the request parameters [master_timeout, cluster_manager_timeout]."},"status":400}`,
		},
		{
			name: "security plugin 401", status: "green", path: "/_cluster/health", wantCode: 401,
			wantType: "text/plain; charset=UTF-8", wantBody: "Unauthorized",
			check: func(t *testing.T, h http.Header, _ map[string]any) {
				assert.Equal(t, []string{`Basic realm="OpenSearch Security"`}, h.Values("WWW-Authenticate"))
			},
		},
		{
			name: "no cluster manager", status: "green", fault: fakees.NoMaster, path: "/_cluster/health", auth: true,
			wantCode: 503, wantType: "application/json; charset=UTF-8",
			wantBody: `{"error":{"root_cause":[{"type":"cluster_manager_not_discovered_exception","reason":null}],"type":"cluster_manager_not_discovered_exception","reason":null},"status":503}`,
		},
		{
			name: "no permission", status: "green", fault: fakees.Forbidden, path: "/_cluster/health", auth: true,
			wantCode: 403, wantType: "application/json; charset=UTF-8",
			check: func(t *testing.T, _ http.Header, b map[string]any) {
				assert.Equal(t, "no permissions for [cluster:monitor/health] and User [name=admin, backend_roles=[], requestedTenant=null]",
					b["error"].(map[string]any)["reason"])
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			newNode := fakees.NewOpenSearch
			if tc.legacy {
				newNode = fakees.NewOpenSearch1
			}
			srv := newNode(tc.status, password)
			srv.Fault, srv.UpperCase = tc.fault, tc.upper
			t.Cleanup(srv.Close)
			req, err := http.NewRequest(http.MethodGet, srv.URL+tc.path, nil)
			require.NoError(t, err)
			if tc.auth {
				req.SetBasicAuth(fakees.OpenSearchUser, password)
			}
			res, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer func() { _ = res.Body.Close() }()
			raw, err := io.ReadAll(res.Body)
			require.NoError(t, err)

			assert.Equal(t, tc.wantCode, res.StatusCode)
			assert.Equal(t, tc.wantType, res.Header.Get("Content-Type"))
			assert.Empty(t, res.Header.Values("X-Elastic-Product"), "OpenSearch never names a product")
			if tc.wantWarning != "" {
				assert.Contains(t, res.Header.Get("Warning"), tc.wantWarning)
				assert.Contains(t, res.Header.Get("Warning"), `"`+fakees.MasterTimeoutDeprecation+`"`)
				assert.Equal(t, 1, srv.Deprecations())
			} else {
				assert.Empty(t, res.Header.Values("Warning"))
				assert.Zero(t, srv.Deprecations())
			}
			switch {
			case tc.wantBody != "" && tc.wantType == "text/plain; charset=UTF-8":
				assert.Equal(t, tc.wantBody, string(raw))
			case tc.wantBody != "":
				assert.JSONEq(t, tc.wantBody, string(raw))
			}
			if tc.check != nil {
				var body map[string]any
				if strings.HasPrefix(tc.wantType, "application/json") {
					require.NoError(t, json.Unmarshal(raw, &body))
				}
				tc.check(t, res.Header, body)
			}
		})
	}
}

// TestElasticsearchRefusesClusterManagerTimeout: Elasticsearch rejects a
// query parameter it does not know, which is why the receiver never guesses
// OpenSearch's.
func TestElasticsearchRefusesClusterManagerTimeout(t *testing.T) {
	srv := fakees.New("green", "")
	t.Cleanup(srv.Close)
	res, err := http.Get(srv.URL + "/_cluster/health?cluster_manager_timeout=1s")
	require.NoError(t, err)
	defer func() { _ = res.Body.Close() }()
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	assert.Equal(t, 400, res.StatusCode)
	assert.Equal(t, "Elasticsearch", res.Header.Get("X-Elastic-Product"))
	assert.JSONEq(t, `{"error":{"root_cause":[{"type":"illegal_argument_exception","reason":"request [/_cluster/health] contains unrecognized parameter: [cluster_manager_timeout]"}],"type":"illegal_argument_exception","reason":"request [/_cluster/health] contains unrecognized parameter: [cluster_manager_timeout]"},"status":400}`, string(raw))
}
