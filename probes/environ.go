package probes

import (
	"context"
	"encoding/json"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"sync"

	"github.com/oarepo/heartbeat/signal"
)

// Library is one module of the running binary, in the shape the Python
// library gave each installed package.
type Library struct {
	// Version is the module's version as the build recorded it.
	Version string `json:"version"`
	// Conflicts is null, as in the original, unless the module was
	// replaced: then it says by what ("replaced by example.com/fork v1.2.0").
	Conflicts *string `json:"conflicts"`
}

// Runtime describes the Go runtime; it takes the place of the original's
// "python" key.
type Runtime struct {
	Version  string `json:"version"`
	OS       string `json:"os"`
	Arch     string `json:"arch"`
	Compiler string `json:"compiler"`
}

// Module names the main module of the binary.
type Module struct {
	Path    string `json:"path"`
	Version string `json:"version"`
}

// VCS is the version-control state the binary was built from, when the
// build recorded it (go build's -buildvcs).
type VCS struct {
	System   string `json:"system,omitempty"`
	Revision string `json:"revision,omitempty"`
	Time     string `json:"time,omitempty"`
	Modified bool   `json:"modified"`
}

// Build is what the environ probe reports with no receivers subscribed.
type Build struct {
	Libraries map[string]Library `json:"libraries"`
	Go        Runtime            `json:"go"`
	Main      Module             `json:"main"`
	VCS       *VCS               `json:"vcs,omitempty"`
}

// BuildInfo describes the running binary. It is read from
// runtime/debug.ReadBuildInfo once per process: the binary cannot change
// while it runs.
var BuildInfo = sync.OnceValue(func() Build { return buildFrom(debug.ReadBuildInfo()) })

func buildFrom(bi *debug.BuildInfo, ok bool) Build {
	b := Build{
		Libraries: map[string]Library{},
		Go:        Runtime{Version: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH, Compiler: runtime.Compiler},
	}
	if !ok || bi == nil {
		return b
	}
	if bi.GoVersion != "" {
		b.Go.Version = bi.GoVersion
	}
	b.Main = Module{Path: bi.Main.Path, Version: bi.Main.Version}
	for _, m := range bi.Deps {
		lib := Library{Version: m.Version}
		if r := m.Replace; r != nil {
			s := "replaced by " + r.Path
			if r.Version != "" {
				s += " " + r.Version
			}
			lib.Conflicts = &s
		}
		b.Libraries[m.Path] = lib
	}
	var vcs VCS
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs":
			vcs.System = s.Value
		case "vcs.revision":
			vcs.Revision = s.Value
		case "vcs.time":
			vcs.Time = s.Value
		case "vcs.modified":
			vcs.Modified = s.Value == "true"
		}
	}
	if vcs.System != "" || vcs.Revision != "" {
		b.VCS = &vcs
	}
	return b
}

// builtFields is BuildInfo encoded key by key, once.
var builtFields = sync.OnceValue(func() []signal.Field {
	raw, err := json.Marshal(BuildInfo())
	if err != nil { // every field of Build encodes; keep the probe alive regardless
		return nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	fields := make([]signal.Field, 0, len(m))
	for k, v := range m {
		fields = append(fields, signal.Field{Key: k, Value: v})
	}
	return fields
})

// EnvironReport is the answer of the environ probe.
type EnvironReport struct {
	// Status is the logical AND of the receivers' statuses.
	Status bool
	// Results are the receivers' results in subscription order.
	Results []signal.Result
}

// Environ publishes signal.Environ on bus and reports the merged answer.
func Environ(ctx context.Context, bus *signal.Bus, opts ...signal.PublishOption) EnvironReport {
	rep := EnvironReport{Status: true, Results: bus.Collect(ctx, signal.Environ, opts...)}
	for i := range rep.Results {
		if !rep.Results[i].Reply.Status {
			rep.Status = false
		}
	}
	return rep
}

// AppendJSON appends the environ answer to b: "status", the built-in
// "libraries", "go", "main" and "vcs" keys, then every receiver's data keys,
// merged in subscription order so that a later receiver's key replaces an
// earlier one's. No receiver can replace "status". A receiver the bus failed
// (timed out, panicked, unencodable data) contributes no data; it is listed
// under "checks" in the readiness format instead, so the failure is named.
func (e EnvironReport) AppendJSON(b []byte) []byte {
	merged := map[string]json.RawMessage{}
	for _, f := range builtFields() {
		merged[f.Key] = f.Value
	}
	var faults []signal.Result
	for _, r := range e.Results {
		if r.Fault != nil {
			faults = append(faults, r)
			continue
		}
		for _, f := range r.Fields {
			merged[f.Key] = f.Value
		}
	}
	if len(faults) > 0 {
		merged["checks"] = appendChecks(nil, faults)
	}
	keys := make([]string, 0, len(merged))
	for k := range merged {
		if k != "status" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)

	b = append(b, `{"status":`...)
	b = strconv.AppendBool(b, e.Status)
	for _, k := range keys {
		b = append(b, ',')
		b = signal.AppendString(b, k)
		b = append(b, ':')
		b = append(b, merged[k]...)
	}
	return append(b, '}')
}

// MarshalJSON encodes the environ answer; see AppendJSON.
func (e EnvironReport) MarshalJSON() ([]byte, error) {
	return e.AppendJSON(nil), nil
}
