// Package healthcheck probes a heartbeat endpoint from the command line, for
// Kubernetes exec probes and Docker HEALTHCHECK in images that have no curl
// or wget (distroless, scratch).
//
// Main is the whole command, so a service binary can embed it as a
// subcommand and need no second binary in its image:
//
//	if len(os.Args) > 1 && os.Args[1] == "healthcheck" {
//		os.Exit(healthcheck.Main(os.Args[2:], os.Stdout, os.Stderr))
//	}
//
// and the image's probe becomes
// ["/app", "healthcheck", "http://127.0.0.1:8080/.well-known/heartbeat/liveness"].
// cmd/heartbeat is the same command as a binary of its own: heartbeat probe.
//
// Exit codes (ExitPass, ExitFail, ExitError):
//
//	0  the endpoint answered 2xx
//	1  the endpoint answered with another status; the failing checks of a
//	   heartbeat answer are printed, one "name: error" per line
//	2  no answer (connection refused, timeout, TLS, bad URL) or a usage
//	   error (unknown flag, no URL, -h)
//
// Kubernetes and Docker treat every non-zero code as a failure; the codes
// tell a person reading the output whether the service answered "not ok" or
// did not answer at all.
package healthcheck

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/oarepo/heartbeat/redact"
)

// The exit codes of Main.
const (
	// ExitPass: the endpoint answered with a 2xx status.
	ExitPass = 0
	// ExitFail: the endpoint answered with any other status.
	ExitFail = 1
	// ExitError: no answer, or the command was used wrongly.
	ExitError = 2
)

// DefaultTimeout is the probe's timeout when Options.Timeout is zero. It is
// above heartbeat's 800 ms receiver deadline, so a slow check is answered
// with its reason instead of cut off, and at the kubelet's default probe
// timeout of one second.
const DefaultTimeout = time.Second

// MaxBody is how much of an answer Run reads. Heartbeat answers are a few
// hundred bytes; the limit keeps a wrong URL (a large page) cheap.
const MaxBody = 1 << 20

// Options configure Run. The zero Options are ready to use.
type Options struct {
	// Timeout bounds the whole request, from dialling to the last byte of
	// the body. Optional; zero means DefaultTimeout (1s).
	Timeout time.Duration
	// Header is sent with the request; a "Host" entry sets the Host
	// header. Optional.
	Header http.Header
	// Client sends the request. Optional; nil means a client of its own
	// that follows redirects as the kubelet does (up to 10) and uses the
	// proxy settings of the environment.
	Client *http.Client
}

// Check is one failed check of a heartbeat answer.
type Check struct {
	// Name is the check's name, the key in "checks".
	Name string
	// Error is the check's "error", else its "message" (the original
	// library's key), else "failed".
	Error string
}

// Result is an endpoint's answer.
type Result struct {
	// StatusCode is the HTTP status code, such as 500.
	StatusCode int
	// Status is the HTTP status line, such as "500 Internal Server Error".
	Status string
	// Body is the answer's body, at most MaxBody bytes of it.
	Body []byte
	// Failing are the failed checks of a heartbeat answer, in the order of
	// the body; empty when every check passed or the body is not one.
	Failing []Check
	// Error is the top-level "error" of a JSON answer, such as a 404's
	// "no heartbeat probe at …"; empty when there is none.
	Error string
}

// Passed reports whether the endpoint answered with a 2xx status.
func (r Result) Passed() bool {
	return r.StatusCode >= 200 && r.StatusCode < 300
}

// Run sends GET rawURL and reads the answer. Its error is non-nil only when
// there is no answer to read: a bad URL, a connection that failed, a
// timeout. Any HTTP status is an answer, and a Result.
func Run(ctx context.Context, rawURL string, opts Options) (Result, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return Result{}, fmt.Errorf("bad URL: %s", redact.Error(err))
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Result{}, fmt.Errorf("bad URL %q: want http:// or https:// and a host", redact.String(rawURL))
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return Result{}, fmt.Errorf("bad request: %s", redact.Error(err))
	}
	req.Header.Set("User-Agent", "heartbeat-probe")
	req.Header.Set("Accept", "application/json")
	for k, vs := range opts.Header {
		if http.CanonicalHeaderKey(k) == "Host" && len(vs) > 0 {
			req.Host = vs[0]
			continue
		}
		req.Header.Del(k)
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	client := opts.Client
	if client == nil {
		client = defaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return Result{}, describe(err, timeout)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody))
	if err != nil {
		return Result{}, describe(err, timeout)
	}
	res := Result{StatusCode: resp.StatusCode, Status: resp.Status, Body: body}
	res.Failing, res.Error = parse(body)
	return res, nil
}

