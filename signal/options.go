package signal

import "time"

// DefaultTimeout is how long a publish waits for one receiver unless
// WithTimeout says otherwise: below the kubelet's default probe timeout of
// 1s, so that a probe whose receiver hangs still answers in time, naming it.
const DefaultTimeout = 800 * time.Millisecond

// DefaultCacheTTL is how long a finished receiver's reply is reused unless
// WithCacheTTL says otherwise: a receiver calls its backend about once a
// second however many probes arrive, and a reply is never older than a tenth
// of the kubelet's default probe period of 10s.
const DefaultCacheTTL = time.Second

// Option configures a Bus (NewBus), where it sets the default of every
// subscription, or one subscription (Subscribe), where it overrides the
// bus's default for that receiver.
type Option func(*settings)

type settings struct {
	name       string
	timeout    time.Duration
	ttl        time.Duration
	middleware []Middleware
}

// WithTimeout sets how long a publish waits for a receiver; the default is
// DefaultTimeout (800ms). A receiver still running at its deadline is
// reported as failed with an error that says it timed out; its context ends
// a little earlier (a tenth of d, at most 50ms), so that a receiver which
// honours it can report its own cause first. A zero or negative d keeps the
// default.
func WithTimeout(d time.Duration) Option {
	return func(s *settings) {
		if d > 0 {
			s.timeout = d
		}
	}
}

// WithCacheTTL sets how long a finished receiver's reply is reused by later
// publishes; the default is DefaultCacheTTL (1s). Zero turns reuse off: every
// publish then starts a fresh run, except that publishes arriving while a run
// is under way still share it, so a receiver never runs twice at once.
// A negative d keeps the default.
func WithCacheTTL(d time.Duration) Option {
	return func(s *settings) {
		if d >= 0 {
			s.ttl = d
		}
	}
}

// WithMiddleware wraps receivers in mw, the first outermost. Given to NewBus
// it wraps every receiver; given to Subscribe it wraps that one, inside the
// bus's. Default: none.
func WithMiddleware(mw ...Middleware) Option {
	return func(s *settings) { s.middleware = append(s.middleware, mw...) }
}

// Named gives a receiver its name: the name its check is reported under,
// whatever name its replies carry, and the name that selects or excludes it.
// Without it the name comes from the receiver's latest reply, and before its
// first reply from the receiver function's own name. NewBus ignores it.
func Named(name string) Option {
	return func(s *settings) { s.name = name }
}

// PublishOption narrows one publish.
type PublishOption struct{ keep func(name string) bool }

// Select keeps only the receivers whose name keep accepts: the names Names
// reports. Selecting never runs a receiver to learn its name.
func Select(keep func(name string) bool) PublishOption { return PublishOption{keep} }
