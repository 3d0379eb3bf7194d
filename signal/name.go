package signal

import (
	"reflect"
	"runtime"
	"strings"
)

// funcName derives a receiver's name from its function, for a receiver that
// is not Named and has not replied yet: "github.com/x/db.Check" becomes
// "db.Check", a closure made by postgres.New becomes "postgres". The result
// is stable across runs of the same binary, which matters more here than
// being pretty.
func funcName(r Receiver) string {
	f := runtime.FuncForPC(reflect.ValueOf(r).Pointer())
	if f == nil {
		return "receiver"
	}
	name := f.Name()
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	// Closures are named after their enclosing function: drop ".func1",
	// ".gowrap2" and the like, then a constructor's ".New".
	for {
		i := strings.LastIndexByte(name, '.')
		if i < 0 {
			break
		}
		last := name[i+1:]
		if strings.HasPrefix(last, "func") || strings.HasPrefix(last, "gowrap") || isDigits(last) {
			name = name[:i]
			continue
		}
		break
	}
	name = strings.TrimSuffix(name, ".New")
	if name == "" {
		return "receiver"
	}
	return name
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
