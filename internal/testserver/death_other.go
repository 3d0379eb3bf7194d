//go:build unix && !linux

package testserver

import "syscall"

// deathSignal does nothing where the kernel has no parent-death signal: a
// killed test binary may leave its server running.
func deathSignal(*syscall.SysProcAttr) {}
