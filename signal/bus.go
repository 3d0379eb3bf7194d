package signal

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
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

// topic is one signal: its receivers and the names their checks go by.
type topic struct {
	mu     sync.Mutex // serialises changes of the roster
	roster atomic.Pointer[roster]
}

// roster is a topic's subscriptions in order and the unique names of their
// checks. Subscribing, unsubscribing and a reply that renames a receiver
// replace it, never change it: a publish reads it without a lock or a copy.
type roster struct {
	subs  []*subscription
	names []string
}

// handle is the signal's EventBus handler: it hands a publish the topic.
func (t *topic) handle(out **topic) { *out = t }

// change replaces the roster with one of the subscriptions edit returns,
// given a copy of the current ones, named as they are now.
func (t *topic) change(edit func(subs []*subscription) []*subscription) {
	t.mu.Lock()
	defer t.mu.Unlock()
	subs := edit(slices.Clone(t.roster.Load().subs))
	t.roster.Store(&roster{subs: subs, names: uniqueNames(subs)})
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

	b.mu.Lock()
	t := b.topics[name]
	if t == nil {
		t = &topic{}
		t.roster.Store(&roster{})
		b.topics[name] = t
		// The only error is for a handler that is not a function.
		_ = b.events.Subscribe(name, t.handle)
	}
	b.mu.Unlock()

	s := newSubscription(b, t, name, r, opts)
	t.change(func(subs []*subscription) []*subscription { return append(subs, s) })
	return sync.OnceFunc(func() {
		t.change(func(subs []*subscription) []*subscription {
			return slices.DeleteFunc(subs, func(x *subscription) bool { return x == s })
		})
	})
}

// roster asks EventBus for the signal's topic, and returns it and its roster.
func (b *Bus) roster(name string) (*topic, *roster) {
	var t *topic
	if b.events.Publish(name, &t); t == nil {
		return nil, &roster{}
	}
	return t, t.roster.Load()
}

// Observe calls fn once for every run of every receiver of every signal:
// when the run ends or, if a publish gives up on it at its deadline first,
// then, with a Fault wrapping ErrTimeout (and not again when it ends). Reused
// replies are not runs. fn is called on the run's or the publish's goroutine:
// it must be quick and safe for concurrent use. stop stops the calls.
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
	r.Reply.Name = *s.shown.Load() // if it has since been unsubscribed
	ro := s.topic.roster.Load()
	if i := slices.Index(ro.subs, s); i >= 0 {
		r.Reply.Name = ro.names[i]
	}
	for _, fn := range obs {
		(*fn)(s.signal, r)
	}
}

// Names returns the names of the signal's checks in subscription order, as
// they are reported and as Select sees them. It runs no receiver.
func (b *Bus) Names(name string) []string {
	_, r := b.roster(name)
	return slices.Clone(r.names)
}

// uniqueNames returns the subscriptions' current names made unique, so that
// no check hides another in the JSON object and each can be addressed.
func uniqueNames(subs []*subscription) []string {
	names := make([]string, len(subs))
	for i, s := range subs {
		names[i] = *s.shown.Load()
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
	t, r := b.roster(name)
	subs, names := r.subs, r.names
	var keep func(name string) bool
	for _, o := range opts {
		keep = o.keep
	}
	if keep != nil { // select by the names the checks go by before this publish
		subs, names = nil, nil
		for i, s := range r.subs {
			if keep(r.names[i]) {
				subs, names = append(subs, s), append(names, r.names[i])
			}
		}
	}
	// Start or join every run, then wait for those not reused.
	start := time.Now()
	results := make([]Result, len(subs))
	var calls []*call // the runs to wait for, by index
	for i, s := range subs {
		c, reused := s.start(ctx, start)
		if reused {
			results[i] = c.Val.result(c, true, c.Ended.Sub(c.Started))
			continue
		}
		if calls == nil {
			calls = make([]*call, len(subs))
		}
		calls[i] = c
	}
	for i, c := range calls {
		if c != nil {
			results[i] = subs[i].wait(ctx, start, c)
		}
	}
	if keep == nil && t != nil && t.roster.Load() != r {
		// A first reply renamed a receiver known by its derived name, or the
		// receivers changed while they ran: name this publish's checks anew.
		names = uniqueNames(subs)
	}
	for i := range results {
		results[i].Reply.Name = names[i]
	}
	return results
}
