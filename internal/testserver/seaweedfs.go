package testserver

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// SeaweedFS starts a private SeaweedFS server, `weed server` with its S3
// gateway, that accepts one identity, accessKey with secretKey, and stops
// it when the test ends. Addr is the S3 endpoint. It takes a few seconds to
// start and three to stop, so tests that can share one should.
func SeaweedFS(t testing.TB, accessKey, secretKey string) *Server {
	t.Helper()
	return start(t, "SeaweedFS", func() (*Server, error) { return StartSeaweedFS(accessKey, secretKey) })
}

// StartSeaweedFS is SeaweedFS without a test: the caller must Close the
// server. It returns once the S3 gateway answers, when signed requests
// already succeed.
func StartSeaweedFS(accessKey, secretKey string) (*Server, error) {
	bin := weedBinary()
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("%w: no weed at %s (build it with bash .ci/seaweedfs.sh, or set HEARTBEAT_WEED): %v",
			ErrNotInstalled, bin, err)
	}
	dir, err := os.MkdirTemp("", "heartbeat-weed-")
	if err != nil {
		return nil, err
	}
	s, err := startWeed(bin, dir, accessKey, secretKey)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

func startWeed(bin, dir, accessKey, secretKey string) (*Server, error) {
	identities, _ := json.Marshal(map[string]any{"identities": []any{map[string]any{
		"name":        "heartbeat",
		"credentials": []any{map[string]string{"accessKey": accessKey, "secretKey": secretKey}},
		"actions":     []string{"Admin", "Read", "Write", "List", "Tagging"},
	}}})
	config := filepath.Join(dir, "s3.json")
	if err := os.WriteFile(config, identities, 0o600); err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		return nil, err
	}
	var grpcPorts []string
	s, err := listen(8, func(p []string) *exec.Cmd {
		grpcPorts = []string{p[1], p[3], p[5], p[7]}
		return command(nil, dir, bin, "server",
			"-dir="+data,
			"-ip=127.0.0.1", "-ip.bind=127.0.0.1",
			"-s3", "-s3.port="+p[0], "-s3.port.grpc="+p[1],
			"-master.port="+p[2], "-master.port.grpc="+p[3],
			"-volume.port="+p[4], "-volume.port.grpc="+p[5],
			"-filer.port="+p[6], "-filer.port.grpc="+p[7],
			"-s3.config="+config,
			// Off, as they would listen on fixed ports.
			"-s3.port.iceberg=0", "-s3.port.lance=0",
			"-filer.localSocket="+filepath.Join(dir, "filer.sock"),
			"-s3.localSocket="+filepath.Join(dir, "s3.sock"),
			"-volume.preStopSeconds=0", "-master.volumeSizeLimitMB=64", "-volume.max=4",
		)
	}, "Start Seaweed S3 API Server", dir)
	if err != nil {
		return nil, err
	}
	s.URL = "http://" + s.Addr
	s.stopWait = 3 * time.Second
	// weed also serves gRPC on a socket in /tmp named by the port, which
	// a killed server leaves behind.
	for i, service := range []string{"s3", "master", "volume", "filer"} {
		s.leftovers = append(s.leftovers, fmt.Sprintf("/tmp/seaweedfs-%s-grpc-%s.sock", service, grpcPorts[i]))
	}
	// The line above is logged just before the gateway listens.
	if err := s.waitHTTP(); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// waitHTTP waits until the server answers an HTTP request at its URL, with
// any status: SeaweedFS refuses an unsigned one.
func (s *Server) waitHTTP() error {
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 2 * time.Second}
	deadline := time.Now().Add(StartTimeout)
	for {
		resp, err := c.Get(s.URL)
		if err == nil {
			_ = resp.Body.Close()
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("weed exited before it answered HTTP; its log ends:\n%s", tail(s.Log(), 2000))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("weed did not answer HTTP within %v (%w); its log ends:\n%s", StartTimeout, err, tail(s.Log(), 2000))
		}
	}
}

// weedBinary is where .ci/seaweedfs.sh puts SeaweedFS's weed:
// $HEARTBEAT_WEED, else weed in $HEARTBEAT_CACHE, else in
// ~/.cache/heartbeat.
func weedBinary() string {
	if p := os.Getenv("HEARTBEAT_WEED"); p != "" {
		return p
	}
	cache := os.Getenv("HEARTBEAT_CACHE")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "weed"
		}
		cache = filepath.Join(home, ".cache", "heartbeat")
	}
	return filepath.Join(cache, "weed")
}

// tail is the last n bytes of a log.
func tail(log string, n int) string {
	if len(log) > n {
		return "…" + log[len(log)-n:]
	}
	return log
}
