package elastic_test

import (
	"testing"

	"go.uber.org/goleak"
)

// The receiver leaves no goroutine behind. opensearch-go's client starts
// two background loops of its own (cluster health and node stats refresh)
// that live as long as the client; the tests' clients are never closed, so
// those two are not the receiver's and are ignored.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("github.com/opensearch-project/opensearch-go/v4/opensearchtransport.(*Client).scheduleClusterHealthRefresh.func1"),
		goleak.IgnoreTopFunction("github.com/opensearch-project/opensearch-go/v4/opensearchtransport.(*Client).scheduleNodeStats.func1"),
	)
}
