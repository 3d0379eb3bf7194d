package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oarepo/heartbeat/httpapi"
	"github.com/oarepo/heartbeat/internal/testenv"
	"github.com/oarepo/heartbeat/internal/testserver"
	"github.com/oarepo/heartbeat/signal"
)

// fakeElastic answers the cluster health request as a green single-node
// Elasticsearch does, product header included.
func fakeElastic(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"cluster_name":"quickstart","status":"green","timed_out":false,"number_of_nodes":1}`))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// openSearchPassword is the fake OpenSearch node's admin password.
const openSearchPassword = "0pen-S3arch-pw"

// fakeOpenSearch answers as a green single-node OpenSearch 2 does: no
// product header (go-elasticsearch would refuse it), the security plugin's
// 401 without the admin's credentials, and both discovered fields. It
// refuses master_timeout together with cluster_manager_timeout, as the
// node does, and returns the URL to reach it with the credentials in it,
// and the queries of the health requests it got.
func fakeOpenSearch(t *testing.T) (rawURL string, queries func() []string) {
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "admin" || p != openSearchPassword {
			w.Header().Set("WWW-Authenticate", `Basic realm="OpenSearch Security"`)
			w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte("Unauthorized"))
			return
		}
		mu.Lock()
		got = append(got, r.URL.RawQuery)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		q := r.URL.Query()
		if q.Has("master_timeout") && q.Has("cluster_manager_timeout") {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":{"type":"parse_exception","reason":"Please only use one of the request parameters [master_timeout, cluster_manager_timeout]."},"status":400}`))
			return
		}
		_, _ = w.Write([]byte(`{"cluster_name":"quickstart","status":"green","timed_out":false,"number_of_nodes":1,` +
			`"discovered_master":true,"discovered_cluster_manager":true}`))
	}))
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	u.User = url.UserPassword("admin", openSearchPassword)
	return u.String(), func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), got...)
	}
}

func TestQuickstartWithEveryBackend(t *testing.T) {
	pg := testenv.Get("HEARTBEAT_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	rd := testenv.Get("HEARTBEAT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
	testenv.RequireTCP(t, "PostgreSQL", testenv.HostPort(pg, "5432"))
	testenv.RequireTCP(t, "Redis", testenv.HostPort(rd, "6379"))
	t.Setenv(envPostgres, pg)
	t.Setenv(envRedis, rd)
	t.Setenv(envElastic, fakeElastic(t))
	osURL, osQueries := fakeOpenSearch(t)
	t.Setenv(envOpenSearch, osURL)
	my := testenv.Get("HEARTBEAT_TEST_MYSQL_DSN", "root@tcp(127.0.0.1:3306)/")
	mq := testenv.Get("HEARTBEAT_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")
	testenv.RequireTCP(t, "MariaDB", "127.0.0.1:3306")
	testenv.RequireTCP(t, "RabbitMQ", testenv.HostPort(mq, "5672"))
	t.Setenv(envMySQL, my)
	t.Setenv(envAMQP, mq)
	// S3 has no shared server: the test starts a SeaweedFS of its own,
	// with the bucket the check looks for.
	const s3Key, s3Bucket = "quickstart", "quickstart"
	s3Secret := rand.Text()
	weed := testserver.SeaweedFS(t, s3Key, s3Secret)
	makeBucket(t, weed.Addr, s3Key, s3Secret, s3Bucket)
	t.Setenv(envS3, "http://"+s3Key+":"+s3Secret+"@"+weed.Addr+"/"+s3Bucket)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, "127.0.0.1:0", ready) }()
	defer func() { cancel(); require.NoError(t, <-done) }()
	addr := <-ready
	code, body := probe(t, addr, "readiness")
	require.Equal(t, http.StatusOK, code, "%v", body)
	checks := body["checks"].(map[string]any)
	for _, name := range []string{"postgres", "redis", "elasticsearch", "opensearch", "mysql", "rabbitmq", "s3"} {
		c, ok := checks[name].(map[string]any)
		if assert.True(t, ok, "readiness has %s: %v", name, checks) {
			assert.Equal(t, true, c["status"], "%s: %v", name, c)
		}
	}
	// Named OpenSearch, the first probe already speaks its dialect, and
	// the URL's credentials reached the node.
	queries := osQueries()
	require.NotEmpty(t, queries, "the OpenSearch check reached the node with the URL's credentials")
	for _, q := range queries {
		assert.Contains(t, q, "cluster_manager_timeout=")
		assert.NotContains(t, q, "master_timeout=", "OpenSearch deprecates master_timeout")
	}

	code, body = probe(t, addr, "liveliness")
	assert.Equal(t, http.StatusOK, code)
	assert.NotContains(t, body["checks"], "postgres", "shared backends stay out of liveliness")
}

// makeBucket creates bucket at the S3 endpoint, as the application's own
// setup would.
func makeBucket(t *testing.T, endpoint, key, secret, bucket string) {
	t.Helper()
	tr, err := minio.DefaultTransport(false)
	require.NoError(t, err)
	t.Cleanup(tr.CloseIdleConnections)
	c, err := minio.New(endpoint, &minio.Options{Creds: credentials.NewStaticV4(key, secret, ""), Transport: tr})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, c.MakeBucket(ctx, bucket, minio.MakeBucketOptions{}))
}

func probe(t *testing.T, addr, path string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get("http://" + addr + httpapi.DefaultPrefix + "/" + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	var body map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	return resp.StatusCode, body
}

func TestQuickstartBackendErrorsHideThePassword(t *testing.T) {
	const secret = "Qu1ck-S3cret-pw"
	cases := map[string]string{
		envPostgres:   "postgres://app:" + secret + "@127.0.0.1:notaport/db",
		envRedis:      "redis://:" + secret + "@127.0.0.1:notaport/0",
		envElastic:    "http://elastic:" + secret + "@127.0.0.1:notaport",
		envOpenSearch: "http://admin:" + secret + "@127.0.0.1:notaport",
		envAMQP:       "amqp://guest:" + secret + "@127.0.0.1:notaport/",
		envS3:         "http://key:" + secret + "@127.0.0.1:notaport/bucket",
	}
	for env, raw := range cases {
		t.Run(env, func(t *testing.T) {
			t.Setenv(env, raw)
			_, err := subscribeBackends(context.Background(), signal.NewBus())
			require.Error(t, err)
			assert.Contains(t, err.Error(), env)
			assert.NotContains(t, err.Error(), secret)
		})
	}
}
