// Package goroutines counts the goroutines a test or a benchmark leaves
// behind. The bus keeps none once its receivers have returned, so the plain
// count is the one heartbeat's guarantees are stated in: a hung receiver
// holds one goroutine, and nothing else lingers.
package goroutines

import (
	"runtime"
	"time"
)

// Count returns the number of live goroutines.
func Count() int { return runtime.NumGoroutine() }

// Settled gives goroutines that are about to exit the time to do so, then
// counts them: it returns once Count has held still for still checks 20 ms
// apart, or after max checks.
func Settled(still, max int) int {
	n, same := Count(), 0
	for range max {
		time.Sleep(20 * time.Millisecond)
		m := Count()
		if m == n {
			if same++; same == still {
				break
			}
		} else {
			n, same = m, 0
		}
	}
	return n
}
