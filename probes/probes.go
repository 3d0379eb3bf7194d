// Package probes gives the heartbeat signals their meaning: a readiness or
// liveliness probe passes when every receiver's reply passes, and its answer
// lists each reply as a check; the environ probe merges its receivers' data
// into a description of the running binary.
//
// The JSON it writes is the wire format of the Python library
// oarepo-heartbeat, so clients written for that library read it unchanged.
package probes

import (
	"context"
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
}

// Check publishes the signal called name on bus and reports the replies.
func Check(ctx context.Context, bus *signal.Bus, name string, opts ...signal.PublishOption) Report {
	rep := Report{Status: true, Checks: bus.Collect(ctx, name, opts...)}
	for i := range rep.Checks {
		if !rep.Checks[i].Reply.Status {
			rep.Status = false
			break
		}
	}
	return rep
}

// AppendJSON appends the report in the wire format to b:
//
//	{"status":false,"checks":{"database":{"status":false,"error":"…"}}}
//
// Each check's object is the encoding its run already made, so appending a
// report of reused replies encodes nothing again.
func (r Report) AppendJSON(b []byte) []byte {
	b = append(b, `{"status":`...)
	b = strconv.AppendBool(b, r.Status)
	b = append(b, `,"checks":`...)
	b = appendChecks(b, r.Checks)
	return append(b, '}')
}

// appendChecks appends the "checks" object: each result's name and object.
func appendChecks(b []byte, checks []signal.Result) []byte {
	b = append(b, '{')
	for i := range checks {
		if i > 0 {
			b = append(b, ',')
		}
		b = signal.AppendString(b, checks[i].Reply.Name)
		b = append(b, ':')
		b = append(b, checks[i].JSON...)
	}
	return append(b, '}')
}

// MarshalJSON encodes the report in the wire format; see AppendJSON.
func (r Report) MarshalJSON() ([]byte, error) {
	return r.AppendJSON(nil), nil
}
