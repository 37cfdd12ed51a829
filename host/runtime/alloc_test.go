//go:build !race

package runtime

import (
	"context"
	"testing"

	"github.com/fnhost/fnhost/host"
)

// TestWarmInvokeAllocs: a warm invoke allocates nothing on the host: pool
// take and return, deadline timer, host functions, request and response
// copying (into a reused Response) included.
func TestWarmInvokeAllocs(t *testing.T) {
	req := echoRequest()
	for _, name := range []string{"hello-wat", "hello-c", "hostcall", "echo-c", "hello-go", "echo-go"} {
		t.Run(name, func(t *testing.T) {
			f := newFunction(t, name, FunctionConfig{})
			var res host.Response
			invoke := func() {
				if err := f.Invoke(context.Background(), req, &res); err != nil {
					t.Fatal(err)
				}
			}
			for i := 0; i < 10; i++ {
				invoke() // warm the pool and grow res's buffers
			}
			if got := testing.AllocsPerRun(200, invoke); got != 0 {
				t.Errorf("warm invoke allocates %.1f times per call, want 0", got)
			}
		})
	}
}
