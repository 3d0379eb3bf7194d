// Package healthjson encodes a probe's report in the format of the IETF
// draft "Health Check Response Format for HTTP APIs"
// (draft-inadarei-api-health-check), media type application/health+json,
// for the callers that ask for it with an Accept header.
//
// The mapping from heartbeat's checks:
//
//   - "status" is "fail" when the probe fails, "warn" when it passes and a
//     check passes with a "warning", and "pass" otherwise.
//   - Each check is one entry of "checks", keyed by its name, or by
//     "name:measurement" when its data has a string "measurementName"; the
//     value is a one-element array (the draft allows several per key).
//   - An entry has "componentId" (the check's name), "status" as above for
//     the one check, "time" (when the run that made the reply ended, RFC 3339
//     in UTC), "output" (its "error" when it fails, its "warning" when it
//     warns, secrets masked), and "observedValue" with "observedUnit": the
//     data's own "observedValue" and "observedUnit" when it has them, or else
//     its numeric "time", the seconds the bundled receivers report.
//   - Checks left out with ?exclude are listed in "notes".
//
// A caller that may not see details gets the statuses and componentIds only.
package healthjson

import (
	"encoding/json"
	"mime"
	"strconv"
	"strings"

	"github.com/oarepo/heartbeat/probes"
	"github.com/oarepo/heartbeat/redact"
	"github.com/oarepo/heartbeat/signal"
)

// ContentType is the draft's media type.
const ContentType = "application/health+json"

// Wanted reports whether an Accept header asks for ContentType: it names it
// with a non-zero quality that no JSON or wildcard range outranks. An absent
// header, "*/*" (the kubelet's) and "application/json" do not.
func Wanted(accept string) bool {
	if !strings.Contains(strings.ToLower(accept), "health+json") {
		return false // the probes' usual case, decided without parsing
	}
	want, other := -1.0, -1.0
	for r := range strings.SplitSeq(accept, ",") {
		typ, params, err := mime.ParseMediaType(strings.TrimSpace(r))
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if q, err = strconv.ParseFloat(v, 64); err != nil {
				continue
			}
		}
		switch typ {
		case ContentType:
			want = max(want, q)
		case "application/json", "application/*", "*/*":
			other = max(other, q)
		}
	}
	return want > 0 && want >= other
}

type entry struct {
	ComponentID   string `json:"componentId"`
	Status        string `json:"status"`
	Time          string `json:"time,omitempty"`
	Output        string `json:"output,omitempty"`
	ObservedValue any    `json:"observedValue,omitempty"`
	ObservedUnit  string `json:"observedUnit,omitempty"`
}

type response struct {
	Status string             `json:"status"`
	Notes  []string           `json:"notes,omitempty"`
	Checks map[string][]entry `json:"checks"`
}

// Encode returns rep in the draft's format; with detailed false, without
// anything but each check's componentId and status.
func Encode(rep probes.Report, detailed bool) []byte {
	res := response{Status: "pass", Checks: make(map[string][]entry, len(rep.Checks))}
	for _, c := range rep.Checks {
		e, key := entry{ComponentID: c.Reply.Name, Status: status(c.Reply)}, c.Reply.Name
		if e.Status == "warn" {
			res.Status = "warn"
		}
		if m, ok := c.Reply.Data["measurementName"].(string); ok && m != "" {
			key += ":" + m
		}
		if detailed {
			e.Time = c.Started.Add(c.Duration).UTC().Format("2006-01-02T15:04:05.000Z07:00")
			e.Output = output(c, e.Status)
			if v, ok := c.Reply.Data["observedValue"]; ok {
				e.ObservedValue = v
				e.ObservedUnit, _ = c.Reply.Data["observedUnit"].(string)
			} else if v, ok := c.Reply.Data["time"].(float64); ok {
				e.ObservedValue, e.ObservedUnit = v, "s"
			}
		}
		res.Checks[key] = append(res.Checks[key], e)
	}
	if !rep.Status {
		res.Status = "fail"
	}
	for _, n := range rep.Excluded {
		res.Notes = append(res.Notes, "excluded: "+n)
	}
	for _, n := range rep.Unmatched {
		res.Notes = append(res.Notes, "unmatched exclude: "+n)
	}
	body, err := json.Marshal(res)
	if err != nil { // an observedValue the bus encoded once always encodes again
		return []byte(`{"status":"fail","output":"the answer could not be encoded"}`)
	}
	return body
}

func status(r signal.Reply) string {
	switch w, _ := r.Data["warning"].(string); {
	case !r.Status:
		return "fail"
	case w != "":
		return "warn"
	}
	return "pass"
}

func output(c signal.Result, status string) string {
	switch status {
	case "fail":
		for _, k := range []string{"error", "message"} {
			if s, ok := c.Reply.Data[k].(string); ok && s != "" {
				return redact.String(s)
			}
		}
		return "status false"
	case "warn":
		w, _ := c.Reply.Data["warning"].(string)
		return redact.String(w)
	}
	return ""
}
