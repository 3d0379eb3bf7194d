package bench

import (
	"runtime"
	"strings"
)

// Goroutines counts the live goroutines, less the idle workers of
// heartbeat's goroutine pool: those wait for the next run, are bounded in
// number and exit after a while unused, so they are kept capacity, not
// goroutines held by a probe. A worker running a receiver, hung or not, is
// counted.
func Goroutines() int {
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
		return strings.HasPrefix(line, "github.com/oarepo/heartbeat/signal.(*pool).loop(")
	}
	return false
}
