package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/oarepo/heartbeat/internal/testenv"
)

// binary finds an installed program, PATH or the environment variable
// env: a skip locally when it is missing, a failure under CI=true.
func binary(t *testing.T, name, env string) string {
	t.Helper()
	if p := os.Getenv(env); p != "" {
		return p
	}
	p, err := exec.LookPath(name)
	if err != nil {
		testenv.Unavailable(t, "%s is not installed (Debian package prometheus, or set %s): %v", name, env, err)
	}
	return p
}

// freeAddr returns a loopback address nothing listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// promServer is a real Prometheus started by a test.
type promServer struct {
	url string
}

// startPrometheus runs Debian's prometheus on a free loopback port with a
// temporary configuration and data directory: every target of jobs (job
// name to host:port) scraped every second, rules evaluated every second.
// The server is stopped when the test ends and its log shown if it failed.
func startPrometheus(t *testing.T, jobs map[string]string, ruleFiles ...string) *promServer {
	t.Helper()
	bin := binary(t, "prometheus", "HEARTBEAT_PROMETHEUS")
	dir := t.TempDir()

	var cfg strings.Builder
	cfg.WriteString("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n")
	if len(ruleFiles) > 0 {
		cfg.WriteString("rule_files:\n")
		for _, f := range ruleFiles {
			abs, err := filepath.Abs(f)
			require.NoError(t, err)
			fmt.Fprintf(&cfg, "  - %q\n", abs)
		}
	}
	cfg.WriteString("scrape_configs:\n")
	for job, target := range jobs {
		fmt.Fprintf(&cfg, "  - job_name: %q\n    static_configs:\n      - targets: [%q]\n", job, target)
	}
	config := filepath.Join(dir, "prometheus.yml")
	require.NoError(t, os.WriteFile(config, []byte(cfg.String()), 0o600))

	addr := freeAddr(t)
	logFile, err := os.Create(filepath.Join(dir, "prometheus.log"))
	require.NoError(t, err)
	cmd := exec.Command(bin,
		"--config.file="+config,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
		"--log.level=warn")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{}
	deathSignal(cmd.SysProcAttr)
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		logFile.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logFile.Name())
			t.Logf("prometheus log:\n%s", b)
		}
	})

	p := &promServer{url: "http://" + addr}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(p.url + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		select {
		case err := <-exited:
			b, _ := os.ReadFile(logFile.Name())
			t.Fatalf("prometheus exited with %v before it was ready:\n%s", err, b)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus was not ready on %s within 30s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sample is one series of an instant vector.
type sample struct {
	Metric map[string]string
	Value  float64
}

// api calls a GET endpoint of the HTTP API and decodes its data into out,
// returning the API's own error, if any.
func (p *promServer) api(path string, params url.Values, out any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url+path+"?"+params.Encode(), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var body struct {
		Status    string          `json:"status"`
		Data      json.RawMessage `json:"data"`
		ErrorType string          `json:"errorType"`
		Error     string          `json:"error"`
		Warnings  []string        `json:"warnings"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return fmt.Errorf("GET %s: HTTP %d, %w", path, resp.StatusCode, err)
	}
	if body.Status != "success" {
		return fmt.Errorf("GET %s %v: %s: %s", path, params, body.ErrorType, body.Error)
	}
	if len(body.Warnings) > 0 {
		return fmt.Errorf("GET %s %v: warnings %v", path, params, body.Warnings)
	}
	return json.Unmarshal(body.Data, out)
}

// query runs an instant PromQL query. A result that is not a vector (a
// scalar) comes back as one sample without labels.
func (p *promServer) query(expr string) ([]sample, error) {
	var data struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	}
	if err := p.api("/api/v1/query", url.Values{"query": {expr}}, &data); err != nil {
		return nil, err
	}
	parse := func(v [2]any) (float64, error) {
		s, _ := v[1].(string)
		return strconv.ParseFloat(s, 64)
	}
	switch data.ResultType {
	case "vector":
		var raw []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		}
		if err := json.Unmarshal(data.Result, &raw); err != nil {
			return nil, err
		}
		out := make([]sample, len(raw))
		for i, r := range raw {
			v, err := parse(r.Value)
			if err != nil {
				return nil, fmt.Errorf("%s: value %v: %w", expr, r.Value, err)
			}
			out[i] = sample{Metric: r.Metric, Value: v}
		}
		return out, nil
	case "scalar":
		var raw [2]any
		if err := json.Unmarshal(data.Result, &raw); err != nil {
			return nil, err
		}
		v, err := parse(raw)
		return []sample{{Value: v}}, err
	default:
		return nil, fmt.Errorf("%s: result type %q", expr, data.ResultType)
	}
}

// value returns the value of a query that must yield exactly one series,
// or an error that says what came back instead.
func (p *promServer) value(expr string) (float64, error) {
	s, err := p.query(expr)
	if err != nil {
		return 0, err
	}
	if len(s) != 1 {
		return 0, fmt.Errorf("%s: %d series, want 1: %v", expr, len(s), s)
	}
	return s[0].Value, nil
}

// waitValue waits until expr yields one series whose value satisfies ok,
// failing the test with the last answer after timeout.
func (p *promServer) waitValue(t *testing.T, expr string, ok func(float64) bool, timeout time.Duration, what string) float64 {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		v, err := p.value(expr)
		if err == nil && ok(v) {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s did not come within %v: value %v, error %v", what, expr, timeout, v, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func equals(want float64) func(float64) bool  { return func(v float64) bool { return v == want } }
func atLeast(want float64) func(float64) bool { return func(v float64) bool { return v >= want } }
