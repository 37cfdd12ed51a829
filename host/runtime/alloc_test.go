//go:build !race

package runtime

import (
	"context"
	"testing"

	"github.com/fnhost/fnhost/host"
)

// TestWarmInvokeAllocs: a warm invoke, host calls and request/response
// copying included, allocates nothing beyond what wazero itself allocates
// for one call of the same export. (With termination checks on, wazero
// v1.12 starts a watcher goroutine per call; that is the baseline.)
func TestWarmInvokeAllocs(t *testing.T) {
	req := echoRequest()
	for _, name := range []string{"hello-wat", "hello-c", "hostcall", "echo-c", "hello-go"} {
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
			got := testing.AllocsPerRun(200, invoke)

			// Baseline: the bare wazero call of the handler on an idle
			// instance (its host calls return ERR_STATE at once).
			f.mu.Lock()
			in := f.idle[len(f.idle)-1]
			f.mu.Unlock()
			base := testing.AllocsPerRun(200, func() {
				if err := in.handler.CallWithStack(in.callCtx, in.stack[:]); err != nil {
					t.Fatal(err)
				}
			})
			t.Logf("invoke %.0f allocs, bare wazero call %.0f", got, base)
			if got > base {
				t.Errorf("warm invoke allocates %.0f times per call, wazero's own call %.0f: the host path allocates", got, base)
			}
		})
	}
}
