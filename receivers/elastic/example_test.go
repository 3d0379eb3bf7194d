package elastic_test

import (
	"context"
	"fmt"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/opensearch-project/opensearch-go/v4"

	"github.com/oarepo/heartbeat/receivers/elastic"
	"github.com/oarepo/heartbeat/receivers/elastic/internal/fakees"
	"github.com/oarepo/heartbeat/redact"
	"github.com/oarepo/heartbeat/signal"
)

// A readiness check on a cluster, with the client settings
// docs/receivers.md recommends. The node here is the package's test fake, a
// one-node cluster whose replica cannot be assigned: yellow, and ready.
func Example() {
	node := fakees.New("yellow", "S3cr3t-es-pw")
	defer node.Close()

	es, err := elasticsearch.NewClient(elasticsearch.Config{
		Addresses: []string{node.URL},
		Username:  "elastic",
		Password:  "S3cr3t-es-pw",
		// Retrying a 503 would ask a masterless cluster four times per
		// probe and report nothing new.
		RetryOnStatus: []int{502, 504},
	})
	if err != nil {
		fmt.Println(redact.Error(err, "S3cr3t-es-pw"))
		return
	}

	bus := signal.NewBus()
	bus.Subscribe(signal.Readiness, elastic.New(es))

	for _, r := range bus.Publish(context.Background(), signal.Readiness) {
		fmt.Println(r.Name, r.Status, r.Data["cluster_status"], r.Data["warning"])
	}
	// Output: elasticsearch true yellow cluster status is yellow (unassigned shards: 1)
}

// NewClient prints a malformed address as it was given, password included;
// pass the error through redact before it reaches a log.
func Example_clientError() {
	_, err := elasticsearch.NewClient(elasticsearch.Config{
		Addresses: []string{"http://elastic:S3cr3t-es-pw@es.example.org:92OO"},
	})
	fmt.Println(redact.Error(err, "S3cr3t-es-pw"))
	// Output: cannot create client: cannot parse URL: parse "http://elastic:xxxxx@es.example.org:92OO": invalid port ":92OO" after host
}

// Where replicas are the point (a cluster that must survive losing a node),
// yellow can count as not ready. The node answers HTTP 200 whatever the
// colour; the receiver fails the check on the colour and says why.
func ExampleWithYellowReady() {
	node := fakees.New("yellow", "")
	defer node.Close()
	es, _ := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{node.URL}})

	strict := elastic.New(es, elastic.WithName("search"), elastic.WithYellowReady(false))
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	r := strict(ctx)
	fmt.Println(r.Name, r.Status, r.Data["error"])
	// Output: search false cluster status is yellow (unassigned shards: 1)
}

// For a startup probe: hold the pod back until the cluster is green, up to
// three quarters of the probe's deadline; the node answers 408 otherwise.
func ExampleWithWaitForStatus() {
	node := fakees.New("yellow", "")
	defer node.Close()
	es, _ := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{node.URL}})

	check := elastic.New(es, elastic.WithWaitForStatus("green"))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	r := check(ctx)
	fmt.Println(r.Status, r.Data["error"])
	// Output: false 408 timed out waiting for cluster status green; it is yellow
}

// OpenSearch through opensearch-go v4, the flavour named so the first probe
// already sends cluster_manager_timeout. The node is the package's fake
// OpenSearch 2 node.
func Example_openSearch() {
	node := fakees.NewOpenSearch("green", "S3cr3t-os-pw")
	defer node.Close()

	client, err := opensearch.NewClient(opensearch.Config{
		Addresses:     []string{node.URL},
		Username:      "admin",
		Password:      "S3cr3t-os-pw",
		RetryOnStatus: []int{502, 504},
	})
	if err != nil {
		fmt.Println(redact.Error(err, "S3cr3t-os-pw"))
		return
	}
	check := elastic.New(client, elastic.WithName("opensearch"), elastic.WithFlavor(elastic.OpenSearch))

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	r := check(ctx)
	fmt.Println(r.Name, r.Status, r.Data["cluster_status"], r.Data["discovered_cluster_manager"], node.Deprecations())
	// Output: opensearch true green true 0
}

// A client whose method has Perform's signature under another name fits
// through TransportFunc; here opensearch-go v4's Stream, the method v5
// keeps when it drops Perform.
func ExampleTransportFunc() {
	node := fakees.NewOpenSearch("yellow", "")
	defer node.Close()
	client, _ := opensearch.NewClient(opensearch.Config{Addresses: []string{node.URL}})

	check := elastic.New(elastic.TransportFunc(client.Stream))
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	r := check(ctx)
	fmt.Println(r.Status, r.Data["cluster_status"])
	// Output: true yellow
}
