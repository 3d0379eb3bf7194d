// Command heartbeat probes heartbeat endpoints from inside a container, for
// Kubernetes exec probes and Docker HEALTHCHECK in images without curl:
//
//	heartbeat probe [-timeout 1s] [-header Key:value]... URL
//
// It exits 0 when URL answers 2xx, 1 when it answers another status
// (printing the failing checks, one "name: error" per line), and 2 when it
// does not answer or is used wrongly. See package healthcheck, which a
// service binary can embed as a subcommand instead.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/oarepo/heartbeat/healthcheck"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage: heartbeat probe [-timeout 1s] [-header Key:value]... URL

Exit codes: 0 the URL answered 2xx; 1 it answered another status (the failing
checks are printed); 2 it did not answer, or a usage error.
`

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return healthcheck.ExitError
	}
	switch args[0] {
	case "probe":
		return healthcheck.Main(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stderr, usage)
		return healthcheck.ExitError
	default:
		fmt.Fprintf(stderr, "heartbeat: unknown command %q\n\n%s", args[0], usage)
		return healthcheck.ExitError
	}
}
