package goroutines_test

import (
	"fmt"

	"github.com/oarepo/heartbeat/internal/goroutines"
)

func ExampleSettled() {
	before := goroutines.Settled(5, 50)
	done := make(chan struct{})
	go func() { <-done }()
	fmt.Println(goroutines.Settled(5, 50) - before)
	close(done)
	// Output: 1
}
