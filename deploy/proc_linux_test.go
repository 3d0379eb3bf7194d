package deploy

import "syscall"

// deathSignal kills a server a test started when the test binary dies
// before its cleanup ran (a timeout's panic, a kill).
func deathSignal(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }
