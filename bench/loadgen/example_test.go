package loadgen_test

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/fnhost/fnhost/bench/loadgen"
	"github.com/valyala/fasthttp"
)

func ExampleRun() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) { ctx.SetBodyString("hello") }}
	go srv.Serve(ln)
	defer srv.Shutdown()

	res, err := loadgen.Run(context.Background(), loadgen.Config{
		URL:         "http://" + ln.Addr().String() + "/",
		Concurrency: 4,
		Requests:    1000,
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Requests, "requests,", res.Errors.Total(), "errors, status", res.Status)
	fmt.Println("p99 within max:", res.Latency.P99 <= res.Latency.Max)
	// Output:
	// 1000 requests, 0 errors, status map[200:1000]
	// p99 within max: true
}

func ExampleHistogram() {
	var h loadgen.Histogram
	for i := 1; i <= 1000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	fmt.Println(h.Count(), h.Min(), h.Max(), h.Mean())
	// Quantiles are within 0.39% of the exact 500µs and 990µs.
	fmt.Println(h.Quantile(0.5).Round(time.Microsecond), h.Quantile(0.99).Round(time.Microsecond))
	// Output:
	// 1000 1µs 1ms 500.5µs
	// 501µs 989µs
}
