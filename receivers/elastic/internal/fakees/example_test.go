package fakees_test

import (
	"fmt"
	"io"
	"net/http"

	"github.com/oarepo/heartbeat/receivers/elastic/internal/fakees"
)

func ExampleNew() {
	node := fakees.New("yellow", "") // security off
	defer node.Close()

	resp, err := http.Get(node.URL + "/_cluster/health")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	// Yellow is still HTTP 200, as on a real node: the colour is in the body.
	fmt.Println(resp.StatusCode, resp.Header.Get("X-Elastic-Product"), node.Hits())
	// Output: 200 Elasticsearch 1
}

func ExampleNewOpenSearch() {
	node := fakees.NewOpenSearch("green", "") // security plugin off
	defer node.Close()

	resp, err := http.Get(node.URL + "/_cluster/health?master_timeout=1s")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	// No product header, and a deprecation warning for master_timeout.
	fmt.Println(resp.StatusCode, resp.Header.Get("X-Elastic-Product") == "", node.Deprecations())
	// Output: 200 true 1
}
