package runtime

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/fnhost/fnhost/host"
)

// TestPoolHammer: many goroutines share small pools, healthy and failing
// functions side by side. Every call succeeds or fails with its own kind,
// no more instances than allowed ever exist, and no instance leaks.
func TestPoolHammer(t *testing.T) {
	const goroutines, calls, maxInstances = 16, 150, 3
	hello := newFunction(t, "hello-c", FunctionConfig{MaxInstances: maxInstances})
	counter := newFunction(t, "ctx-go", FunctionConfig{MaxInstances: maxInstances})
	trap := newFunction(t, "trap", FunctionConfig{MaxInstances: maxInstances})
	var wrong atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var res host.Response
			req := getRequest("/")
			for i := 0; i < calls; i++ {
				switch (g + i) % 3 {
				case 0:
					if err := hello.Invoke(context.Background(), req, &res); err != nil || string(res.Body) != "hello world" {
						t.Errorf("hello: %v %q", err, res.Body)
						wrong.Add(1)
					}
				case 1:
					if err := counter.Invoke(context.Background(), req, &res); err != nil || res.Status != 200 {
						t.Errorf("ctx: %v %d", err, res.Status)
						wrong.Add(1)
					}
				case 2:
					if err := trap.Invoke(context.Background(), req, &res); host.ErrorKind(err) != host.KindTrap {
						t.Errorf("trap: %v", err)
						wrong.Add(1)
					}
				}
				if wrong.Load() > 5 {
					return
				}
			}
		}()
	}
	wg.Wait()
	for name, f := range map[string]*Function{"hello": hello, "ctx": counter, "trap": trap} {
		if n := f.Idle(); n > maxInstances {
			t.Errorf("%s: %d idle instances, max %d", name, n, maxInstances)
		}
		if n := len(f.tokens); n != 0 {
			t.Errorf("%s: %d tokens still held", name, n)
		}
	}
	if trap.Idle() != 0 {
		t.Errorf("a trapped instance went back to the pool")
	}
}
