package testnet_test

import (
	"bufio"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oarepo/heartbeat/internal/testnet"
)

// echo starts a line echo server, the smallest upstream to proxy to.
func echo(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if _, err := c.Write([]byte(line)); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func roundTrip(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("ping\n")); err != nil {
		return err
	}
	_, err = bufio.NewReader(c).ReadString('\n')
	return err
}

func TestProxyCutRestore(t *testing.T) {
	p := testnet.NewProxy(t, echo(t))
	require.NoError(t, roundTrip(p.Addr()))

	// An open connection is dropped by Cut, and new ones are refused.
	c, err := net.Dial("tcp", p.Addr())
	require.NoError(t, err)
	defer c.Close()
	p.Cut()
	_ = c.SetReadDeadline(time.Now().Add(time.Second))
	_, err = c.Read(make([]byte, 1))
	assert.Error(t, err)
	assert.Error(t, roundTrip(p.Addr()))

	require.NoError(t, p.Restore())
	assert.NoError(t, roundTrip(p.Addr()))
}

func TestDeadAddr(t *testing.T) {
	_, err := net.DialTimeout("tcp", testnet.DeadAddr(t), time.Second)
	assert.ErrorContains(t, err, "refused")
}

func TestBlackHole(t *testing.T) {
	c, err := net.DialTimeout("tcp", testnet.BlackHole(t), time.Second)
	require.NoError(t, err)
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	_, err = c.Read(make([]byte, 1))
	var ne net.Error
	require.ErrorAs(t, err, &ne)
	assert.True(t, ne.Timeout(), "a black hole answers nothing: %v", err)
}
