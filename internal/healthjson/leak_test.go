package healthjson

import (
	"testing"

	"go.uber.org/goleak"
)

// No goroutine of heartbeat outlives the tests: every receiver they run has
// returned, and every server they start is closed, by the end.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
