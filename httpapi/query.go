package httpapi

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// knownParams are the query parameters the probes understand.
var knownParams = []string{}

// validQuery answers 400 and returns false when the query string is malformed
// or names a parameter the probes do not know: a typo in a probe's URL must
// not pass silently as if it had been understood.
func validQuery(w http.ResponseWriter, req *http.Request) bool {
	if req.URL.RawQuery == "" {
		return true
	}
	q, err := url.ParseQuery(req.URL.RawQuery)
	if err != nil {
		writeError(w, req, http.StatusBadRequest, "malformed query string: "+err.Error())
		return false
	}
	for k := range q {
		if !slices.Contains(knownParams, k) {
			known := "none"
			if len(knownParams) > 0 {
				known = strings.Join(knownParams, ", ")
			}
			writeError(w, req, http.StatusBadRequest, "unknown query parameter "+quote(k)+"; known parameters: "+known)
			return false
		}
	}
	return true
}

// quote quotes a parameter name for an error message, cut short so that a
// huge name cannot make a huge answer.
func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return strconv.Quote(s)
}
