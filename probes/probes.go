// Package probes gives the heartbeat signals their meaning: a readiness,
// liveliness or startup probe passes when every receiver's reply passes, and
// its answer lists each reply as a check; the environ probe merges its
// receivers' data into a description of the running binary.
//
// The JSON it writes is the wire format of the Python library
// oarepo-heartbeat, so clients written for that library read it unchanged.
package probes

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"

	"github.com/oarepo/heartbeat/signal"
)

// Report is the answer of a readiness-, liveliness- or startup-style probe.
type Report struct {
	// Status is the logical AND of every check's status; true when there
	// are no checks.
	Status bool
	// Checks are the receivers' results in subscription order.
	Checks []signal.Result
	// Excluded lists the names of checks left out on request, and Unmatched
	// the names asked to be left out that matched no check; the JSON has
	// them as "excluded" and "unmatched_exclude" when there are any.
	Excluded, Unmatched []string
}

// Check publishes the signal called name on bus and reports the replies.
func Check(ctx context.Context, bus *signal.Bus, name string, opts ...signal.PublishOption) Report {
	rep := Report{Status: true, Checks: bus.Results(ctx, name, opts...)}
	for _, c := range rep.Checks {
		rep.Status = rep.Status && c.Reply.Status
	}
	return rep
}

// MarshalJSON encodes the report in the wire format, the checks in
// subscription order:
//
//	{"status":false,"checks":{"database":{"status":false,"error":"…"}}}
func (r Report) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.Grow(64 + 64*len(r.Checks))
	b.WriteString(`{"status":` + strconv.FormatBool(r.Status) + `,"checks":{`)
	for i, c := range r.Checks {
		if i > 0 {
			b.WriteByte(',')
		}
		name, _ := json.Marshal(c.Reply.Name) // a string always encodes
		check, _ := c.MarshalJSON()           // encoded, and checked, when the run ended
		b.Write(name)
		b.WriteByte(':')
		b.Write(check)
	}
	b.WriteByte('}')
	for _, list := range []struct {
		key   string
		names []string
	}{{"excluded", r.Excluded}, {"unmatched_exclude", r.Unmatched}} {
		if len(list.names) > 0 {
			names, _ := json.Marshal(list.names)
			b.WriteString(`,"` + list.key + `":`)
			b.Write(names)
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
