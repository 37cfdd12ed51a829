package server

import (
	"net"
	"testing"
	"time"

	"github.com/fnhost/fnhost/host"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"
)

// triggerCtx prepares a RequestCtx for GET /2016-08-15/proxy/s/{fn}/.
func triggerCtx(fn string) *fasthttp.RequestCtx {
	var ctx fasthttp.RequestCtx
	var req fasthttp.Request
	req.SetRequestURI("/2016-08-15/proxy/s/" + fn + "/")
	req.Header.SetMethod("GET")
	req.Header.Set("Accept", "*/*")
	ctx.Init(&req, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4321}, nil)
	return &ctx
}

// BenchmarkHandler measures the trigger handler alone, without sockets.
func BenchmarkHandler(b *testing.B) {
	for _, guest := range []string{"hello-c", "hello-go"} {
		b.Run(guest, func(b *testing.B) {
			ts := startServer(b)
			ts.deploy("s", "hello", guest, host.Function{}, anonymous())
			h := ts.srv.Handler()
			ctx := triggerCtx("hello")
			h(ctx)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				ctx.Response.Reset()
				h(ctx)
			}
		})
	}
}

// BenchmarkHTTP compares, in one run, a raw fasthttp hello-world handler
// with fnhost serving hello guests through their triggers, both over an
// in-memory listener driven by a fasthttp client (so the network stack is
// the same and the ratio is the wasm layer's cost).
func BenchmarkHTTP(b *testing.B) {
	raw := func(ctx *fasthttp.RequestCtx) {
		ctx.SetContentType("text/plain")
		ctx.SetBodyString("hello world")
	}
	b.Run("raw-fasthttp", func(b *testing.B) { benchServe(b, raw, "/") })
	for _, guest := range []string{"hello-c", "hello-go"} {
		b.Run("fnhost-"+guest, func(b *testing.B) {
			ts := startServer(b)
			ts.deploy("s", "hello", guest, host.Function{}, anonymous())
			benchServe(b, ts.srv.Handler(), "/2016-08-15/proxy/s/hello/")
		})
	}
}

func benchServe(b *testing.B, h fasthttp.RequestHandler, path string) {
	ln := fasthttputil.NewInmemoryListener()
	srv := &fasthttp.Server{Handler: h}
	go srv.Serve(ln)
	defer srv.Shutdown()
	c := &fasthttp.Client{Dial: func(string) (net.Conn, error) { return ln.Dial() }, MaxConnsPerHost: 64}
	url := "http://fnhost" + path
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		req, res := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(req)
		defer fasthttp.ReleaseResponse(res)
		req.SetRequestURI(url)
		for pb.Next() {
			if err := c.Do(req, res); err != nil || res.StatusCode() != 200 || string(res.Body()) != "hello world" {
				b.Errorf("%v %d %q", err, res.StatusCode(), res.Body())
				return
			}
		}
	})
}

// BenchmarkAsync measures asynchronous invocations of hello-c through its
// trigger, with and without fsync before the 202: accepted/s is the rate of
// 202 answers to many concurrent clients (each job durably stored first),
// completed/s the rate at which the jobs then ran to Succeeded, measured
// from the first submission until the last job finished.
func BenchmarkAsync(b *testing.B) {
	for _, sync := range []bool{false, true} {
		name := "nosync"
		if sync {
			name = "sync-writes"
		}
		b.Run(name, func(b *testing.B) {
			ts := startServer(b, func(o *harnessOptions) { o.syncWrites = sync })
			ts.deploy("s", "hello", "hello-c", host.Function{}, anonymous())
			ln := fasthttputil.NewInmemoryListener()
			srv := &fasthttp.Server{Handler: ts.srv.Handler()}
			go srv.Serve(ln)
			defer srv.Shutdown()
			c := &fasthttp.Client{Dial: func(string) (net.Conn, error) { return ln.Dial() }, MaxConnsPerHost: 256}
			b.SetParallelism(32) // 64 concurrent clients on 2 CPUs
			b.ReportAllocs()
			start := time.Now()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				req, res := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
				defer fasthttp.ReleaseRequest(req)
				defer fasthttp.ReleaseResponse(res)
				req.SetRequestURI("http://fnhost/2016-08-15/proxy/s/hello/")
				req.Header.Set("X-Fc-Invocation-Type", "Async")
				for pb.Next() {
					if err := c.Do(req, res); err != nil || res.StatusCode() != 202 {
						b.Errorf("%v %d %s", err, res.StatusCode(), res.Body())
						return
					}
				}
			})
			accepted := time.Since(start)
			b.StopTimer()
			// Wait for every job to finish.
			for {
				n := jobsFinished(b, ts)
				if n >= b.N {
					break
				}
				if time.Since(start) > 5*time.Minute {
					b.Fatalf("only %v of %d jobs finished", n, b.N)
				}
				time.Sleep(5 * time.Millisecond)
			}
			done := time.Since(start)
			b.ReportMetric(float64(b.N)/accepted.Seconds(), "accepted/s")
			b.ReportMetric(float64(b.N)/done.Seconds(), "completed/s")
		})
	}
}

// jobsFinished sums fnhost_async_jobs_finished_total over its labels.
func jobsFinished(tb testing.TB, ts *testServer) int {
	mfs, err := ts.reg.Gather()
	if err != nil {
		tb.Fatal(err)
	}
	total := 0.0
	for _, mf := range mfs {
		if mf.GetName() == "fnhost_async_jobs_finished_total" {
			for _, m := range mf.GetMetric() {
				total += m.GetCounter().GetValue()
			}
		}
	}
	return int(total)
}
