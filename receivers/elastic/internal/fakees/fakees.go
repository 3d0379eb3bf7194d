// Package fakees is an in-process Elasticsearch and OpenSearch stand-in for
// the elastic receiver's tests. Neither server can run where these tests run,
// so the fake reproduces, byte for byte where it matters, what a real node
// answers on the few endpoints a health check touches.
//
// As Elasticsearch 8 (New): the product and content-type headers (absent on
// 401, as on a real node), HTTP 200 for green, yellow and red alike, the
// security_exception and master_not_discovered_exception bodies, 408 for an
// unmet wait_for_status, and 400 for a query parameter it does not know,
// such as OpenSearch's cluster_manager_timeout.
//
// As OpenSearch 2 (NewOpenSearch), after opensearch-api-specification and
// the OpenSearch sources: no X-Elastic-Product header,
// version.distribution "opensearch" on GET /, discovered_master and
// discovered_cluster_manager in the health body, a 299 Warning header for
// the deprecated master_timeout (and a 400 when both timeouts are sent),
// cluster_manager_not_discovered_exception, and the security plugin's
// plain-text 401 and its "no permissions for" 403.
//
// As OpenSearch 1.x (NewOpenSearch1): the same headers and security plugin,
// but discovered_master alone in the health body, the 1.x names
// master_timeout (accepted without a warning) and
// master_not_discovered_exception, and a 400 for cluster_manager_timeout,
// which 1.x does not know, as Elasticsearch does.
//
// Both share the faults a health check must survive: a hang, a dropped
// connection and a server that is not Elasticsearch at all.
package fakees

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Fault is a way the server misbehaves on GET /_cluster/health.
type Fault string

// The faults the server can inject. The zero Fault answers normally.
const (
	// Healthy answers the cluster health of Server.Status.
	Healthy Fault = ""
	// NoMaster answers 503 master_not_discovered_exception, as a node does
	// once master_timeout has passed without an elected master. The fake
	// answers at once instead of waiting, so tests stay fast.
	NoMaster Fault = "no-master"
	// Forbidden answers 403 security_exception: the user authenticated but
	// lacks the monitor cluster privilege.
	Forbidden Fault = "forbidden"
	// NotElasticsearch answers a healthy 200 without X-Elastic-Product, as
	// a header-stripping proxy in front of Elasticsearch does.
	NotElasticsearch Fault = "not-elasticsearch"
	// Hang never answers; it returns only when the client gives up (the
	// request context ends) or the server closes, so it cannot hang a test.
	Hang Fault = "hang"
	// CloseConn hijacks the connection and closes it without a byte, which
	// the client sees as EOF.
	CloseConn Fault = "close-conn"
	// Undiscovered answers 200 with discovered_master (and, on OpenSearch
	// 2, discovered_cluster_manager) false, as a node answers from its own
	// state when it knows no elected cluster manager. A real node then
	// also reports red, for the no-manager block; the fake keeps Status, so
	// a test can show that the flag alone fails the check. Elasticsearch
	// has no such field: there it answers as Healthy.
	Undiscovered Fault = "undiscovered"
)

// Default identity of the fake cluster.
const (
	ClusterName = "testcluster"
	// User is the user basic authentication accepts on Elasticsearch.
	User = "elastic"
	// OpenSearchUser is the user basic authentication accepts on
	// OpenSearch, the security plugin's default administrator.
	OpenSearchUser = "admin"
	// OpenSearchVersion is the version an OpenSearch node reports.
	OpenSearchVersion = "2.19.1"
	// OpenSearch1Version is the version an OpenSearch 1.x node reports.
	OpenSearch1Version = "1.3.20"
)

// MasterTimeoutDeprecation is the warning OpenSearch 2 logs and sends in a
// Warning header for every request that uses master_timeout.
const MasterTimeoutDeprecation = "Deprecated parameter [master_timeout] used. To promote inclusive language, " +
	"please use [cluster_manager_timeout] instead. It will be unsupported in a future major version."

// openSearchBuildHash is the build hash of OpenSearchVersion, which the
// node puts into GET / and into its Warning headers.
const openSearchBuildHash = "fd9a9d90df25bea1af2c6a85039692e815b894f5"

// Server is a running fake node. Set its fields before the first request;
// read Hits and Requests at any time.
type Server struct {
	*httptest.Server

	// Status is the cluster colour reported: green, yellow, red, or any
	// other string (real nodes may say unknown or unavailable).
	Status string
	// Password enables basic authentication for user "elastic"; empty turns
	// security off, as on a node with xpack.security.enabled=false.
	Password string
	// Fault is the misbehaviour of GET /_cluster/health.
	Fault Fault
	// UpperCase makes an OpenSearch node spell the colour in capitals
	// (GREEN), which its specification allows.
	UpperCase bool

	openSearch   bool
	legacy       bool // OpenSearch 1.x
	hits         atomic.Int64
	deprecations atomic.Int64
	mu           sync.Mutex
	requests     []string
	closing      chan struct{}
	once         sync.Once
}

