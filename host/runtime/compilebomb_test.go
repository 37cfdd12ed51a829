package runtime

import (
	"bytes"
	"context"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/fnhost/fnhost/host/internal/prevalidate"
	pt "github.com/fnhost/fnhost/host/internal/prevalidate/prevalidatetest"
)

// TestBombCosts measures what the bombs cost wazero without
// pre-validation, and what the costliest module within the limits costs.
// It takes minutes and much memory, so it runs only with
// FNHOST_MEASURE_BOMBS=1; the figures in package prevalidate's comments
// and in prevalidatetest.Bomb.Cost come from it (2-core VM, wazero
// v1.12.0). Bombs that kill the process (the name section ones) are
// skipped. A compile still running after the cap is reported as such and
// left to run until the test process exits.
func TestBombCosts(t *testing.T) {
	if os.Getenv("FNHOST_MEASURE_BOMBS") == "" {
		t.Skip("set FNHOST_MEASURE_BOMBS=1 to measure (minutes, GBs of memory)")
	}
	const limit = 60 * time.Second
	measure := func(t *testing.T, wasm []byte) {
		ctx := context.Background()
		rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCoreFeatures(api.CoreFeaturesV2))
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		done := make(chan error, 1)
		start := time.Now()
		go func() {
			_, err := rt.CompileModule(ctx, wasm)
			done <- err
		}()
		select {
		case err := <-done:
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			t.Logf("%d bytes: compile %v, %d MB allocated, err = %v", len(wasm), time.Since(start).Round(time.Millisecond), (after.TotalAlloc-before.TotalAlloc)>>20, err)
			_ = rt.Close(ctx)
		case <-time.After(limit):
			t.Logf("%d bytes: compile still running after %v", len(wasm), limit)
		}
	}
	for _, bomb := range pt.Bombs() {
		if bomb.Limit == "" || strings.Contains(bomb.Cost, "fatal") || strings.HasPrefix(bomb.Limit, "Module") {
			continue
		}
		t.Run(bomb.Name, func(t *testing.T) { measure(t, bomb.Build()) })
	}
	t.Run("costliest accepted", func(t *testing.T) {
		wasm := costliestAccepted()
		if err := prevalidate.Check(wasm, prevalidate.Limits{}); err != nil {
			t.Fatal(err)
		}
		measure(t, wasm)
	})
}

// costliestAccepted is the slowest module to compile that we found within
// the default limits: functions of br_if (the costliest branch measured)
// filling the BranchCost budget. It took 10.2 s, as long as cmd/go
// built for wasip1 (28 MB) and well under Config.CompileTimeout.
func costliestAccepted() []byte {
	f := func(n int) []byte {
		c := append([]byte{0x02, 0x40}, bytes.Repeat([]byte{0x41, 0x00, 0x0d, 0x00}, n)...)
		return pt.Body(nil, append(c, 0x0b, 0x0b))
	}
	return pt.Module(3, [][]byte{f(19_999), f(19_999), f(14_140)}, 0)
}
