package probes

import (
	"context"
	"encoding/json"
	"runtime"
	"runtime/debug"
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
func BuildInfo() Build { return buildInfo() }

var buildInfo = sync.OnceValue(func() Build { return buildFrom(debug.ReadBuildInfo()) })

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
			// A replacement without a version is a directory on the machine
			// that built the binary: its path says nothing to a reader of
			// the probe and much to an attacker.
			s := "replaced by a local directory"
			if r.Version != "" {
				s = "replaced by " + r.Path + " " + r.Version
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

// EnvironReport is the answer of the environ probe.
type EnvironReport struct {
	// Status is the logical AND of the receivers' statuses.
	Status bool
	// Results are the receivers' results in subscription order.
	Results []signal.Result
}

// Environ publishes signal.Environ on bus and reports the merged answer.
func Environ(ctx context.Context, bus *signal.Bus, opts ...signal.PublishOption) EnvironReport {
	rep := EnvironReport{Status: true, Results: bus.Results(ctx, signal.Environ, opts...)}
	for _, r := range rep.Results {
		rep.Status = rep.Status && r.Reply.Status
	}
	return rep
}

// MarshalJSON encodes the environ answer: "status", the built-in
// "libraries", "go", "main" and "vcs" keys, then every receiver's data keys,
// merged in subscription order so that a later receiver's key replaces an
// earlier one's, as the original's merge did. No receiver can replace
// "status". A receiver the bus failed (timed out, panicked, unencodable data)
// contributes no data; it is listed under "checks" in the readiness format
// instead, so the failure is named.
func (e EnvironReport) MarshalJSON() ([]byte, error) {
	b := BuildInfo()
	merged := map[string]any{"libraries": b.Libraries, "go": b.Go, "main": b.Main}
	if b.VCS != nil {
		merged["vcs"] = b.VCS
	}
	faults := map[string]signal.Result{}
	for _, r := range e.Results {
		if r.Fault != nil {
			faults[r.Reply.Name] = r
			continue
		}
		for k, v := range r.Reply.Data {
			merged[k] = v
		}
	}
	if len(faults) > 0 {
		merged["checks"] = faults
	}
	merged["status"] = e.Status
	return json.Marshal(merged)
}