// New starts a fake node reporting status, with security enabled when
// password is not empty. Close it when done (t.Cleanup(s.Close)).
func New(status, password string) *Server {
	s := &Server{Status: status, Password: password, closing: make(chan struct{})}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// NewOpenSearch starts a fake OpenSearch 2 node reporting status, with the
// security plugin's basic authentication for OpenSearchUser when password is
// not empty. Close it when done.
func NewOpenSearch(status, password string) *Server {
	s := &Server{Status: status, Password: password, openSearch: true, closing: make(chan struct{})}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// NewOpenSearch1 starts a fake OpenSearch 1.x node reporting status, with
// the security plugin as in NewOpenSearch. Close it when done.
func NewOpenSearch1(status, password string) *Server {
	s := &Server{Status: status, Password: password, openSearch: true, legacy: true, closing: make(chan struct{})}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// clusterManager reports whether the node speaks OpenSearch 2's
// cluster-manager names.
func (s *Server) clusterManager() bool { return s.openSearch && !s.legacy }

// Deprecations returns how many requests used a deprecated parameter: on
// OpenSearch, each is a line in the node's deprecation log.
func (s *Server) Deprecations() int { return int(s.deprecations.Load()) }

// Close releases any hanging handler, then stops the server.
func (s *Server) Close() {
	s.once.Do(func() { close(s.closing) })
	s.Server.Close()
}

// Hits returns how many requests reached /_cluster/health, including those
// rejected for authentication: a retrying client shows up here.
func (s *Server) Hits() int { return int(s.hits.Load()) }

// Requests returns the path and query of every /_cluster/health request,
// oldest first.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	isHealth := r.URL.Path == "/_cluster/health" || strings.HasPrefix(r.URL.Path, "/_cluster/health/")
	if isHealth {
		s.hits.Add(1)
		s.mu.Lock()
		s.requests = append(s.requests, r.URL.RequestURI())
		s.mu.Unlock()
	}
	if !s.authenticate(w, r) {
		return
	}
	if isHealth && !s.parameters(w, r) {
		return
	}
	switch {
	case r.URL.Path == "/" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		s.info(w, r)
	case isHealth && r.Method == http.MethodGet:
		s.health(w, r)
	default:
		s.writeJSON(w, http.StatusMethodNotAllowed, errorBody(http.StatusMethodNotAllowed, "illegal_argument_exception",
			fmt.Sprintf("Incorrect HTTP method for uri [%s] and method [%s]", r.URL.RequestURI(), r.Method)))
	}
}

// authenticate answers 401 exactly as a secured node does and reports
// whether the request may go on. The reason names the user, never the
// password, and the 401 carries no product header.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) bool {
	if s.Password == "" {
		return true
	}
	user, pass, ok := r.BasicAuth()
	if s.openSearch {
		if ok && user == OpenSearchUser && pass == s.Password {
			return true
		}
		// The security plugin's basic authenticator challenges with its
		// own realm and a plain-text body, whatever was wrong.
		w.Header().Set("WWW-Authenticate", `Basic realm="OpenSearch Security"`)
		w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, "Unauthorized")
		return false
	}
	if ok && user == User && pass == s.Password {
		return true
	}
	reason := "missing authentication credentials for REST request [" + r.URL.RequestURI() + "]"
	if ok {
		reason = "unable to authenticate user [" + user + "] for REST request [" + r.URL.RequestURI() + "]"
	}
	challenges := []string{`Basic realm="security", charset="UTF-8"`, `Bearer realm="security"`, `ApiKey`}
	for _, c := range challenges {
		w.Header().Add("WWW-Authenticate", c)
	}
	cause := map[string]any{
		"type":   "security_exception",
		"reason": reason,
		"header": map[string]any{"WWW-Authenticate": challenges},
	}
	writeJSONProduct(w, http.StatusUnauthorized, false, map[string]any{
		"error": map[string]any{
			"root_cause": []any{cause},
			"type":       "security_exception",
			"reason":     reason,
			"header":     map[string]any{"WWW-Authenticate": challenges},
		},
		"status": http.StatusUnauthorized,
	})
	return false
}

