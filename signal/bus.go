package signal

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asaskevich/EventBus"
)

// Bus publishes named signals to the receivers subscribed to them.
//
// Each signal name has one handler on the underlying EventBus; that handler
// only takes a snapshot of the signal's receivers, so EventBus's bus-wide
// lock is held for a few hundred nanoseconds per publish and never while a
// receiver runs. The receivers then run outside the lock, concurrently, each
// in a run of its own that concurrent publishes share.
//
// The zero Bus is not usable; create one with NewBus. A Bus is safe for
// concurrent use.
type Bus struct {
	events EventBus.Bus
	cfg    config

	mu     sync.Mutex // serialises changes to topics and their receiver lists
	topics map[string]*topic
}

// topic is the receiver list of one signal name, replaced whole on every
// change so that publishes read it without a lock.
type topic struct {
	subs atomic.Pointer[[]*subscription]
}

// dispatch carries a publish through EventBus, whose handlers cannot return
// values.
type dispatch struct {
	subs []*subscription
}

func (t *topic) handle(d *dispatch) {
	if p := t.subs.Load(); p != nil {
		d.subs = *p
	}
}

// NewBus returns a Bus with no receivers.
func NewBus(opts ...Option) *Bus {
	b := &Bus{
		events: EventBus.New(),
		cfg:    config{timeout: DefaultTimeout, ttl: DefaultCacheTTL},
		topics: make(map[string]*topic),
	}
	for _, o := range opts {
		o(&b.cfg)
	}
	return b
}

// Subscribe subscribes r to the signal called name and returns the function
// that unsubscribes it. Unsubscribing removes exactly this subscription, even
// when other subscriptions use the same function, and calling it again does
// nothing. Subscribe panics if r is nil, as http.Handle does for a nil
// handler: that is a programming error, not a runtime condition.
func (b *Bus) Subscribe(name string, r Receiver, opts ...SubscribeOption) (unsubscribe func()) {
	if r == nil {
		panic(fmt.Sprintf("signal: Subscribe(%q) with a nil Receiver", name))
	}
	s := &subscription{
		fn:      r,
		timeout: b.cfg.timeout,
		ttl:     b.cfg.ttl,
		derived: funcName(r),
	}
	for _, o := range opts {
		o(s)
	}

	b.mu.Lock()
	defer b.mu.Unlock()
	t := b.topics[name]
	if t == nil {
		t = &topic{}
		b.topics[name] = t
		// The handler's only error is for a non-function argument.
		_ = b.events.Subscribe(name, t.handle)
	}
	var subs []*subscription
	if p := t.subs.Load(); p != nil {
		subs = *p
	}
	next := make([]*subscription, len(subs), len(subs)+1)
	copy(next, subs)
	next = append(next, s)
	t.subs.Store(&next)

	return sync.OnceFunc(func() { b.remove(t, s) })
}

func (b *Bus) remove(t *topic, s *subscription) {
	b.mu.Lock()
	defer b.mu.Unlock()
	subs := *t.subs.Load()
	next := make([]*subscription, 0, len(subs))
	for _, x := range subs {
		if x != s {
			next = append(next, x)
		}
	}
	t.subs.Store(&next)
}

// Names returns the names of the receivers subscribed to the signal, in
// subscription order, as Select sees them.
func (b *Bus) Names(name string) []string {
	subs := b.snapshot(name)
	names := make([]string, len(subs))
	for i, s := range subs {
		names[i] = s.displayName()
	}
	return names
}

func (b *Bus) snapshot(name string) []*subscription {
	d := dispatch{}
	b.events.Publish(name, &d)
	return d.subs
}

// Publish runs every receiver subscribed to the signal called name and
// returns their replies in subscription order. It returns when every receiver
// has replied or reached its deadline, or when ctx is done, whichever comes
// first; a receiver that did not reply in time, panicked or returned data that
// cannot be encoded as JSON is reported as a failed reply with an "error"
// that says so. Every reply has a non-empty name, unique within the result.
func (b *Bus) Publish(ctx context.Context, name string, opts ...PublishOption) []Reply {
	results := b.Collect(ctx, name, opts...)
	replies := make([]Reply, len(results))
	for i := range results {
		replies[i] = results[i].Reply
	}
	return replies
}

// Collect is Publish with each reply's JSON encoding and provenance: what the
// probes layer needs to answer without encoding a reused reply again.
func (b *Bus) Collect(ctx context.Context, name string, opts ...PublishOption) []Result {
	subs := b.snapshot(name)
	var keep func(string) bool
	var tentative []bool // receivers run only to learn their name
	if len(opts) > 0 {
		var pc publishConfig
		for _, o := range opts {
			o(&pc)
		}
		keep = pc.keep
	}
	if keep != nil {
		kept := make([]*subscription, 0, len(subs))
		for _, s := range subs {
			if s.name == "" && s.replied.Load() == nil {
				kept = append(kept, s)
				tentative = append(tentative, true)
			} else if keep(s.displayName()) {
				kept = append(kept, s)
				tentative = append(tentative, false)
			}
		}
		subs = kept
	}
	if len(subs) == 0 {
		return nil
	}
	results := make([]Result, len(subs))
	now := time.Now()
	var waits []wait
	for i, s := range subs {
		o, r := s.begin(ctx, now)
		if o != nil {
			results[i] = o.result(true)
			continue
		}
		waits = append(waits, wait{i: i, s: s, r: r, deadline: now.Add(s.timeout)})
	}
	if len(waits) > 0 {
		collect(ctx, now, waits, results)
	}
	if tentative != nil {
		kept := results[:0]
		for i, r := range results {
			if !tentative[i] || keep(r.Reply.Name) {
				kept = append(kept, r)
			}
		}
		results = kept
	}
	uniqueNames(results)
	return results
}

type wait struct {
	i        int
	s        *subscription
	r        *run
	deadline time.Time
}

// collect waits for the runs a publish depends on, each until its own
// deadline, and fills in their results. The runs go on concurrently, so the
// waits overlap: the publish takes as long as its slowest receiver, bounded by
// the largest deadline.
func collect(ctx context.Context, start time.Time, waits []wait, results []Result) {
	var timer *time.Timer
	for _, w := range waits {
		select {
		case <-w.r.done:
			results[w.i] = w.r.out.result(false)
			continue
		default:
		}
		d := time.Until(w.deadline)
		if d > 0 {
			if timer == nil {
				timer = time.NewTimer(d)
				defer timer.Stop()
			} else {
				timer.Reset(d)
			}
			select {
			case <-w.r.done:
				results[w.i] = w.r.out.result(false)
				continue
			case <-timer.C:
			case <-ctx.Done():
			}
		}
		// Re-check: the run may have finished just as the wait ended.
		select {
		case <-w.r.done:
			results[w.i] = w.r.out.result(false)
		default:
			results[w.i] = w.s.overdue(ctx, start, w.r)
		}
	}
}
