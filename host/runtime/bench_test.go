package runtime

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/fnhost/fnhost/host"
)

// Benchmarks for the runtime's hot and cold paths; `make bench` runs them.
// Targets (abi and runtime issue): warm invoke hello-c ≤ 2 µs, hello-go
// ≤ 3 µs; instantiate hello-c ≤ 50 µs; warm-cache compile of hello-go ≥ 15×
// faster than cold; a host call ≤ 150 ns.

// BenchmarkCompile compiles in a new Runtime each iteration, as a new
// process would: "cold" with an empty cache directory, "warm" with one a
// previous process filled.
func BenchmarkCompile(b *testing.B) {
	for _, name := range []string{"hello-c", "hello-go"} {
		wasm := guest(b, name)
		for _, warm := range []bool{false, true} {
			label := map[bool]string{false: "cold", true: "warm-cache"}[warm]
			b.Run(name+"/"+label, func(b *testing.B) {
				ctx := context.Background()
				warmDir := b.TempDir()
				if warm {
					rt, err := New(ctx, Config{CacheDir: warmDir})
					if err != nil {
						b.Fatal(err)
					}
					if _, err := rt.Compile(ctx, wasm); err != nil {
						b.Fatal(err)
					}
					_ = rt.Close(ctx)
				}
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					dir := warmDir
					if !warm {
						dir, _ = os.MkdirTemp(b.TempDir(), "cache")
					}
					rt, err := New(ctx, Config{CacheDir: dir})
					if err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
					if _, err := rt.Compile(ctx, wasm); err != nil {
						b.Fatal(err)
					}
					b.StopTimer()
					_ = rt.Close(ctx)
					b.StartTimer()
				}
			})
		}
	}
}

// BenchmarkInstantiate creates and closes one instance: instantiation,
// _initialize and the close (which is cheap; timing it separately would
// cost a stop-the-world per iteration in StopTimer).
func BenchmarkInstantiate(b *testing.B) {
	for _, name := range []string{"hello-wat", "hello-c", "hello-go"} {
		b.Run(name, func(b *testing.B) {
			f := newFunction(b, name, FunctionConfig{Timeout: time.Minute})
			var res host.Response
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				in, err := f.newInstance(context.Background(), &res, time.Now().Add(time.Minute))
				if err != nil {
					b.Fatal(err)
				}
				in.close(context.Background())
				res.Reset()
			}
		})
	}
}

// BenchmarkInvoke is the warm in-process invoke: pool take, request and
// response copying through the ABI, timeout enforcement, pool return.
func BenchmarkInvoke(b *testing.B) {
	for _, name := range []string{"hello-wat", "hello-c", "hello-go", "echo-c", "echo-go", "nethttp-go"} {
		b.Run(name, func(b *testing.B) {
			f := newFunction(b, name, FunctionConfig{})
			req := echoRequest()
			if name == "nethttp-go" {
				req = getRequest("/users/42")
			}
			var res host.Response
			if err := f.Invoke(context.Background(), req, &res); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := f.Invoke(context.Background(), req, &res); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkInvokeParallel is the warm invoke from GOMAXPROCS goroutines,
// the pool shared.
func BenchmarkInvokeParallel(b *testing.B) {
	for _, name := range []string{"hello-c", "hello-go"} {
		b.Run(name, func(b *testing.B) {
			f := newFunction(b, name, FunctionConfig{})
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				req := getRequest("/")
				var res host.Response
				for pb.Next() {
					if err := f.Invoke(context.Background(), req, &res); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkHostCall reports the cost of one ABI host call: hostcall makes
// 100 context_int calls, hostcall0 runs the same loop calling a local
// function; the difference over 100 is ns/hostcall.
func BenchmarkHostCall(b *testing.B) {
	with := newFunction(b, "hostcall", FunctionConfig{})
	without := newFunction(b, "hostcall0", FunctionConfig{})
	req := getRequest("/")
	var res host.Response
	run := func(f *Function, n int) time.Duration {
		start := time.Now()
		for i := 0; i < n; i++ {
			if err := f.Invoke(context.Background(), req, &res); err != nil {
				b.Fatal(err)
			}
		}
		return time.Since(start)
	}
	run(with, 10)
	run(without, 10)
	b.ResetTimer()
	tWith := run(with, b.N)
	tWithout := run(without, b.N)
	b.ReportMetric(float64(tWith-tWithout)/float64(b.N)/100, "ns/hostcall")
}
