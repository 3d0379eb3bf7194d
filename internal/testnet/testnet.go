// Package testnet makes network faults for tests without touching the real
// servers, which other packages' tests use at the same time: a port where
// nothing listens, a server that accepts and never answers, and a proxy
// whose link to the real server can be cut and restored on the same port.
package testnet

import (
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// DeadAddr returns a 127.0.0.1 address where nothing listens: it opens a
// listener on a free port and closes it, so a dial gets "connection
// refused" at once. Another process could take the port in between, which is
// unlikely enough for tests.
func DeadAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testnet: listen: %v", err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// BlackHole returns the address of a server that accepts connections and
// never sends a byte: the shape of a hung backend or a dropped route after
// the handshake. Its connections stay open until the test ends.
func BlackHole(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testnet: listen: %v", err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
		done  = make(chan struct{})
	)
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return ln.Addr().String()
}

// Proxy forwards TCP connections from its own address to a target server.
// Cut drops every connection and stops listening, as a restarted or
// unreachable server would look to a client; Restore listens again on the
// same port, so a client that keeps its address can recover.
type Proxy struct {
	target string
	addr   string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// NewProxy starts a proxy to target on a free 127.0.0.1 port. It is closed
// when the test ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testnet: listen: %v", err)
	}
	p := &Proxy{target: target, addr: ln.Addr().String(), conns: map[net.Conn]struct{}{}}
	p.serve(ln)
	t.Cleanup(func() {
		p.Cut()
		p.wg.Wait()
	})
	return p
}

// Addr is the host:port clients should dial instead of the target.
func (p *Proxy) Addr() string { return p.addr }

// Cut closes the listener and every open connection in both directions.
// Until Restore, dials to Addr are refused.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		_ = c.Close()
		delete(p.conns, c)
	}
}

// Restore listens on Addr again. The port was just released by Cut, so it
// retries for a short while in case the kernel has not let go of it yet.
func (p *Proxy) Restore() error {
	var (
		ln  net.Listener
		err error
	)
	for range 50 {
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			p.serve(ln)
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return err
}

func (p *Proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				p.forward(c)
			}()
		}
	}()
}

// forward copies bytes both ways between the client c and a fresh
// connection to the target, until either side closes or Cut runs.
func (p *Proxy) forward(c net.Conn) {
	up, err := net.DialTimeout("tcp", p.target, 2*time.Second)
	if err != nil {
		_ = c.Close()
		return
	}
	if !p.track(c, up) {
		return
	}
	var once sync.Once
	closeBoth := func() {
		once.Do(func() {
			_ = c.Close()
			_ = up.Close()
			p.untrack(c, up)
		})
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); copyThenClose(up, c, closeBoth) }()
	go func() { defer wg.Done(); copyThenClose(c, up, closeBoth) }()
	wg.Wait()
}

// track registers the pair for Cut. It refuses, closing both, when Cut ran
// while the upstream dial was in flight.
func (p *Proxy) track(conns ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		for _, c := range conns {
			_ = c.Close()
		}
		return false
	}
	for _, c := range conns {
		p.conns[c] = struct{}{}
	}
	return true
}

func (p *Proxy) untrack(conns ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range conns {
		delete(p.conns, c)
	}
}

// copyThenClose copies until src ends, then closes the pair: an error (a
// reset, a closed connection after Cut) ends it the same way EOF does.
func copyThenClose(dst io.Writer, src io.Reader, closeBoth func()) {
	_, _ = io.Copy(dst, src)
	closeBoth()
}
