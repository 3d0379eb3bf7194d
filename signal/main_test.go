package signal

import (
	"testing"

	"go.uber.org/goleak"
)

// Every test leaves no goroutine of the bus behind once its receivers have
// returned: hung test receivers are released by their test's cleanup.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
