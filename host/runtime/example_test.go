package runtime_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/fnhost/fnhost/host"
	"github.com/fnhost/fnhost/host/runtime"
)

// Compile a module once, give it a function's limits, and invoke it. The
// same Invoke serves HTTP triggers, InvokeFunction, async jobs and the
// benchmarks.
func Example() {
	ctx := context.Background()
	rt, err := runtime.New(ctx, runtime.Config{CacheDir: os.TempDir() + "/fnhost-example-cache"})
	if err != nil {
		log.Fatal(err)
	}
	defer rt.Close(ctx)

	wasm, err := os.ReadFile("../../guests/dist/hello-c.wasm") // built by `make guests`
	if err != nil {
		log.Fatal(err)
	}
	mod, err := rt.Compile(ctx, wasm)
	if err != nil {
		log.Fatal(err)
	}
	fn, err := rt.NewFunction(mod, runtime.FunctionConfig{
		Service: "demo", Function: "hello", MemoryMB: 64, Timeout: time.Second,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer fn.Close(ctx)

	req := &host.Request{RequestID: "r-1", Method: []byte("GET"), Path: []byte("/"), ClientIP: []byte("127.0.0.1")}
	var res host.Response // reuse one Response per worker: warm calls then allocate nothing
	for i := 0; i < 2; i++ {
		if err := fn.Invoke(ctx, req, &res); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%d %s cold=%v\n", res.Status, res.Body, res.Meter.Cold)
	}
	// Output:
	// 200 hello world cold=true
	// 200 hello world cold=false
}

// A failed invocation is a *host.Error whose Kind the HTTP layer maps to a
// status code.
func ExampleFunction_Invoke_error() {
	ctx := context.Background()
	rt, err := runtime.New(ctx, runtime.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer rt.Close(ctx)
	wasm, err := os.ReadFile("../../guests/dist/loop.wasm")
	if err != nil {
		log.Fatal(err)
	}
	mod, err := rt.Compile(ctx, wasm)
	if err != nil {
		log.Fatal(err)
	}
	fn, err := rt.NewFunction(mod, runtime.FunctionConfig{Timeout: 50 * time.Millisecond})
	if err != nil {
		log.Fatal(err)
	}
	var res host.Response
	err = fn.Invoke(ctx, &host.Request{Method: []byte("GET"), Path: []byte("/")}, &res)
	fmt.Println(host.ErrorKind(err))
	// Output: timeout
}
