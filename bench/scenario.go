package bench

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"
)

// Scenario is a set of identical checks subscribed to the readiness probe.
type Scenario struct {
	// Name identifies the scenario in benchmark names and tables.
	Name string
	// Checks is how many checks are subscribed.
	Checks int
	// Delay is how long each check takes; zero makes it instant.
	Delay time.Duration
}

// Scenarios are the rows of the in-process and loopback tables.
var Scenarios = []Scenario{
	{Name: "0-checks", Checks: 0},
	{Name: "10-instant", Checks: 10},
	{Name: "100-instant", Checks: 100},
	{Name: "10x5ms", Checks: 10, Delay: 5 * time.Millisecond},
	{Name: "50x5ms", Checks: 50, Delay: 5 * time.Millisecond},
}

// Backend counts the calls the checks make, as a database would count the
// queries it serves.
type Backend struct {
	calls atomic.Int64
}

// Calls returns how many checks have started so far.
func (b *Backend) Calls() int64 { return b.calls.Load() }

// Check returns a check that takes d, or less if its context ends first.
func (b *Backend) Check(d time.Duration) CheckFunc {
	return func(ctx context.Context) error {
		b.calls.Add(1)
		if d <= 0 {
			return nil
		}
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("check: %w", ctx.Err())
		}
	}
}

// Hang returns a check that ignores its context and returns only when
// release is closed, as a driver stuck in a read without a deadline does.
func (b *Backend) Hang(release <-chan struct{}) CheckFunc {
	return func(context.Context) error {
		b.calls.Add(1)
		<-release
		return nil
	}
}

// Setup returns the setup of the scenario with its checks counted by b.
func (sc Scenario) Setup(b *Backend) Setup {
	checks := make([]CheckFunc, sc.Checks)
	for i := range checks {
		checks[i] = b.Check(sc.Delay)
	}
	return Setup{Checks: checks}
}