// defaultClient is shared so that repeated Runs in one process reuse
// connections; an exec probe makes one Run per process anyway.
var defaultClient = &http.Client{Transport: &http.Transport{Proxy: http.ProxyFromEnvironment}}

// describe turns a failed request into one line a person can act on, with
// any secret in the URL masked.
func describe(err error, timeout time.Duration) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("no answer within %v: %s", timeout, redact.Error(err))
	}
	return fmt.Errorf("no answer: %s", redact.Error(err))
}

// parse reads a heartbeat answer's failed checks, in the order of the body,
// and its top-level "error". Anything that is not such an answer yields
// nothing: the status code already says the probe failed.
func parse(body []byte) (failing []Check, topError string) {
	var top struct {
		Error  json.RawMessage `json:"error"`
		Checks json.RawMessage `json:"checks"`
	}
	if json.Unmarshal(body, &top) != nil {
		return nil, ""
	}
	topError = text(top.Error)
	dec := json.NewDecoder(bytes.NewReader(top.Checks))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, topError
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return failing, topError
		}
		name, _ := tok.(string)
		var c struct {
			Status  *bool           `json:"status"`
			Error   json.RawMessage `json:"error"`
			Message json.RawMessage `json:"message"`
		}
		if dec.Decode(&c) != nil {
			return failing, topError
		}
		if c.Status != nil && *c.Status {
			continue
		}
		reason := text(c.Error)
		if reason == "" {
			reason = text(c.Message)
		}
		if reason == "" {
			reason = "failed"
		}
		failing = append(failing, Check{Name: name, Error: reason})
	}
	return failing, topError
}

// text is a JSON value as text: a string as itself, anything else in its
// JSON spelling; "" for null or nothing.
func text(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

// headerFlag collects repeated -header "Key: value" flags.
type headerFlag struct{ h http.Header }

func (f *headerFlag) String() string { return "" }

func (f *headerFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, ":")
	k = strings.TrimSpace(k)
	if !ok || k == "" || strings.ContainsAny(k, " \t") {
		return fmt.Errorf("want Key:value, got %q", s)
	}
	if f.h == nil {
		f.h = http.Header{}
	}
	f.h.Add(k, strings.TrimSpace(v))
	return nil
}

// Main is the probe command: it parses args (flags, then the URL), probes
// the URL, prints what failed and returns the exit code (see the package
// documentation). Usage and connection errors go to stderr, failing checks
// to stdout; nothing is printed when the probe passes.
func Main(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("probe", flag.ContinueOnError)
	fs.SetOutput(stderr)
	timeout := fs.Duration("timeout", DefaultTimeout, "give up when there is no complete answer within this time")
	var header headerFlag
	fs.Var(&header, "header", "send this header, as Key:value (repeatable)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: probe [-timeout 1s] [-header Key:value]... URL\n\n"+
			"Exits 0 when URL answers 2xx, 1 when it answers another status (printing the\n"+
			"failing checks), 2 when it does not answer or on a usage error.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return ExitError // the flag package has printed the error and the usage
	}
	if fs.NArg() != 1 {
		fmt.Fprintf(stderr, "probe: want exactly one URL, got %d arguments\n", fs.NArg())
		fs.Usage()
		return ExitError
	}
	if *timeout <= 0 {
		fmt.Fprintf(stderr, "probe: -timeout must be positive, got %v\n", *timeout)
		return ExitError
	}

	res, err := Run(context.Background(), fs.Arg(0), Options{Timeout: *timeout, Header: header.h})
	if err != nil {
		fmt.Fprintf(stderr, "probe: %v\n", err)
		return ExitError
	}
	if res.Passed() {
		return ExitPass
	}
	for _, c := range res.Failing {
		fmt.Fprintf(stdout, "%s: %s\n", oneLine(c.Name), oneLine(c.Error))
	}
	if len(res.Failing) == 0 {
		why := res.Error
		if why == "" {
			why = snippet(res.Body)
		}
		fmt.Fprintf(stdout, "HTTP %s: %s\n", res.Status, oneLine(why))
	}
	return ExitFail
}

// oneLine keeps a check to one line of output however its text is made.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// snippet is the start of a body that is not a heartbeat answer, enough to
// recognise a proxy's error page.
func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "(empty body)"
	}
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
