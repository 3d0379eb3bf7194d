package elastic_test

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	es8 "github.com/elastic/go-elasticsearch/v8"
	"github.com/opensearch-project/opensearch-go/v4"
	"github.com/stretchr/testify/require"

	"github.com/oarepo/heartbeat/receivers/elastic"
	"github.com/oarepo/heartbeat/receivers/elastic/internal/fakees"
)

// BenchmarkHealth compares one check through the receiver with the bare
// client call a hand-written check would make (Cluster.Health, drain,
// close), against the same fake node over loopback. The difference is the
// receiver's own cost: the goroutine that keeps the deadline, reading and
// decoding the body, and building the reply.
//
//	go test -run '^$' -bench . -benchmem ./receivers/elastic/
func BenchmarkHealth(b *testing.B) {
	node := fakees.New("green", password)
	b.Cleanup(node.Close)
	es, err := es8.NewClient(es8.Config{Addresses: []string{node.URL}, Username: fakees.User, Password: password})
	require.NoError(b, err)

	b.Run("bare Cluster.Health", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			res, err := es.Cluster.Health(es.Cluster.Health.WithContext(ctx))
			if err != nil || res.IsError() {
				b.Fatal(err, res)
			}
			_, _ = io.Copy(io.Discard, res.Body)
			_ = res.Body.Close()
			cancel()
		}
	})
	b.Run("receiver", func(b *testing.B) {
		check := elastic.New(es)
		b.ReportAllocs()
		for b.Loop() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			if r := check(ctx); !r.Status {
				b.Fatal(r.Data)
			}
			cancel()
		}
	})
}

// BenchmarkReceiverOnly isolates the receiver from the network: the
// transport hands back a canned green answer, so all that is measured is
// the receiver itself.
func BenchmarkReceiverOnly(b *testing.B) {
	body := `{"cluster_name":"testcluster","status":"green","timed_out":false,"number_of_nodes":1,` +
		`"number_of_data_nodes":1,"active_primary_shards":1,"active_shards":1,"relocating_shards":0,` +
		`"initializing_shards":0,"unassigned_shards":0,"delayed_unassigned_shards":0,"number_of_pending_tasks":0,` +
		`"number_of_in_flight_fetch":0,"task_max_waiting_in_queue_millis":0,"active_shards_percent_as_number":100.0}`
	check := elastic.New(answer(200, body))
	b.ReportAllocs()
	for b.Loop() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		if r := check(ctx); !r.Status {
			b.Fatal(r.Data)
		}
		cancel()
	}
}

// BenchmarkOpenSearch is BenchmarkHealth for OpenSearch through
// opensearch-go v4: the bare call is the GET /_cluster/health a hand-written
// check would send with the client's Stream, and the receiver uses the same
// method through TransportFunc.
func BenchmarkOpenSearch(b *testing.B) {
	node := fakees.NewOpenSearch("green", password)
	b.Cleanup(node.Close)
	client := newOS4(b, node.URL, fakees.OpenSearchUser, password, clientOpt{}).(*opensearch.Client)

	b.Run("bare Stream", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, "/_cluster/health?cluster_manager_timeout=750ms", nil)
			if err != nil {
				b.Fatal(err)
			}
			res, err := client.Stream(req)
			if err != nil || res.StatusCode != http.StatusOK {
				b.Fatal(err, res)
			}
			_, _ = io.Copy(io.Discard, res.Body)
			_ = res.Body.Close()
			cancel()
		}
	})
	b.Run("receiver", func(b *testing.B) {
		check := elastic.New(elastic.TransportFunc(client.Stream), elastic.WithFlavor(elastic.OpenSearch))
		b.ReportAllocs()
		for b.Loop() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			if r := check(ctx); !r.Status {
				b.Fatal(r.Data)
			}
			cancel()
		}
	})
}
