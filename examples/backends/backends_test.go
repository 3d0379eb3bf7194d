package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oarepo/heartbeat/httpapi"
	"github.com/oarepo/heartbeat/internal/testenv"
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

func TestQuickstartWithEveryBackend(t *testing.T) {
	pg := testenv.Get("HEARTBEAT_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	rd := testenv.Get("HEARTBEAT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
	testenv.RequireTCP(t, "PostgreSQL", testenv.HostPort(pg, "5432"))
	testenv.RequireTCP(t, "Redis", testenv.HostPort(rd, "6379"))
	t.Setenv(envPostgres, pg)
	t.Setenv(envRedis, rd)
	t.Setenv(envElastic, fakeElastic(t))
	my := testenv.Get("HEARTBEAT_TEST_MYSQL_DSN", "root@tcp(127.0.0.1:3306)/")
	mq := testenv.Get("HEARTBEAT_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")
	testenv.RequireTCP(t, "MariaDB", "127.0.0.1:3306")
	testenv.RequireTCP(t, "RabbitMQ", testenv.HostPort(mq, "5672"))
	t.Setenv(envMySQL, my)
	t.Setenv(envAMQP, mq)

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
	for _, name := range []string{"postgres", "redis", "elasticsearch", "mysql", "rabbitmq"} {
		c, ok := checks[name].(map[string]any)
		if assert.True(t, ok, "readiness has %s: %v", name, checks) {
			assert.Equal(t, true, c["status"], "%s: %v", name, c)
		}
	}
	code, body = probe(t, addr, "liveliness")
	assert.Equal(t, http.StatusOK, code)
	assert.NotContains(t, body["checks"], "postgres", "shared backends stay out of liveliness")
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
		envPostgres: "postgres://app:" + secret + "@127.0.0.1:notaport/db",
		envRedis:    "redis://:" + secret + "@127.0.0.1:notaport/0",
		envElastic:  "http://elastic:" + secret + "@127.0.0.1:notaport",
		envAMQP:     "amqp://guest:" + secret + "@127.0.0.1:notaport/",
		envS3:       "http://key:" + secret + "@127.0.0.1:notaport/bucket",
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
