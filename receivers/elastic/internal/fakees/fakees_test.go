package fakees_test

import (
	"encoding/json"
	"io"
	"net/http"
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
