package signal

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/asaskevich/EventBus"

	"github.com/oarepo/heartbeat/internal/wire"
)

// Bus publishes named signals to the receivers subscribed to them. Create
// one with NewBus; a Bus is safe for concurrent use.
type Bus struct {
	events   EventBus.Bus
	defaults settings

	mu        sync.Mutex // guards topics and observers
	topics    map[string]*topic
	observers []*func(signal string, r Result)
}

// topic is the receiver list of one signal name.
type topic struct {
	mu   sync.Mutex
	subs []*subscription
}

// list is a publish's argument, filled in by the signal's EventBus handler.
type list struct{ subs []*subscription }

func (t *topic) handle(l *list) {
	t.mu.Lock()
	defer t.mu.Unlock()
	l.subs = slices.Clone(t.subs)
}

// NewBus returns a Bus with no receivers. Its options are the defaults of
// every subscription.
func NewBus(opts ...Option) *Bus {
	b := &Bus{
		events:   EventBus.New(),
		defaults: settings{timeout: DefaultTimeout, ttl: DefaultCacheTTL},
		topics:   make(map[string]*topic),
	}
	for _, o := range opts {
		o(&b.defaults)
	}
	b.defaults.name = ""
	return b
}

// Subscribe subscribes r to the signal called name and returns the function
// that unsubscribes it. Unsubscribing removes exactly this subscription, even
// when other subscriptions use the same function, and calling it again does
// nothing.
//
// Subscribe panics, as http.Handle does, on a programming error: a nil r, or
// a name meant for a probe that is not its signal ("readiness").
func (b *Bus) Subscribe(name string, r Receiver, opts ...Option) (unsubscribe func()) {
	if r == nil {
		panic(fmt.Sprintf("signal: Subscribe(%q) with a nil Receiver", name))
	}
	checkName(name)
	s := newSubscription(b, name, r, opts)

	b.mu.Lock()
	t := b.topics[name]
	if t == nil {
		t = &topic{}
		b.topics[name] = t
		// The only error is for a handler that is not a function.
		_ = b.events.Subscribe(name, t.handle)
	}
	b.mu.Unlock()

	t.mu.Lock()
	t.subs = append(t.subs, s)
	t.mu.Unlock()
	return sync.OnceFunc(func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		t.subs = slices.DeleteFunc(t.subs, func(x *subscription) bool { return x == s })
	})
}

// receivers asks EventBus for the signal's receivers, in subscription order.
func (b *Bus) receivers(name string) []*subscription {
	var l list
	b.events.Publish(name, &l)
	return l.subs
}

// Observe calls fn once for every run of every receiver of every signal:
// when the run ends, or, if a publish gives up on it at its deadline while it
// is still running, at that moment, with a Fault that wraps ErrTimeout (and
// not again when it ends). Replies reused from the cache are not runs. fn is
// called on the run's or the publish's goroutine, so it must be quick and
// safe for concurrent use. The returned function stops the calls.
func (b *Bus) Observe(fn func(signal string, r Result)) (stop func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.observers = append(b.observers, &fn)
	return sync.OnceFunc(func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.observers = slices.DeleteFunc(slices.Clone(b.observers), func(x *func(string, Result)) bool { return x == &fn })
	})
}

// notify tells the observers how a run of s came out.
func (b *Bus) notify(s *subscription, r Result) {
	b.mu.Lock()
	obs := b.observers
	b.mu.Unlock()
	if len(obs) == 0 {
		return
	}
	r.Reply.Name = s.currentName()
	subs := b.receivers(s.signal)
	if i := slices.Index(subs, s); i >= 0 {
		r.Reply.Name = uniqueNames(subs)[i]
	}
	for _, fn := range obs {
		(*fn)(s.signal, r)
	}
}

// Names returns the names of the receivers subscribed to the signal, in
// subscription order, as their checks are reported and as Select sees them.
// It runs no receiver.
func (b *Bus) Names(name string) []string {
	return uniqueNames(b.receivers(name))
}

// uniqueNames returns the subscriptions' current names made unique, so that
// no check hides another in the JSON object and each can be addressed.
func uniqueNames(subs []*subscription) []string {
	names := make([]string, len(subs))
	for i, s := range subs {
		names[i] = s.currentName()
	}
	return wire.Unique(names)
}

// Publish runs every receiver subscribed to the signal called name and
// returns their replies in subscription order, once each has replied or
// reached its deadline, or ctx is done. A receiver that did not reply in
// time, panicked or replied with data that cannot be encoded is reported as
// failed, with an "error" that says why. Every reply has a unique name.
func (b *Bus) Publish(ctx context.Context, name string, opts ...PublishOption) []Reply {
	results := b.Results(ctx, name, opts...)
	replies := make([]Reply, len(results))
	for i, r := range results {
		replies[i] = r.Reply
	}
	return replies
}

// Results is Publish with each reply's provenance: whether the bus replaced
// it and why, whether it was reused, when its run started and how long it
// took. Each Result encodes itself as its check object (MarshalJSON).
//
// A publish starts or joins a run of every receiver, then waits for each
// until that run's deadline. A publish that gives up (its ctx ended, or the
// deadline passed) leaves the run going; the next publish joins it.
func (b *Bus) Results(ctx context.Context, name string, opts ...PublishOption) []Result {
	var pc publishConfig
	for _, o := range opts {
		o(&pc)
	}
	subs := b.receivers(name)
	var names []string
	if pc.keep != nil { // select by the names the checks go by before this publish
		names = uniqueNames(subs)
		n := 0
		for i := range subs {
			if pc.keep(names[i]) {
				subs[n], names[n] = subs[i], names[i]
				n++
			}
		}
		subs, names = subs[:n], names[:n]
	}

	start := time.Now()
	calls := make([]*call, len(subs))
	reused := make([]bool, len(subs))
	for i, s := range subs {
		calls[i], reused[i] = s.start(ctx, start)
	}
	results := make([]Result, len(subs))
	for i, s := range subs {
		results[i] = s.wait(ctx, start, calls[i], reused[i])
	}
	if pc.keep == nil {
		names = uniqueNames(subs) // a first reply may rename a receiver known by its derived name
	}
	for i := range results {
		results[i].Reply.Name = names[i]
	}
	return results
}
