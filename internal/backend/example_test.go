package backend_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/oarepo/heartbeat/internal/backend"
)

func ExampleFlight_Do() {
	var f backend.Flight[string]
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()

	// A client call that ignores its context: Do answers by the deadline
	// anyway and leaves the call to finish on its own.
	_, err := f.Do(ctx, func(context.Context) (string, error) {
		time.Sleep(200 * time.Millisecond)
		return "PONG", nil
	})
	fmt.Println(errors.Is(err, context.DeadlineExceeded), strings.HasPrefix(err.Error(), "timed out after "))
	// Output: true true
}