// parameters answers, as the node would, a health request whose
// cluster-manager timeout it rejects, and reports whether the request may go
// on. Elasticsearch and OpenSearch 1.x refuse a parameter they do not know;
// OpenSearch 2 refuses both spellings at once and warns about the
// deprecated one.
func (s *Server) parameters(w http.ResponseWriter, r *http.Request) bool {
	q := r.URL.Query()
	_, master := q["master_timeout"]
	_, manager := q["cluster_manager_timeout"]
	switch {
	case !s.clusterManager() && manager:
		s.writeJSON(w, http.StatusBadRequest, errorBody(http.StatusBadRequest, "illegal_argument_exception",
			"request ["+r.URL.Path+"] contains unrecognized parameter: [cluster_manager_timeout]"))
		return false
	case s.clusterManager() && master && manager:
		s.writeJSON(w, http.StatusBadRequest, errorBody(http.StatusBadRequest, "parse_exception",
			"Please only use one of the request parameters [master_timeout, cluster_manager_timeout]."))
		return false
	case s.clusterManager() && master:
		s.deprecations.Add(1)
		w.Header().Add("Warning", "299 OpenSearch-"+OpenSearchVersion+"-"+openSearchBuildHash+
			` "`+MasterTimeoutDeprecation+`"`)
	}
	return true
}

func (s *Server) info(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodHead {
		s.setHeaders(w)
		w.WriteHeader(http.StatusOK)
		return
	}
	if s.legacy {
		s.writeJSON(w, http.StatusOK, map[string]any{
			"name":         "opensearch-node1",
			"cluster_name": ClusterName,
			"cluster_uuid": "fV9aC5dXRvKx0yJ2q1m0aw",
			"version": map[string]any{
				"distribution": "opensearch",
				"number":       OpenSearch1Version,
				"build_type":   "tar",
				// Stand-ins, not that release's hash and date: nothing reads them.
				"build_hash":                          "0000000000000000000000000000000000000000",
				"build_date":                          "2024-12-01T00:00:00.000000000Z",
				"build_snapshot":                      false,
				"lucene_version":                      "8.10.1",
				"minimum_wire_compatibility_version":  "6.8.0",
				"minimum_index_compatibility_version": "6.0.0-beta1",
			},
			"tagline": "The OpenSearch Project: https://opensearch.org/",
		})
		return
	}
	if s.openSearch {
		s.writeJSON(w, http.StatusOK, map[string]any{
			"name":         "opensearch-node1",
			"cluster_name": ClusterName,
			"cluster_uuid": "fV9aC5dXRvKx0yJ2q1m0aw",
			"version": map[string]any{
				"distribution":                        "opensearch",
				"number":                              OpenSearchVersion,
				"build_type":                          "tar",
				"build_hash":                          openSearchBuildHash,
				"build_date":                          "2025-02-27T01:22:24.665339607Z",
				"build_snapshot":                      false,
				"lucene_version":                      "9.12.1",
				"minimum_wire_compatibility_version":  "7.10.0",
				"minimum_index_compatibility_version": "7.0.0",
			},
			"tagline": "The OpenSearch Project: https://opensearch.org/",
		})
		return
	}
	s.writeJSON(w, http.StatusOK, map[string]any{
		"name":         "node-1",
		"cluster_name": ClusterName,
		"cluster_uuid": "wXq3yKCBQZ2nnNO3j3YpZQ",
		"version": map[string]any{
			"number":                              "8.12.1",
			"build_flavor":                        "default",
			"build_type":                          "docker",
			"build_hash":                          "6185ba65d27469afabc9bc951cded6c17c21e3f3",
			"build_date":                          "2024-02-01T13:07:13.727175297Z",
			"build_snapshot":                      false,
			"lucene_version":                      "9.9.2",
			"minimum_wire_compatibility_version":  "7.17.0",
			"minimum_index_compatibility_version": "7.0.0",
		},
		"tagline": "You Know, for Search",
	})
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	switch s.Fault {
	case NoMaster:
		typ := "master_not_discovered_exception"
		if s.clusterManager() {
			typ = "cluster_manager_not_discovered_exception"
		}
		s.writeJSON(w, http.StatusServiceUnavailable, map[string]any{
			"error": map[string]any{
				"root_cause": []any{map[string]any{"type": typ, "reason": nil}},
				"type":       typ,
				"reason":     nil,
			},
			"status": http.StatusServiceUnavailable,
		})
		return
	case Forbidden:
		reason := "action [cluster:monitor/health] is unauthorized for user [" + User + "] with effective roles [], " +
			"this action is granted by the cluster privileges [monitor,manage,all]"
		if s.openSearch {
			reason = "no permissions for [cluster:monitor/health] and User [name=" + OpenSearchUser +
				", backend_roles=[], requestedTenant=null]"
		}
		s.writeJSON(w, http.StatusForbidden, errorBody(http.StatusForbidden, "security_exception", reason))
		return
	case Hang:
		select {
		case <-r.Context().Done():
		case <-s.closing:
		}
		return
	case CloseConn:
		hj, ok := w.(http.Hijacker)
		if !ok {
			panic("fakees: response writer cannot hijack")
		}
		conn, _, err := hj.Hijack()
		if err == nil {
			_ = conn.Close()
		}
		return
	}

	code, timedOut := http.StatusOK, false
	if want := r.URL.Query().Get("wait_for_status"); want != "" && rank(s.Status) < rank(want) {
		// A real node waits the whole timeout for a colour that does not
		// come, then answers 408 with the body it has.
		timeout := 30 * time.Second
		if d, ok := parseDuration(r.URL.Query().Get("timeout")); ok {
			timeout = d
		}
		t := time.NewTimer(timeout)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		case <-s.closing:
			return
		}
		code, timedOut = http.StatusRequestTimeout, true
	}
	body := healthBody(s.Status, timedOut)
	if s.openSearch {
		// 1.x has discovered_master; 2.x sends it, deprecated, beside its
		// replacement.
		discovered := s.Fault != Undiscovered
		body["discovered_master"] = discovered
		if s.clusterManager() {
			body["discovered_cluster_manager"] = discovered
		}
		if s.UpperCase {
			body["status"] = strings.ToUpper(s.Status)
		}
	}
	if s.Fault == NotElasticsearch {
		writeJSONProduct(w, code, false, body)
		return
	}
	s.writeJSON(w, code, body)
}

