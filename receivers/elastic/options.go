package elastic

// Option configures the receiver New returns.
type Option func(*config)

type config struct {
	flavor        Flavor
	name          string
	index         string
	yellowReady   bool
	waitForStatus string
	secrets       []string
}

func defaults() config {
	return config{name: "elasticsearch", yellowReady: true}
}

// Flavor is the kind of server behind the transport.
type Flavor int32

// The flavours. The zero Flavor is Detect.
const (
	// Detect learns the flavour from the answers the check gets anyway, at
	// no extra request: X-Elastic-Product on Elasticsearch's answers,
	// discovered_cluster_manager in the health body of OpenSearch 2 and
	// later. OpenSearch 1.x, whose body has discovered_master alone, is
	// learned as Elasticsearch, the dialect it speaks. Until an answer
	// tells, the check sends no cluster-manager timeout, so a cluster
	// without an elected master makes those first probes time out instead
	// of answering 503.
	Detect Flavor = iota
	// Elasticsearch sends master_timeout: for Elasticsearch, and for
	// OpenSearch 1.x, which knows no other name.
	Elasticsearch
	// OpenSearch sends cluster_manager_timeout, the name OpenSearch 2 and
	// later use; master_timeout would add a deprecation warning to every
	// probe's answer and a line to the cluster's deprecation log.
	OpenSearch
)

// String returns the flavour's name.
func (f Flavor) String() string {
	switch f {
	case Elasticsearch:
		return "elasticsearch"
	case OpenSearch:
		return "opensearch"
	}
	return "detect"
}

// WithFlavor says which server the transport talks to, so the first probe
// already speaks its dialect. The default is Detect. Name it when you know
// it: a client from opensearch-go means OpenSearch, one from
// go-elasticsearch means Elasticsearch (it refuses anything else). An
// OpenSearch 1.x cluster wants Elasticsearch, as it only knows
// master_timeout.
func WithFlavor(f Flavor) Option {
	return func(c *config) { c.flavor = f }
}

// WithName sets the check's name in the probe response. The default is
// "elasticsearch", the name the Python library used, also for OpenSearch:
// call WithName("opensearch") if you prefer.
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
// receiver cannot see. The password, API key, token or signature the
// transport puts on a request is masked in that request's errors without
// being named here, and forgotten afterwards; the default is nothing more.
func WithSecrets(secrets ...string) Option {
	return func(c *config) { c.secrets = append(c.secrets, secrets...) }
}
