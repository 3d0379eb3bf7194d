package receivertest_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/oarepo/heartbeat/internal/receivertest"
	"github.com/oarepo/heartbeat/signal"
)

// recorder is a testing.TB that counts failures instead of failing.
type recorder struct {
	testing.TB
	failures int
}

func (r *recorder) Helper()               {}
func (r *recorder) Errorf(string, ...any) { r.failures++ }

// TestAssertNoSecretSpellings: a secret with a quote and a backslash is
// found however the reply spells it.
func TestAssertNoSecretSpellings(t *testing.T) {
	const secret = `p"w\d @x`
	for name, errText := range map[string]string{
		"raw":            "login " + secret,
		"%q":             fmt.Sprintf("parse %q", "redis://:"+secret+"@h"),
		"percent, query": "?password=p%22w%5Cd+%40x",
		"percent, path":  "/p%22w%5Cd%20@x",
	} {
		r := &recorder{TB: t}
		receivertest.AssertNoSecret(r, signal.Reply{Name: "db", Data: map[string]any{"error": errText}}, secret)
		assert.Positive(t, r.failures, "%s: %s", name, errText)
	}
	r := &recorder{TB: t}
	receivertest.AssertNoSecret(r, signal.Reply{Name: "db", Data: map[string]any{"error": "login xxxxx"}}, secret)
	assert.Zero(t, r.failures)
}
