package drain_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/oarepo/heartbeat/drain"
	"github.com/oarepo/heartbeat/httpapi"
	"github.com/oarepo/heartbeat/signal"
)

// A service that, on SIGTERM, fails readiness at once, keeps serving for 5 s
// while load balancers stop routing to it, then shuts down and waits for the
// requests in flight.
func ExampleDrain_Serve() {
	bus := signal.NewBus()
	d := &drain.Drain{Delay: 5 * time.Second, Logger: slog.Default()}
	d.Subscribe(bus)
	srv := &http.Server{Handler: httpapi.Router(bus), ReadHeaderTimeout: 5 * time.Second}

	ln, err := net.Listen("tcp", ":8080")
	if err != nil {
		log.Fatal(err)
	}
	if err := d.Serve(context.Background(), srv, ln); err != nil {
		log.Fatal(err)
	}
}

// With a server loop of your own, call Shutdown where you would call
// srv.Shutdown.
func ExampleDrain_Shutdown() {
	d := &drain.Drain{Delay: 5 * time.Second}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second}
	// … on SIGTERM:
	if err := d.Shutdown(context.Background(), srv); err != nil {
		log.Print(err)
	}
}

func ExampleDrain_Check() {
	bus := signal.NewBus()
	d := &drain.Drain{}
	d.Subscribe(bus)
	fmt.Println(bus.Publish(context.Background(), signal.Readiness)[0].Status)
	d.Start("received terminated")
	r := bus.Publish(context.Background(), signal.Readiness)[0]
	fmt.Println(r.Name, r.Status, r.Data["error"])
	// Output:
	// true
	// shutdown false draining: received terminated
}
