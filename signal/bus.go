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
	// known is a copy of topics' keys, replaced whole when a signal gets its
	// first receiver, so that publishing a signal nobody subscribed to costs
	// a map lookup instead of a trip through EventBus that would find no
	// handler.
	known atomic.Pointer[map[string]bool]
}

// topic is the receiver list of one signal name, replaced whole on every
// change so that publishes read it without a lock.
type topic struct {
	subs atomic.Pointer[[]*subscription]
	memo atomic.Pointer[memo]
}

// dispatch carries a publish through EventBus, whose handlers cannot return
// values.
type dispatch struct {
	topic *topic
	subs  *[]*subscription
}

func (t *topic) handle(d *dispatch) {
	d.topic = t
	d.subs = t.subs.Load()
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
		known := make(map[string]bool, len(b.topics))
		for n := range b.topics {
			known[n] = true
		}
		b.known.Store(&known)
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
	if _, list := b.lookup(name); list != nil {
		return *list
	}
	return nil
}

// lookup publishes name on the EventBus, whose one handler for it reports
// the signal's topic and receiver list.
func (b *Bus) lookup(name string) (*topic, *[]*subscription) {
	if known := b.known.Load(); known == nil || !(*known)[name] {
		return nil, nil
	}
	d := dispatch{}
	b.events.Publish(name, &d)
	return d.topic, d.subs
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
// probes layer needs to answer without encoding a reused reply again. When
// every reply is reused and nothing changed since the last Collect of the
// signal, it returns the same slice as that Collect did: treat it as
// read-only.
func (b *Bus) Collect(ctx context.Context, name string, opts ...PublishOption) []Result {
	t, list := b.lookup(name)
	if list == nil {
		return nil
	}
	subs := *list
	var keep func(string) bool
	if len(opts) > 0 {
		var pc publishConfig
		for _, o := range opts {
			o(&pc)
		}
		keep = pc.keep
	}
	now := time.Now()
	if keep == nil {
		if m := t.memo.Load(); m != nil && m.fresh(list, now) {
			return m.results
		}
	}

	var tentative []bool // receivers run only to learn their name
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
	var outs []*outcome
	if keep == nil {
		outs = make([]*outcome, len(subs))
	}
	var (
		waits  = make([]wait, 0, len(subs))
		starts = make([]*run, 0, len(subs))
		rcArr  [2]*runContext // usually one timeout for all
		rcs    = rcArr[:0]
	)
	for i, s := range subs {
		o, r := s.begin(now, ctx, &rcs, &starts)
		if o != nil {
			results[i] = o.result(true)
			if outs != nil {
				outs[i] = o
			}
			continue
		}
		waits = append(waits, wait{i: i, s: s, r: r, deadline: now.Add(s.timeout)})
	}
	batch := start(starts)
	for _, rc := range rcs {
		rc.release()
	}
	if len(waits) > 0 {
		collect(ctx, now, waits, results, batch)
		outs = nil
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
	if outs != nil {
		t.memo.Store(&memo{list: list, outs: outs, results: results})
	}
	return results
}

// instant is how quickly a receiver must have replied last time to be run in
// a batch with the publish's other instant receivers, one after another on
// one goroutine, instead of on a goroutine of its own: a handoff between
// goroutines costs more than such a receiver. patience is how long a
// publish lets a batch run before it starts the batch's remaining receivers
// on goroutines of their own, in case one of them stopped being instant.
const (
	instant  = 50 * time.Microsecond
	patience = time.Millisecond
)

// start starts the runs a publish created. Runs of receivers that were
// instant last time go in one batch; the others, and a batch of one, each
// get a goroutine. It returns the batch, which collect escalates if it
// takes too long.
func start(runs []*run) []*run {
	if len(runs) == 0 {
		return nil
	}
	batch := make([]*run, 0, len(runs))
	for _, r := range runs {
		if r.s.instant.Load() {
			batch = append(batch, r)
			continue
		}
		r.claimed.Store(true)
		workers.run(func() { r.s.execute(r.rc, r) })
	}
	switch len(batch) {
	case 0:
		return nil
	case 1:
		r := batch[0]
		r.claimed.Store(true)
		workers.run(func() { r.s.execute(r.rc, r) })
		return nil
	}
	workers.run(func() {
		for _, r := range batch {
			if r.claimed.CompareAndSwap(false, true) {
				r.s.execute(r.rc, r)
			}
		}
	})
	return batch
}

// memo is the last Collect of a signal whose replies were all reused, kept
// so that the next one, while those replies stay fresh, costs a comparison
// per receiver instead of building and renaming the results again.
type memo struct {
	list    *[]*subscription
	outs    []*outcome
	results []Result
}

func (m *memo) fresh(list *[]*subscription, now time.Time) bool {
	if m.list != list {
		return false
	}
	for i, s := range *list {
		o := s.last.Load()
		if o != m.outs[i] || !now.Before(o.expires) {
			return false
		}
	}
	return true
}

type wait struct {
	i        int
	s        *subscription
	r        *run
	deadline time.Time
	done     bool
}

// collect waits for the runs a publish depends on, each until its own
// deadline, and fills in their results. The runs go on concurrently and the
// last to finish wakes the publish, so the publish takes as long as its
// slowest receiver, bounded by the largest deadline.
func collect(ctx context.Context, start time.Time, waits []wait, results []Result, batch []*run) {
	w := newWaiter()
	for i := range waits {
		if o := waits[i].r.join(w); o != nil {
			results[waits[i].i] = o.result(false)
			waits[i].done = true
		}
	}
	w.release()

	var timer *time.Timer
	escalate := time.Time{}
	if batch != nil {
		escalate = start.Add(patience)
	}
	for {
		// The earliest deadline among the runs still awaited.
		var next time.Time
		for i := range waits {
			if !waits[i].done && (next.IsZero() || waits[i].deadline.Before(next)) {
				next = waits[i].deadline
			}
		}
		if next.IsZero() {
			return
		}
		if !escalate.IsZero() {
			if !time.Now().Before(escalate) {
				// The batch is stuck behind a receiver that stopped being
				// instant: start the rest of it on workers of their own.
				for _, r := range batch {
					if r.claimed.CompareAndSwap(false, true) {
						workers.run(func() { r.s.execute(r.rc, r) })
					}
				}
				escalate = time.Time{}
				continue
			}
			if escalate.Before(next) {
				next = escalate
			}
		}
		expired := false
		if d := time.Until(next); d > 0 {
			if timer == nil {
				timer = time.NewTimer(d)
				defer timer.Stop()
			} else {
				timer.Reset(d)
			}
			select {
			case <-w.done:
			case <-timer.C:
				expired = true
			case <-ctx.Done():
				expired = true
			}
		} else {
			expired = true
		}
		if expired && !escalate.IsZero() && ctx.Err() == nil && time.Now().Before(next) {
			continue // woken early; the loop re-plans
		}
		now := time.Now()
		for i := range waits {
			x := &waits[i]
			if x.done {
				continue
			}
			if o := x.r.outcome(); o != nil {
				results[x.i] = o.result(false)
				x.done = true
			} else if expired && (ctx.Err() != nil || !now.Before(x.deadline)) {
				x.r.leave(w)
				results[x.i] = x.s.overdue(ctx, start, x.r)
				x.done = true
			}
		}
	}
}
