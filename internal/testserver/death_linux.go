package testserver

import "syscall"

// deathSignal kills the server when the test binary dies before its
// cleanup ran (a timeout's panic, a kill): no server outlives its test.
func deathSignal(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }
