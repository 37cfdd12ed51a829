//go:build !race

package loadgen

import (
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// TestRecordAllocs: recording a latency allocates nothing.
func TestRecordAllocs(t *testing.T) {
	var h Histogram
	if n := testing.AllocsPerRun(1000, func() { h.Record(123 * time.Microsecond) }); n != 0 {
		t.Errorf("Record: %v allocs", n)
	}
}

// TestSendAllocs: in the steady state a worker's request (client and
// the local fasthttp server together) allocates nothing.
func TestSendAllocs(t *testing.T) {
	url := startServer(t, func(ctx *fasthttp.RequestCtx) { ctx.SetBodyString("hello") })
	r := &runner{cfg: Config{URL: url, Concurrency: 1, Requests: 1}}
	u, err := r.cfg.validate()
	if err != nil {
		t.Fatal(err)
	}
	r.hc = &fasthttp.HostClient{Addr: hostPort(u), DialTimeout: r.dial, MaxConns: 1, MaxIdemponentCallAttempts: 1}
	defer r.hc.CloseIdleConnections()
	w := &worker{r: r}
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	req.SetRequestURI(url)
	for range 10 { // warm up: connect, grow buffers
		w.send(req, resp, time.Now())
	}
	if n := testing.AllocsPerRun(1000, func() { w.send(req, resp, time.Now()) }); n != 0 {
		t.Errorf("send: %v allocs per request", n)
	}
	if w.errs.Total() != 0 || w.status[200] != 1010+1 {
		t.Errorf("errors %+v, 200s %d", w.errs, w.status[200])
	}
}
