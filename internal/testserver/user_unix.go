//go:build unix

package testserver

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
	"syscall"
)

// account is the system user a server runs as when it must not run as the
// current one.
type account struct{ uid, gid int }

// serverUser is nil, the current user, unless that is root, which
// PostgreSQL refuses: then the postgres system user that Debian's packages
// create.
func serverUser() (*account, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("%w: running as root, and no postgres user to run PostgreSQL as: %v", ErrNotInstalled, err)
	}
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return nil, err
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return nil, err
	}
	return &account{uid: uid, gid: gid}, nil
}

func procAttr(owner *account) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Setpgid: true}
	deathSignal(a)
	if owner != nil {
		a.Credential = &syscall.Credential{Uid: uint32(owner.uid), Gid: uint32(owner.gid), NoSetGroups: true}
	}
	return a
}
