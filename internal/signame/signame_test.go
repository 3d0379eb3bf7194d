package signame_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/oarepo/heartbeat/internal/signame"
	"github.com/oarepo/heartbeat/signal"
)

func TestMisspelt(t *testing.T) {
	for _, name := range []string{signal.Readiness, signal.Liveliness, signal.Startup, signal.Environ, "myapp.ready", "", "ready"} {
		assert.NoError(t, signame.Misspelt(name), name)
	}
	for name, want := range map[string]string{
		"readiness":             `did you mean "oarepo.probe.readiness"?`,
		"Readiness":             `did you mean "oarepo.probe.readiness"?`,
		"liveness":              `did you mean "oarepo.probe.liveliness"?`,
		"OAREPO.PROBE.STARTUP":  `did you mean "oarepo.probe.startup"?`,
		"oarepo.probe.liveness": `did you mean "oarepo.probe.liveliness"?`,
		"oarepo.probe.readines": "use Readiness, Liveliness, Startup or Environ",
		"oarepo.probe.":         "use Readiness, Liveliness, Startup or Environ",
		"Oarepo.Probe.Custom":   "use Readiness, Liveliness, Startup or Environ",
	} {
		err := signame.Misspelt(name)
		if assert.Error(t, err, name) {
			assert.Contains(t, err.Error(), want, name)
			assert.Contains(t, err.Error(), fmt.Sprintf("%q", name), "the error names what was given")
		}
	}
}

func ExampleMisspelt() {
	fmt.Println(signame.Misspelt("readiness"))
	fmt.Println(signame.Misspelt(signal.Readiness))
	// Output:
	// no probe publishes the signal "readiness"; did you mean "oarepo.probe.readiness"?
	// <nil>
}
