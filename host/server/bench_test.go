package server

import (
	"net"
	"testing"

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
