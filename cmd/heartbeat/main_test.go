package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRunDispatches(t *testing.T) {
	var out, errOut bytes.Buffer
	assert.Equal(t, 2, run(nil, &out, &errOut))
	assert.Contains(t, errOut.String(), "usage: heartbeat probe")
	errOut.Reset()
	assert.Equal(t, 2, run([]string{"prboe", "http://x"}, &out, &errOut))
	assert.Contains(t, errOut.String(), `unknown command "prboe"`)
	assert.Equal(t, 2, run([]string{"help"}, &out, &errOut))
}

// TestBinaryExitCodes builds the real binary and runs it the way a kubelet
// exec probe does: the exit code is all it looks at.
func TestBinaryExitCodes(t *testing.T) {
	goBin, err := exec.LookPath("go")
	require.NoError(t, err, "the go command builds the binary under test")
	bin := filepath.Join(t.TempDir(), "heartbeat")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	build := exec.Command(goBin, "build", "-o", bin, ".")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ok" {
			fmt.Fprint(w, `{"status":true,"checks":{}}`)
			return
		}
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, `{"status":false,"checks":{"db":{"status":false,"error":"down"}}}`)
	}))
	t.Cleanup(srv.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	refused := "http://" + ln.Addr().String() + "/"
	require.NoError(t, ln.Close())

	cases := []struct {
		args   []string
		code   int
		stdout string
	}{
		{[]string{"probe", srv.URL + "/ok"}, 0, ""},
		{[]string{"probe", "-timeout", "2s", srv.URL + "/fail"}, 1, "db: down\n"},
		{[]string{"probe", refused}, 2, ""},
		{[]string{"probe"}, 2, ""},
		{[]string{"nonsense"}, 2, ""},
	}
	for _, tc := range cases {
		cmd := exec.Command(bin, tc.args...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			code = exit.ExitCode()
		} else {
			require.NoError(t, err)
		}
		assert.Equal(t, tc.code, code, "%v: stdout %q stderr %q", tc.args, stdout.String(), stderr.String())
		assert.Equal(t, tc.stdout, stdout.String(), "%v", tc.args)
	}
}
