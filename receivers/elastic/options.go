package elastic

// Option configures the receiver New returns.
type Option func(*config)

type config struct {
	name          string
	index         string
	yellowReady   bool
	waitForStatus string
	secrets       []string
}

func defaults() config {
	return config{name: "elasticsearch", yellowReady: true}
}

// WithName sets the check's name in the probe response. The default is
// "elasticsearch", the name the Python library used.
func WithName(name string) Option {
	return func(c *config) { c.name = name }
}

// WithIndex narrows the check to one index, a comma-separated list or a
// pattern ("records-*"): the receiver asks for /_cluster/health/<index>, so
// the colour is that of those indices only, and a missing index makes the
// check fail. The default is the whole cluster.
func WithIndex(index string) Option {
	return func(c *config) { c.index = index }
}

// WithYellowReady says whether a yellow cluster counts as ready. The
// default is true: yellow means every primary shard is assigned, so every
// search and write succeeds; only redundancy is missing, which is the normal
// state of a one-node cluster and of a cluster recovering a lost node. A
// service cannot fix missing replicas by being taken out of traffic.
func WithYellowReady(ready bool) Option {
	return func(c *config) { c.yellowReady = ready }
}

// WithWaitForStatus makes Elasticsearch wait, up to three quarters of the
// probe's remaining time, for the cluster to reach status ("green" or
// "yellow") before answering; if it does not, the node answers 408 and the
// check fails. Use it for a startup probe that should hold a pod back until
// its indices have recovered. The default is not to wait: the node answers
// at once with the colour it has.
func WithWaitForStatus(status string) Option {
	return func(c *config) { c.waitForStatus = status }
}

// WithSecrets adds strings to mask in error messages, for credentials the
// receiver cannot see. It learns the password, API key or token the
// transport puts on each request by itself; the default is nothing more.
func WithSecrets(secrets ...string) Option {
	return func(c *config) { c.secrets = append(c.secrets, secrets...) }
}
