package elastic

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"
)

// health is the part of the cluster health body the check reports.
type health struct {
	ClusterName         string  `json:"cluster_name"`
	Status              string  `json:"status"`
	TimedOut            bool    `json:"timed_out"`
	NumberOfNodes       int     `json:"number_of_nodes"`
	UnassignedShards    int     `json:"unassigned_shards"`
	ActiveShardsPercent float64 `json:"active_shards_percent_as_number"`
	// OpenSearch only: discovered_master (1.x, deprecated in 2.0) and
	// discovered_cluster_manager (2.0 and later).
	DiscoveredMaster         *bool `json:"discovered_master"`
	DiscoveredClusterManager *bool `json:"discovered_cluster_manager"`
}

// discovered is whether a cluster manager is known, and whether the answer
// says at all (Elasticsearch does not).
func (h *health) discovered() (found, known bool) {
	switch {
	case h.DiscoveredClusterManager != nil:
		return *h.DiscoveredClusterManager, true
	case h.DiscoveredMaster != nil:
		return *h.DiscoveredMaster, true
	}
	return false, false
}

// fill adds the health to reply data. The colour goes under cluster_status
// because the reply's own status always wins over a "status" data key.
func (h *health) fill(data map[string]any) {
	data["cluster_name"] = h.ClusterName
	data["cluster_status"] = h.Status
	data["number_of_nodes"] = h.NumberOfNodes
	data["unassigned_shards"] = h.UnassignedShards
	data["active_shards_percent"] = h.ActiveShardsPercent
	if found, known := h.discovered(); known {
		data["discovered_cluster_manager"] = found
	}
}

// judge maps an answer to the check's outcome. Both servers answer 200 for
// red as well as green, so the colour decides, not the HTTP status.
func (c config) judge(code int, body []byte) outcome {
	switch {
	case code >= 200 && code < 300:
		h, err := decodeHealth(body)
		if err != nil {
			return outcome{err: fmt.Errorf("%d but the body is not cluster health: %w", code, err)}
		}
		if found, known := h.discovered(); known && !found {
			return outcome{health: h, err: fmt.Errorf("cluster status is %s but no cluster manager is discovered", h.Status)}
		}
		switch {
		case h.Status == "green", h.Status == "yellow" && c.yellowReady:
			return outcome{health: h}
		case h.Status == "yellow", h.Status == "red":
			return outcome{health: h, err: fmt.Errorf("cluster status is %s (unassigned shards: %d)", h.Status, h.UnassignedShards)}
		default:
			return outcome{health: h, err: fmt.Errorf("cluster status is %q, not green or yellow", h.Status)}
		}
	case code == http.StatusRequestTimeout && c.waitForStatus != "":
		// An unmet wait_for_status: the body is the health as it stands.
		if h, err := decodeHealth(body); err == nil {
			return outcome{health: h, err: fmt.Errorf("408 timed out waiting for cluster status %s; it is %s",
				c.waitForStatus, h.Status)}
		}
	}
	return outcome{err: errorFromBody(code, body)}
}

func decodeHealth(body []byte) (*health, error) {
	var h health
	if err := json.Unmarshal(body, &h); err != nil {
		return nil, err
	}
	if h.Status == "" {
		return nil, errors.New(`no "status" field`)
	}
	// OpenSearch's specification allows GREEN as well as green.
	h.Status = strings.ToLower(h.Status)
	return &h, nil
}

// errorFromBody turns an error answer into one line:
// "401 security_exception: missing authentication credentials ...". An
// answer that is not an Elasticsearch error (a proxy's HTML page) is shown
// by its HTTP status and the start of its body.
func errorFromBody(code int, body []byte) error {
	var e struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && len(e.Error) > 0 {
		var cause struct {
			Type   string  `json:"type"`
			Reason *string `json:"reason"`
		}
		if json.Unmarshal(e.Error, &cause) == nil && cause.Type != "" {
			if cause.Reason == nil || *cause.Reason == "" {
				return fmt.Errorf("%d %s", code, cause.Type)
			}
			return fmt.Errorf("%d %s: %s", code, cause.Type, *cause.Reason)
		}
		var text string
		if json.Unmarshal(e.Error, &text) == nil && text != "" {
			return fmt.Errorf("%d %s", code, text)
		}
	}
	if snippet := oneLine(body, 200); snippet != "" {
		return fmt.Errorf("%d %s: %s", code, http.StatusText(code), snippet)
	}
	return fmt.Errorf("%d %s", code, http.StatusText(code))
}

// oneLine returns the start of b as a single line of at most n bytes.
func oneLine(b []byte, n int) string {
	b = bytes.TrimSpace(b)
	cut := len(b) > n
	if cut {
		b = b[:n]
		for len(b) > 0 && !utf8.Valid(b) {
			b = b[:len(b)-1]
		}
	}
	s := strings.Join(strings.Fields(string(b)), " ")
	if cut {
		s += "…"
	}
	return s
}
