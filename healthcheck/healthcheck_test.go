package healthcheck

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func server(t *testing.T, code int, contentType, body string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(code)
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// refusedURL is a URL on a port nothing listens on.
func refusedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return "http://" + addr + "/.well-known/heartbeat/readiness"
}

func hungURL(t *testing.T) string {
	t.Helper()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	return srv.URL
}

func command(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = Main(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestCommand(t *testing.T) {
	failing := `{"status":false,"checks":{"db":{"status":false,"error":"connection refused"},` +
		`"cache":{"status":true},"search":{"status":false,"message":"red\ncluster"},"queue":{"status":false}}}`
	cases := []struct {
		name       string
		args       func(t *testing.T) []string
		code       int
		stdout     string
		stderrHas  string
		fastEnough time.Duration
	}{
		{"2xx passes quietly", func(t *testing.T) []string {
			return []string{server(t, 200, "application/json", `{"status":true,"checks":{}}`).URL}
		}, ExitPass, "", "", 0},
		{"204 passes", func(t *testing.T) []string { return []string{server(t, 204, "text/plain", "").URL} }, ExitPass, "", "", 0},
		{"500 prints failing checks in body order", func(t *testing.T) []string {
			return []string{server(t, 500, "application/json", failing).URL}
		}, ExitFail, "db: connection refused\nsearch: red cluster\nqueue: failed\n", "", 0},
		{"non-JSON failure prints the status and the body", func(t *testing.T) []string {
			return []string{server(t, 502, "text/html", "<html>Bad Gateway</html>").URL}
		}, ExitFail, "HTTP 502 Bad Gateway: <html>Bad Gateway</html>\n", "", 0},
		{"a JSON error answer prints its error", func(t *testing.T) []string {
			return []string{server(t, 404, "application/json", `{"status":false,"error":"no heartbeat probe at /x"}`).URL}
		}, ExitFail, "HTTP 404 Not Found: no heartbeat probe at /x\n", "", 0},
		{"an empty failure says so", func(t *testing.T) []string { return []string{server(t, 503, "text/plain", "").URL} },
			ExitFail, "HTTP 503 Service Unavailable: (empty body)\n", "", 0},
		{"connection refused", func(t *testing.T) []string { return []string{refusedURL(t)} },
			ExitError, "", "connection refused", 0},
		{"timeout against a hung server", func(t *testing.T) []string { return []string{"-timeout", "100ms", hungURL(t)} },
			ExitError, "", "no answer within 100ms", 5 * time.Second},
		{"unknown flag", func(*testing.T) []string { return []string{"-nope", "http://x"} }, ExitError, "", "flag provided but not defined", 0},
		{"no URL", func(*testing.T) []string { return nil }, ExitError, "", "want exactly one URL, got 0", 0},
		{"two URLs", func(*testing.T) []string { return []string{"http://a", "http://b"} }, ExitError, "", "got 2", 0},
		{"-h is not a pass", func(*testing.T) []string { return []string{"-h"} }, ExitError, "", "usage:", 0},
		{"bad header", func(*testing.T) []string { return []string{"-header", "NoColon", "http://x"} }, ExitError, "", "want Key:value", 0},
		{"bad timeout", func(*testing.T) []string { return []string{"-timeout", "0s", "http://x"} }, ExitError, "", "must be positive", 0},
		{"not http", func(*testing.T) []string { return []string{"ftp://x/y"} }, ExitError, "", "want http:// or https://", 0},
		{"secrets in the URL are masked", func(t *testing.T) []string { return []string{"ftp://u:hunter22@x/"} },
			ExitError, "", "xxxxx", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args(t)
			start := time.Now()
			code, stdout, stderr := command(args...)
			assert.Equal(t, tc.code, code, "stdout %q stderr %q", stdout, stderr)
			assert.Equal(t, tc.stdout, stdout)
			if tc.stderrHas != "" {
				assert.Contains(t, stderr, tc.stderrHas)
			} else {
				assert.Empty(t, stderr)
			}
			assert.NotContains(t, stderr, "hunter22")
			if tc.fastEnough > 0 {
				assert.Less(t, time.Since(start), tc.fastEnough)
			}
		})
	}
}

func TestHeadersAreSent(t *testing.T) {
	var got http.Header
	var host string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, host = r.Header.Clone(), r.Host
	}))
	t.Cleanup(srv.Close)
	code, _, stderr := command("-header", "Authorization: Bearer abc", "-header", "X-Probe:kubelet", "-header", "Host: svc.local", srv.URL)
	require.Equal(t, ExitPass, code, stderr)
	assert.Equal(t, "Bearer abc", got.Get("Authorization"))
	assert.Equal(t, "kubelet", got.Get("X-Probe"))
	assert.Equal(t, "heartbeat-probe", got.Get("User-Agent"))
	assert.Equal(t, "svc.local", host)
}

func TestRun(t *testing.T) {
	srv := server(t, 500, "application/json", `{"status":false,"checks":{"db":{"status":false,"error":{"code":7}}}}`)
	res, err := Run(context.Background(), srv.URL, Options{})
	require.NoError(t, err)
	assert.False(t, res.Passed())
	assert.Equal(t, 500, res.StatusCode)
	assert.Equal(t, []Check{{Name: "db", Error: `{"code":7}`}}, res.Failing)

	_, err = Run(context.Background(), refusedURL(t), Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no answer")
}
