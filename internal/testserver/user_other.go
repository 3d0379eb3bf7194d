//go:build !unix

package testserver

import (
	"fmt"
	"runtime"
	"syscall"
)

type account struct{ uid, gid int }

func serverUser() (*account, error) {
	return nil, fmt.Errorf("%w: private servers are started on Unix only, not %s", ErrNotInstalled, runtime.GOOS)
}

func procAttr(*account) *syscall.SysProcAttr { return nil }
