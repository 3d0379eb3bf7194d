//go:build unix

package drain_test

import (
	"context"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oarepo/heartbeat/drain"
)

func TestServeDrainsOnSIGTERM(t *testing.T) {
	d := &drain.Drain{Delay: 200 * time.Millisecond}
	s := start(t, context.Background(), d)
	// Serve registers for the signal before it serves, so once a request is
	// answered a SIGTERM cannot kill the test binary.
	code, _ := get(t, s.url+"/.well-known/heartbeat/readiness")
	require.Equal(t, http.StatusOK, code)

	require.NoError(t, syscall.Kill(syscall.Getpid(), syscall.SIGTERM))
	require.Eventually(t, func() bool { return d.State() != nil }, 5*time.Second, time.Millisecond)
	assert.Equal(t, "received terminated", d.State().Reason)
	select {
	case err := <-s.served:
		assert.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after SIGTERM")
	}
}
