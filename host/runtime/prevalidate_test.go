package runtime

import (
	"context"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fnhost/fnhost/host"
	"github.com/fnhost/fnhost/host/internal/prevalidate"
	pt "github.com/fnhost/fnhost/host/internal/prevalidate/prevalidatetest"
)

// TestCompileRejectsBombs: Compile refuses every compile and decode bomb
// before wazero sees it (several would take minutes, and the name section
// ones would kill the process), quickly, with an invalid-module error that
// names the limit.
func TestCompileRejectsBombs(t *testing.T) {
	rt := testRuntime(t)
	for _, bomb := range pt.Bombs() {
		t.Run(bomb.Name, func(t *testing.T) {
			wasm := bomb.Build()
			start := time.Now()
			_, err := rt.Compile(context.Background(), wasm)
			took := time.Since(start)
			if err == nil {
				t.Fatal("compiled; want a rejection")
			}
			t.Logf("rejected in %v: %v", took, err)
			if took > 500*time.Millisecond {
				t.Errorf("rejection took %v, want < 500ms", took)
			}
			var he *host.Error
			if !errors.As(err, &he) || he.Kind != host.KindInvalidModule || he.Op != "runtime.Compile" {
				t.Fatalf("err = %#v, want a *host.Error of kind %v from runtime.Compile", err, host.KindInvalidModule)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("message spans lines: %q", msg)
			}
			var le *prevalidate.LimitError
			if bomb.Limit != "" {
				if !errors.As(err, &le) || le.Limit != bomb.Limit {
					t.Errorf("err = %v, want the %s limit", err, bomb.Limit)
				}
				if !strings.Contains(msg, "exceeds the limit of") {
					t.Errorf("message %q does not name the limit", msg)
				}
			} else if !strings.Contains(msg, "not a valid WebAssembly module") {
				t.Errorf("message %q: want it to say the module is not valid", msg)
			}
			rt.mu.Lock()
			_, cached := rt.compiled[sha256.Sum256(wasm)]
			rt.mu.Unlock()
			if cached {
				t.Error("the rejected module is in the compiled set")
			}
		})
	}
}

// TestCompileTimeout: a compile that passes Config.CompileTimeout is
// refused as an invalid module; its goroutine is counted until wazero
// returns, its result is closed, and nothing is cached.
func TestCompileTimeout(t *testing.T) {
	ctx := context.Background()
	rt, err := New(ctx, Config{CompileTimeout: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)
	wasm := guest(t, "hello-go") // about 0.6 s to compile
	for round := 0; round < 2; round++ {
		start := time.Now()
		_, err := rt.Compile(ctx, wasm)
		took := time.Since(start)
		if host.ErrorKind(err) != host.KindInvalidModule || !strings.Contains(err.Error(), "compilation took longer than 1ms") {
			t.Fatalf("round %d: err = %v, want an invalid-module error for the compile timeout", round, err)
		}
		// Generous: the rewrite before the compile is not under the
		// deadline, and round 0's abandoned compile still holds a CPU of
		// this 2-core machine while round 1 runs.
		if took > 3*time.Second {
			t.Errorf("round %d: Compile returned after %v; want it soon after the 1 ms deadline", round, took)
		}
		if running, total := rt.AbandonedCompiles(); running < 1 || total != int64(round+1) {
			t.Errorf("round %d: AbandonedCompiles = %d running, %d total; want >= 1, %d", round, running, total, round+1)
		}
		rt.mu.Lock()
		n := len(rt.compiled)
		rt.mu.Unlock()
		if n != 0 {
			t.Errorf("round %d: %d modules cached after a timeout", round, n)
		}
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		running, _ := rt.AbandonedCompiles()
		if running == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d abandoned compiles still running after 2 minutes", running)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestCompileTimeoutDefault: the zero Config gets the documented 30 s.
func TestCompileTimeoutDefault(t *testing.T) {
	if got := testRuntime(t).cfg.CompileTimeout; got != 30*time.Second {
		t.Errorf("CompileTimeout = %v, want 30s", got)
	}
}
