package flight

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestCallersJoinOneRun(t *testing.T) {
	var g Group[int]
	var runs atomic.Int32
	release := make(chan struct{})
	fn := func(*Call[int]) int { runs.Add(1); <-release; return 7 }
	var wg sync.WaitGroup
	calls := make([]*Call[int], 50)
	for i := range calls {
		wg.Go(func() { calls[i], _ = g.Do(nil, fn) })
	}
	wg.Wait()
	close(release)
	for _, c := range calls {
		<-c.Done()
		assert.Same(t, calls[0], c)
		assert.Equal(t, 7, c.Val)
	}
	assert.Equal(t, int32(1), runs.Load())
	assert.Same(t, calls[0], g.Last())
}

func TestReuseDecidesOnTheLastRun(t *testing.T) {
	var g Group[int]
	n := 0
	fn := func(*Call[int]) int { n++; return n }
	first, how := g.Do(nil, fn)
	require.Equal(t, Started, how)
	<-first.Done()
	again, how := g.Do(func(last *Call[int]) bool { return last.Val == 1 }, fn)
	assert.Equal(t, Reused, how)
	assert.Same(t, first, again)
	fresh, how := g.Do(func(*Call[int]) bool { return false }, fn)
	assert.Equal(t, Started, how)
	<-fresh.Done()
	assert.Equal(t, 2, fresh.Val)
	assert.False(t, fresh.Ended.Before(fresh.Started))
}

func TestPanicAndGoexitBecomeFaults(t *testing.T) {
	g := Group[string]{Fault: func(c *Call[string]) string { return "fault: " + c.Err.Error() }}
	for _, tc := range []struct {
		fn   func(*Call[string]) string
		want string
	}{
		{func(*Call[string]) string { panic("boom") }, "fault: panic: boom"},
		{func(*Call[string]) string { runtime.Goexit(); return "" }, "fault: exited without returning (runtime.Goexit)"},
		{func(*Call[string]) string { panic(fmt.Errorf("wrapped %w", errors.ErrUnsupported)) }, "fault: panic: wrapped unsupported operation"},
	} {
		c, _ := g.Do(nil, tc.fn)
		<-c.Done()
		assert.Equal(t, tc.want, c.Val)
		var pe *PanicError
		assert.ErrorAs(t, c.Err, &pe)
	}
	c, _ := g.Do(nil, func(*Call[string]) string { return "fine after" })
	<-c.Done()
	assert.Equal(t, "fine after", c.Val)
	assert.NoError(t, c.Err)
}

func TestClaimOncePerRun(t *testing.T) {
	var g Group[int]
	c, _ := g.Do(nil, func(c *Call[int]) int { return 0 })
	<-c.Done()
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if c.Claim() {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int32(1), wins.Load())
}

func TestAWaiterThatGivesUpLeavesNothing(t *testing.T) {
	var g Group[int]
	release := make(chan struct{})
	c, _ := g.Do(nil, func(*Call[int]) int { <-release; return 1 })
	select {
	case <-c.Done():
		t.Fatal("not yet")
	case <-time.After(10 * time.Millisecond): // the caller gives up
	}
	joined, how := g.Do(nil, func(*Call[int]) int { return 2 })
	assert.Same(t, c, joined, "the next caller joins the run still under way")
	assert.Equal(t, Joined, how)
	assert.False(t, joined.Finished())
	close(release)
	<-joined.Done()
	assert.True(t, joined.Finished())
	assert.Equal(t, 1, joined.Val)
}

func ExampleGroup() {
	var g Group[string]
	c, how := g.Do(nil, func(*Call[string]) string { return "pong" })
	<-c.Done()
	fmt.Println(c.Val, how == Started)
	fresh := func(last *Call[string]) bool { return time.Since(last.Ended) < time.Second }
	c, how = g.Do(fresh, func(*Call[string]) string { return "not run" })
	fmt.Println(c.Val, how == Reused)
	// Output:
	// pong true
	// pong true
}
