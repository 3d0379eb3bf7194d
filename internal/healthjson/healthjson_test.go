package healthjson

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oarepo/heartbeat/probes"
	"github.com/oarepo/heartbeat/signal"
)

func TestWanted(t *testing.T) {
	for accept, want := range map[string]bool{
		"":                            false,
		"*/*":                         false,
		"application/json":            false,
		"application/health+json":     true,
		"Application/Health+JSON":     true,
		"application/health+json;q=0": false,
		"application/json, application/health+json;q=0.5":     false,
		"application/json;q=0.5, application/health+json":     true,
		"application/health+json, */*;q=0.1":                  true,
		"text/html, application/health+json;q=0.9, */*;q=0.8": true,
		"application/health+json;q=nonsense":                  false,
		"application/health+jsonx":                            false,
	} {
		assert.Equal(t, want, Wanted(accept), "Accept: %s", accept)
	}
}

func report() probes.Report {
	start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	return probes.Report{Status: false, Checks: []signal.Result{
		{Reply: signal.Reply{Name: "db", Status: true, Data: map[string]any{"time": 0.012}}, Started: start, Duration: 12 * time.Millisecond},
		{Reply: signal.Reply{Name: "es", Status: true, Data: map[string]any{"warning": "cluster yellow"}}, Started: start, Duration: time.Millisecond},
		{Reply: signal.Reply{Name: "queue", Status: true, Data: map[string]any{"measurementName": "depth", "observedValue": 17, "observedUnit": "messages"}}, Started: start},
		{Reply: signal.Reply{Name: "cache", Status: false, Data: map[string]any{"error": "dial redis://:hunter2@cache:6379: refused"}}, Started: start, Duration: time.Second},
	}, Excluded: []string{"slow"}, Unmatched: []string{"sloe"}}
}

func TestEncodeDetailed(t *testing.T) {
	assert.JSONEq(t, `{"status":"fail","notes":["excluded: slow","unmatched exclude: sloe"],"checks":{
		"db":[{"componentId":"db","status":"pass","time":"2026-12-01T10:00:00.012Z","observedValue":0.012,"observedUnit":"s"}],
		"es":[{"componentId":"es","status":"warn","time":"2026-12-01T10:00:00.001Z","output":"cluster yellow"}],
		"queue:depth":[{"componentId":"queue","status":"pass","time":"2026-12-01T10:00:00.000Z","observedValue":17,"observedUnit":"messages"}],
		"cache":[{"componentId":"cache","status":"fail","time":"2026-12-01T10:00:01.000Z","output":"dial redis://:xxxxx@cache:6379: refused"}]}}`,
		string(Encode(report(), true)))
}

func TestEncodeAnonymousAndWarn(t *testing.T) {
	rep := report()
	assert.JSONEq(t, `{"status":"fail","notes":["excluded: slow","unmatched exclude: sloe"],"checks":{
		"db":[{"componentId":"db","status":"pass"}],"es":[{"componentId":"es","status":"warn"}],
		"queue:depth":[{"componentId":"queue","status":"pass"}],"cache":[{"componentId":"cache","status":"fail"}]}}`,
		string(Encode(rep, false)))

	rep.Status, rep.Checks = true, rep.Checks[:3]
	var got struct{ Status string }
	require.NoError(t, json.Unmarshal(Encode(rep, false), &got))
	assert.Equal(t, "warn", got.Status, "a warning check makes a passing probe warn")
	rep.Checks = rep.Checks[:1]
	require.NoError(t, json.Unmarshal(Encode(rep, false), &got))
	assert.Equal(t, "pass", got.Status)
}

func TestEncodeUnencodableObservedValue(t *testing.T) {
	rep := probes.Report{Status: true, Checks: []signal.Result{{Reply: signal.Reply{Name: "x", Status: true, Data: map[string]any{"observedValue": func() {}}}}}}
	assert.JSONEq(t, `{"status":"fail","output":"the answer could not be encoded"}`, string(Encode(rep, true)))
}
