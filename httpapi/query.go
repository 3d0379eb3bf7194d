package httpapi

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// knownParams are the query parameters the readiness, liveliness and startup
// probes understand:
//
//   - exclude=name (repeatable) leaves the named checks out of the probe.
//
// The environ probe and the per-check paths understand none.
var knownParams = []string{"exclude"}

// parseQuery answers 400 and returns false when the query string is
// malformed or names a parameter not in known: a typo in a probe's URL must
// not pass silently as if it had been understood. A request without a query
// string costs one comparison.
func parseQuery(w http.ResponseWriter, req *http.Request, known []string) (url.Values, bool) {
	if req.URL.RawQuery == "" {
		return nil, true
	}
	q, err := url.ParseQuery(req.URL.RawQuery)
	if err != nil {
		writeError(w, req, http.StatusBadRequest, "malformed query string: "+err.Error())
		return nil, false
	}
	for k := range q {
		if !slices.Contains(known, k) {
			list := "none"
			if len(known) > 0 {
				list = strings.Join(known, ", ")
			}
			writeError(w, req, http.StatusBadRequest, "unknown query parameter "+quote(k)+"; known parameters: "+list)
			return nil, false
		}
	}
	return q, true
}

// quote quotes a parameter name for an error message, cut short so that a
// huge name cannot make a huge answer.
func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return strconv.Quote(s)
}
