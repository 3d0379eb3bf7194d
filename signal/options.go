package signal

import "time"

// DefaultTimeout is how long a publish waits for one receiver unless
// WithTimeout or ReceiverTimeout says otherwise. It sits below the kubelet's
// default probe timeout of one second, so that a probe whose receiver hangs
// still answers in time, with an error that names the receiver, instead of
// being cut off by the kubelet with no explanation.
const DefaultTimeout = 800 * time.Millisecond

// DefaultCacheTTL is how long a finished receiver's reply is reused unless
// WithCacheTTL or ReceiverCacheTTL says otherwise. One second bounds the calls
// a receiver makes to its backend to about one a second per process, however
// many probes arrive (kubelet, load balancers, monitoring), while a reply is
// never older than a tenth of the kubelet's default ten-second probe period.
const DefaultCacheTTL = time.Second

// Option configures a Bus.
type Option func(*config)

type config struct {
	timeout time.Duration
	ttl     time.Duration
}

// WithTimeout sets how long a publish waits for each receiver; the default is
// DefaultTimeout (800ms). A receiver still running at its deadline is reported
// as failed with an error that says it timed out. A zero or negative d keeps
// the default.
func WithTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.timeout = d
		}
	}
}

// WithCacheTTL sets how long a finished receiver's reply is reused by later
// publishes; the default is DefaultCacheTTL (1s). Zero turns reuse off: every
// publish then starts a fresh run, except that publishes arriving while a run
// is under way still share it, so a receiver never runs twice at once.
// A negative d keeps the default.
func WithCacheTTL(d time.Duration) Option {
	return func(c *config) {
		if d >= 0 {
			c.ttl = d
		}
	}
}

// SubscribeOption configures one subscription.
type SubscribeOption func(*subscription)

// Named gives the receiver a name. It is the name the receiver's check is
// reported under, whatever name its replies carry, and the name that selects
// or excludes it; without it the name comes from the receiver's replies, and
// before its first reply from the receiver function's own name.
func Named(name string) SubscribeOption {
	return func(s *subscription) { s.name = name }
}

// ReceiverTimeout overrides the bus's timeout (WithTimeout) for this receiver.
// A zero or negative d keeps the bus's timeout.
func ReceiverTimeout(d time.Duration) SubscribeOption {
	return func(s *subscription) {
		if d > 0 {
			s.timeout = d
		}
	}
}

// ReceiverCacheTTL overrides the bus's reuse period (WithCacheTTL) for this
// receiver; zero turns reuse off for it. A negative d keeps the bus's period.
func ReceiverCacheTTL(d time.Duration) SubscribeOption {
	return func(s *subscription) {
		if d >= 0 {
			s.ttl = d
		}
	}
}

// PublishOption narrows one publish.
type PublishOption func(*publishConfig)

type publishConfig struct {
	keep func(name string) bool
}

// Select keeps only the receivers whose name keep accepts. The name is the
// one Names reports: the Named option if given, else the name of the
// receiver's latest reply. A receiver that has neither is run, and kept if
// its reply's name is accepted, so that selecting "postgres" finds the
// receiver that replies as "postgres" from the very first publish.
func Select(keep func(name string) bool) PublishOption {
	return func(c *publishConfig) { c.keep = keep }
}
