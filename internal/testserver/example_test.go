package testserver_test

import (
	"bufio"
	"fmt"
	"net"

	"github.com/oarepo/heartbeat/internal/testserver"
)

// A test gets its own Redis with testserver.Redis(t), stopped when the test
// ends; StartRedis is the same for code that has no *testing.T.
func ExampleStartRedis() {
	s, err := testserver.StartRedis()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	c, err := net.Dial("tcp", s.Addr)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	fmt.Fprint(c, "PING\r\n")
	reply, _ := bufio.NewReader(c).ReadString('\n')
	fmt.Printf("%q\n", reply)
	// Output: "+PONG\r\n"
}
