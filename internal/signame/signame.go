// Package signame holds the rule that tells a probe's signal from a
// misspelling of one. Package signal panics on such a name in Subscribe and
// httpapi in Handler: receivers under it would never run, and a probe of it
// would pass for ever with no checks.
package signame

import (
	"fmt"
	"strings"
)

const prefix = "oarepo.probe."

// signals maps the words a probe is known by to its signal; the values are
// signal's constants, which signal cannot lend here without an import cycle.
var signals = map[string]string{
	"readiness": prefix + "readiness", "liveliness": prefix + "liveliness", "liveness": prefix + "liveliness",
	"startup": prefix + "startup", "environ": prefix + "environ",
}

// Misspelt returns an error when name is meant as a probe's signal but is
// not one: a probe's word in any case ("readiness", "Liveness"), or any name
// under "oarepo.probe." that is not exactly a probe's signal
// ("oarepo.probe.readines", "OAREPO.PROBE.READINESS"). Any other name is a
// signal of the application's own, and Misspelt returns nil for it.
func Misspelt(name string) error {
	lower := strings.ToLower(name)
	meant, word := signals[strings.TrimPrefix(lower, prefix)]
	switch {
	case name == meant || !word && !strings.HasPrefix(lower, prefix):
		return nil
	case word:
		return fmt.Errorf("no probe publishes the signal %q; did you mean %q?", name, meant)
	}
	return fmt.Errorf("no probe publishes the signal %q; use Readiness, Liveliness, Startup or Environ of package signal", name)
}
