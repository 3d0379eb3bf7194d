package testnet_test

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/oarepo/heartbeat/internal/testnet"
)

func ExampleBlackHole() {
	t := &testing.T{} // in a test, the test's own t
	addr := testnet.BlackHole(t)

	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	_, err = c.Read(make([]byte, 1))
	fmt.Println("accepted, then silence:", err.(net.Error).Timeout())
	// Output: accepted, then silence: true
}
