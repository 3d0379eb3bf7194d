// Package probes gives the heartbeat signals their meaning: a readiness,
// liveliness or startup probe passes when every receiver's reply passes, and
// its answer lists each reply as a check; the environ probe merges its
// receivers' data into a description of the running binary.
//
// The JSON it writes is the wire format of the Python library
// oarepo-heartbeat, so clients written for that library read it unchanged.
package probes

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/oarepo/heartbeat/internal/wire"
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
	size := 64
	for _, c := range r.Checks {
		check, _ := c.MarshalJSON() // encoded, and checked, when the run ended
		size += len(c.Reply.Name) + len(check) + 4
	}
	b := make([]byte, 0, size)
	b = append(b, `{"status":`...)
	b = strconv.AppendBool(b, r.Status)
	b = append(b, `,"checks":{`...)
	for i, c := range r.Checks {
		if i > 0 {
			b = append(b, ',')
		}
		check, _ := c.MarshalJSON()
		b = wire.AppendString(b, c.Reply.Name)
		b = append(b, ':')
		b = append(b, check...)
	}
	b = append(b, '}')
	for _, list := range []struct {
		key   string
		names []string
	}{{"excluded", r.Excluded}, {"unmatched_exclude", r.Unmatched}} {
		if len(list.names) > 0 {
			names, _ := json.Marshal(list.names)
			b = append(b, `,"`+list.key+`":`...)
			b = append(b, names...)
		}
	}
	return append(b, '}'), nil
}
