package probes

import (
	"context"
	"encoding/json"
	"runtime/debug"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oarepo/heartbeat/signal"
)

func TestCheckWithoutReceivers(t *testing.T) {
	rep := Check(context.Background(), signal.NewBus(), signal.Readiness)
	assert.True(t, rep.Status)
	b, err := json.Marshal(rep)
	require.NoError(t, err)
	assert.Equal(t, `{"status":true,"checks":{}}`, string(b))
}

func TestCheckNamesAreEscaped(t *testing.T) {
	bus := signal.NewBus()
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
		return signal.Reply{Name: `we"ird</script>`, Status: true}
	})
	b, err := json.Marshal(Check(context.Background(), bus, signal.Readiness))
	require.NoError(t, err)
	require.True(t, json.Valid(b), string(b))
	var got struct{ Checks map[string]any }
	require.NoError(t, json.Unmarshal(b, &got))
	assert.Contains(t, got.Checks, `we"ird</script>`)
	assert.NotContains(t, string(b), "</script>")
}

func TestBuildFrom(t *testing.T) {
	bi := &debug.BuildInfo{
		GoVersion: "go1.99.1",
		Main:      debug.Module{Path: "example.com/app", Version: "v1.2.3"},
		Deps: []*debug.Module{
			{Path: "github.com/go-chi/chi/v5", Version: "v5.5.0"},
			{Path: "example.com/lib", Version: "v0.1.0", Replace: &debug.Module{Path: "../lib"}},
			{Path: "example.com/forked", Version: "v1.0.0", Replace: &debug.Module{Path: "example.com/fork", Version: "v1.0.1"}},
		},
		Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "abc123"},
			{Key: "vcs.time", Value: "2026-11-01T10:00:00Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	b := buildFrom(bi, true)
	assert.Equal(t, "go1.99.1", b.Go.Version)
	assert.Equal(t, Module{Path: "example.com/app", Version: "v1.2.3"}, b.Main)
	assert.Equal(t, Library{Version: "v5.5.0"}, b.Libraries["github.com/go-chi/chi/v5"])
	require.NotNil(t, b.Libraries["example.com/lib"].Conflicts)
	assert.Equal(t, "replaced by a local directory", *b.Libraries["example.com/lib"].Conflicts, "never the build machine's path")
	assert.Equal(t, "replaced by example.com/fork v1.0.1", *b.Libraries["example.com/forked"].Conflicts)
	assert.Equal(t, &VCS{System: "git", Revision: "abc123", Time: "2026-11-01T10:00:00Z", Modified: true}, b.VCS)

	raw, err := json.Marshal(b)
	require.NoError(t, err)
	assert.Contains(t, string(raw), `"github.com/go-chi/chi/v5":{"version":"v5.5.0","conflicts":null}`)
	assert.NotContains(t, string(raw), "../lib")

	none := buildFrom(nil, false)
	assert.NotEmpty(t, none.Go.Version)
	assert.NotNil(t, none.Libraries)
	assert.Nil(t, none.VCS)
}

func TestEnvironStatusCannotBeOverridden(t *testing.T) {
	bus := signal.NewBus()
	bus.Subscribe(signal.Environ, func(context.Context) signal.Reply {
		return signal.Reply{Status: false, Data: map[string]any{"status": true, "libraries": "mine"}}
	})
	rep := Environ(context.Background(), bus)
	var got map[string]any
	raw, err := json.Marshal(rep)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &got))
	assert.Equal(t, false, got["status"])
	assert.Equal(t, "mine", got["libraries"], "receivers may replace built-in keys, as the original's merge did")
	assert.Contains(t, got, "go")
}

func TestEnvironNamesFailedReceivers(t *testing.T) {
	bus := signal.NewBus()
	release := make(chan struct{})
	defer close(release)
	bus.Subscribe(signal.Environ, func(context.Context) signal.Reply { <-release; return signal.Reply{Status: true} },
		signal.Named("slow"), signal.WithTimeout(100*time.Millisecond))
	bus.Subscribe(signal.Environ, func(context.Context) signal.Reply {
		return signal.Reply{Status: true, Data: map[string]any{"region": "eu"}}
	})
	raw, err := json.Marshal(Environ(context.Background(), bus))
	require.NoError(t, err)
	var got map[string]any
	require.NoError(t, json.Unmarshal(raw, &got))
	assert.Equal(t, false, got["status"])
	assert.Equal(t, "eu", got["region"], "%s", raw)
	require.Contains(t, got, "checks")
	assert.Contains(t, got["checks"], "slow")
}
