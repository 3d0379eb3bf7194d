// Package goroutines counts the goroutines a test leaves behind, the way
// heartbeat's guarantees are stated: the idle workers of the bus's goroutine
// pool, which wait for the next run, are bounded in number and exit after a
// while unused, are kept capacity, not goroutines held by a probe, and are
// left out; a worker running a receiver, hung or not, is counted.
package goroutines

import (
	"runtime"
	"strings"
	"time"
)

// poolLoop is the frame an idle worker of signal's pool waits in.
const poolLoop = "github.com/oarepo/heartbeat/signal.(*pool).loop("

// Count returns the number of live goroutines, less idle pool workers.
func Count() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if !idleWorker(g) {
			count++
		}
	}
	return count
}

// idleWorker reports whether the goroutine whose trace is g is a pool worker
// waiting for work: its innermost frame outside the runtime is the pool's
// loop itself.
func idleWorker(g string) bool {
	for _, line := range strings.Split(g, "\n")[1:] {
		if strings.HasPrefix(line, "\t") || strings.HasPrefix(line, "runtime.") {
			continue
		}
		return strings.HasPrefix(line, poolLoop)
	}
	return false
}

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
