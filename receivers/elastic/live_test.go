package elastic_test

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"testing"
	"time"

	es8 "github.com/elastic/go-elasticsearch/v8"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oarepo/heartbeat/receivers/elastic"
	"github.com/oarepo/heartbeat/signal"
)

// TestLiveCluster checks a real cluster when HEARTBEAT_TEST_ELASTIC_URL names
// one, credentials in the URL if needed
// (http://elastic:password@127.0.0.1:9200). Elasticsearch is optional even
// under CI=true: no Elasticsearch can be installed where CI runs, and the
// fake node covers the behaviour, so an unset variable is a skip, never a
// failure. The v8 client is used because it talks to both ES 8 and ES 9.
func TestLiveCluster(t *testing.T) {
	addr := os.Getenv("HEARTBEAT_TEST_ELASTIC_URL")
	if addr == "" {
		t.Skip("HEARTBEAT_TEST_ELASTIC_URL is unset; set it to check a real cluster (optional, also under CI)")
	}
	es, err := es8.NewClient(es8.Config{Addresses: []string{addr}, RetryOnStatus: []int{502, 504}})
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r := elastic.New(es)(ctx)
	assertNoSecretIn(t, r, addr)
	require.True(t, r.Status, "cluster at HEARTBEAT_TEST_ELASTIC_URL is not ready: %v", r.Data["error"])
	assert.Contains(t, []any{"green", "yellow"}, r.Data["cluster_status"])
	assert.NotEmpty(t, r.Data["cluster_name"])
}

// assertNoSecretIn checks that the password of addr, if any, stays out of
// the reply.
func assertNoSecretIn(t *testing.T, r signal.Reply, addr string) {
	t.Helper()
	u, err := url.Parse(addr)
	require.NoError(t, err, "HEARTBEAT_TEST_ELASTIC_URL is not a URL")
	if pw, ok := u.User.Password(); ok && pw != "" {
		b, err := json.Marshal(r)
		require.NoError(t, err)
		assert.NotContains(t, string(b), pw)
	}
}
