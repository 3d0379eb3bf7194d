package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oarepo/heartbeat/signal"
)

// A readiness probe whose only note is a warning passes: the original JSON
// answers 200 with "status": true and carries the warning in the check's
// object; application/health+json calls the probe and the check "warn". An
// empty warning is no warning.
func TestWarningPassesTheProbe(t *testing.T) {
	for _, tc := range []struct {
		name, warning, health string
	}{
		{"warning", "cluster health is yellow", "warn"},
		{"empty warning", "", "pass"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bus := signal.NewBus()
			bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
				return signal.Reply{Status: true, Data: map[string]any{"time": 0.0031}}
			}, signal.Named("db"))
			bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
				return signal.Reply{Status: true, Data: map[string]any{"warning": tc.warning}}
			}, signal.Named("search"))
			h := Router(bus) // no WithDetails: every caller sees details

			for _, accept := range []string{"", "*/*", "application/json"} {
				rec := getAccept(h, readiness, accept)
				require.Equal(t, http.StatusOK, rec.Code, "Accept: %q", accept)
				assert.Equal(t, "application/json", rec.Header().Get("Content-Type"), "Accept: %q", accept)
				var body struct {
					Status *bool                     `json:"status"`
					Checks map[string]map[string]any `json:"checks"`
				}
				require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), rec.Body.String())
				require.NotNil(t, body.Status, rec.Body.String())
				assert.True(t, *body.Status, "Accept: %q", accept)
				assert.Equal(t, map[string]any{"status": true, "warning": tc.warning}, body.Checks["search"], "Accept: %q", accept)
				assert.Equal(t, map[string]any{"status": true, "time": 0.0031}, body.Checks["db"], "Accept: %q", accept)
			}

			rec := getAccept(h, readiness, "application/health+json")
			require.Equal(t, http.StatusOK, rec.Code)
			assert.Equal(t, "application/health+json", rec.Header().Get("Content-Type"))
			var doc struct {
				Status string                      `json:"status"`
				Checks map[string][]map[string]any `json:"checks"`
			}
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &doc), rec.Body.String())
			assert.Equal(t, tc.health, doc.Status)
			require.Len(t, doc.Checks["search"], 1)
			assert.Equal(t, tc.health, doc.Checks["search"][0]["status"])
			if tc.warning != "" {
				assert.Equal(t, tc.warning, doc.Checks["search"][0]["output"])
			} else {
				assert.NotContains(t, doc.Checks["search"][0], "output")
			}
			require.Len(t, doc.Checks["db"], 1)
			assert.Equal(t, "pass", doc.Checks["db"][0]["status"])
		})
	}
}