// healthBody is the cluster health of a one-node cluster holding one index
// with one replica, so yellow has one unassigned shard and red two.
func healthBody(status string, timedOut bool) map[string]any {
	active, unassigned, percent := 1, 1, 50.0
	switch status {
	case "green":
		active, unassigned, percent = 2, 0, 100.0
	case "red":
		active, unassigned, percent = 0, 2, 0.0
	}
	return map[string]any{
		"cluster_name":                     ClusterName,
		"status":                           status,
		"timed_out":                        timedOut,
		"number_of_nodes":                  1,
		"number_of_data_nodes":             1,
		"active_primary_shards":            min(active, 1),
		"active_shards":                    active,
		"relocating_shards":                0,
		"initializing_shards":              0,
		"unassigned_shards":                unassigned,
		"unassigned_primary_shards":        max(0, 1-active),
		"delayed_unassigned_shards":        0,
		"number_of_pending_tasks":          0,
		"number_of_in_flight_fetch":        0,
		"task_max_waiting_in_queue_millis": 0,
		"active_shards_percent_as_number":  percent,
	}
}

func errorBody(code int, typ, reason string) map[string]any {
	return map[string]any{
		"error": map[string]any{
			"root_cause": []any{map[string]any{"type": typ, "reason": reason}},
			"type":       typ,
			"reason":     reason,
		},
		"status": code,
	}
}

// setHeaders sets the headers of an authenticated answer: Elasticsearch
// names its product, OpenSearch does not and adds a charset.
func (s *Server) setHeaders(w http.ResponseWriter) {
	if s.openSearch {
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		return
	}
	setESHeaders(w, true)
}

func setESHeaders(w http.ResponseWriter, product bool) {
	w.Header().Set("Content-Type", "application/json")
	if product {
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
	}
}

func (s *Server) writeJSON(w http.ResponseWriter, code int, body any) {
	s.setHeaders(w)
	w.WriteHeader(code)
	encode(w, body)
}

// writeJSONProduct writes an Elasticsearch answer with or without the
// product header.
func writeJSONProduct(w http.ResponseWriter, code int, product bool, body any) {
	setESHeaders(w, product)
	w.WriteHeader(code)
	encode(w, body)
}

func encode(w http.ResponseWriter, body any) {
	bw := bufio.NewWriter(w)
	_ = json.NewEncoder(bw).Encode(body)
	_ = bw.Flush()
}

// rank orders colours so wait_for_status=yellow is met by yellow or green.
func rank(status string) int {
	switch status {
	case "green":
		return 3
	case "yellow":
		return 2
	case "red":
		return 1
	}
	return 0
}

// parseDuration reads Elasticsearch time units as the receiver sends them
// (ms, s, m, nanos); anything else is ignored, as the default applies.
func parseDuration(v string) (time.Duration, bool) {
	units := []struct {
		suffix string
		unit   time.Duration
	}{{"nanos", time.Nanosecond}, {"micros", time.Microsecond}, {"ms", time.Millisecond}, {"s", time.Second}, {"m", time.Minute}}
	for _, u := range units {
		if n, ok := strings.CutSuffix(v, u.suffix); ok {
			if i, err := strconv.ParseInt(n, 10, 64); err == nil && i >= 0 {
				return time.Duration(i) * u.unit, true
			}
			return 0, false
		}
	}
	return 0, false
}
