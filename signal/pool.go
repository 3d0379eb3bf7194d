package signal

import (
	"slices"
	"sync"
	"time"
)

// workers keeps the goroutines that finished a run for the next one. A new
// goroutine's stack starts small and grows by copying while a receiver and
// the JSON encoder run, which for an instant check costs more than the check
// itself; a reused goroutine has grown already.
var workers = &pool{}

// maxIdle bounds the goroutines kept waiting for work, and idleTimeout is how
// long one waits before it exits.
const (
	maxIdle     = 256
	idleTimeout = 30 * time.Second
)

type pool struct {
	mu   sync.Mutex
	idle []*worker // a stack: the most recently used worker is the warmest
}

type worker struct {
	task chan func() // holds at most the one task it was handed
}

// go runs f on an idle worker, or on a new goroutine when none is idle.
func (p *pool) run(f func()) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		w := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		w.task <- f
		return
	}
	p.mu.Unlock()
	go p.loop(&worker{task: make(chan func(), 1)}, f)
}

func (p *pool) loop(w *worker, f func()) {
	timer := time.NewTimer(idleTimeout)
	defer timer.Stop()
	for {
		f()
		p.mu.Lock()
		if len(p.idle) >= maxIdle {
			p.mu.Unlock()
			return
		}
		p.idle = append(p.idle, w)
		p.mu.Unlock()

		timer.Reset(idleTimeout)
		select {
		case f = <-w.task:
			continue
		case <-timer.C:
		}
		p.mu.Lock()
		if i := slices.Index(p.idle, w); i >= 0 {
			p.idle = slices.Delete(p.idle, i, i+1)
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
		// A task was handed over just as the timer fired.
		f = <-w.task
	}
}
