package loadgen

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// startServer serves h on 127.0.0.1:0 and returns its base URL.
func startServer(t testing.TB, h fasthttp.RequestHandler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Shutdown() })
	return "http://" + ln.Addr().String()
}

// closedPort returns the address of a loopback port nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestClosedLoopCounts(t *testing.T) {
	var n, bodies atomic.Int64
	var method, header atomic.Value
	url := startServer(t, func(ctx *fasthttp.RequestCtx) {
		method.Store(string(ctx.Method()))
		header.Store(string(ctx.Request.Header.Peek("X-Test")))
		if string(ctx.PostBody()) == "ping" {
			bodies.Add(1)
		}
		if n.Add(1)%3 == 0 {
			ctx.SetStatusCode(fasthttp.StatusServiceUnavailable)
		}
		ctx.SetBodyString("hello")
	})
	var progressCalls atomic.Int64
	res, err := Run(context.Background(), Config{
		URL: url + "/x?y=1", Method: "POST", Body: []byte("ping"),
		Headers:     []Header{{"X-Test", "yes"}},
		Concurrency: 8, Requests: 3000,
		Progress:         func(int64, time.Duration) { progressCalls.Add(1) },
		ProgressInterval: time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 3000 || res.Responses != 3000 || res.Errors.Total() != 0 || n.Load() != 3000 || bodies.Load() != 3000 {
		t.Fatalf("requests %d responses %d errors %+v; server saw %d (%d with the body)", res.Requests, res.Responses, res.Errors, n.Load(), bodies.Load())
	}
	if res.Status[200] != 2000 || res.Status[503] != 1000 || len(res.Status) != 2 {
		t.Errorf("status %v, want 200: 2000, 503: 1000", res.Status)
	}
	if method.Load() != "POST" || header.Load() != "yes" {
		t.Errorf("method %v header %v", method.Load(), header.Load())
	}
	if res.Late != 0 || res.Unsent != 0 || res.FirstError != "" {
		t.Errorf("late %d unsent %d first error %q in a clean closed loop", res.Late, res.Unsent, res.FirstError)
	}
	if l := res.Latency; l.Min <= 0 || l.P50 < l.Min || l.P90 < l.P50 || l.P99 < l.P90 || l.P999 < l.P99 || l.Max < l.P999 || l.Mean <= 0 {
		t.Errorf("latency %+v not ordered", l)
	}
	if res.BytesRead < 3000*int64(len("HTTP/1.1 200 OK\r\n\r\nhello")) {
		t.Errorf("bytes read %d", res.BytesRead)
	}
	if res.RequestsPerSec <= 0 || res.Duration <= 0 || res.Histogram.Count() != 3000 {
		t.Errorf("rps %v duration %v histogram %d", res.RequestsPerSec, res.Duration, res.Histogram.Count())
	}
	if progressCalls.Load() == 0 {
		t.Error("Progress never called")
	}
}

func TestClosedLoopDuration(t *testing.T) {
	url := startServer(t, func(ctx *fasthttp.RequestCtx) { ctx.SetBodyString("ok") })
	start := time.Now()
	res, err := Run(context.Background(), Config{URL: url, Concurrency: 4, Duration: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 300*time.Millisecond || el > 2*time.Second {
		t.Errorf("ran %v for a 300ms run", el)
	}
	if res.Responses == 0 || res.Status[200] != res.Responses || res.Errors.Total() != 0 {
		t.Errorf("responses %d status %v errors %+v", res.Responses, res.Status, res.Errors)
	}
}

// TestOpenLoopCorrectsCoordinatedOmission runs 200 requests/s on one
// connection against a server that takes 10 ms: it can answer only 100/s,
// so requests queue and the latency counted from their intended send
// times grows far beyond 10 ms, while the closed loop would report ~10 ms.
func TestOpenLoopCorrectsCoordinatedOmission(t *testing.T) {
	url := startServer(t, func(ctx *fasthttp.RequestCtx) {
		time.Sleep(10 * time.Millisecond)
		ctx.SetBodyString("slow")
	})
	const n = 60
	res, err := Run(context.Background(), Config{URL: url, Concurrency: 1, Rate: 200, Requests: n})
	if err != nil {
		t.Fatal(err)
	}
	if res.Responses != n || res.Status[200] != n {
		t.Fatalf("responses %d status %v errors %+v %s", res.Responses, res.Status, res.Errors, res.FirstError)
	}
	// Request i is due at 5i ms and sent at ~10i ms: it waited ~5i ms, so
	// the last ones waited ~300 ms and p50 is ~150 ms.
	if res.Latency.P99 < 150*time.Millisecond || res.Latency.P50 < 60*time.Millisecond {
		t.Errorf("p50 %v p99 %v: queueing not included", res.Latency.P50, res.Latency.P99)
	}
	if res.Late < n/2 {
		t.Errorf("late %d of %d, want most", res.Late, n)
	}
	// Sending took ~n × 10 ms, not the scheduled n × 5 ms.
	if res.Duration < n*9*time.Millisecond {
		t.Errorf("duration %v", res.Duration)
	}

	// The same server at 25/s keeps up: latency stays near 10 ms, nothing
	// is late.
	res, err = Run(context.Background(), Config{URL: url, Concurrency: 1, Rate: 25, Requests: 10})
	if err != nil {
		t.Fatal(err)
	}
	if res.Responses != 10 || res.Late > 1 || res.Latency.P50 > 30*time.Millisecond || res.Latency.P50 < 10*time.Millisecond {
		t.Errorf("at 25/s: responses %d late %d p50 %v", res.Responses, res.Late, res.Latency.P50)
	}
	// Sending is paced: 10 requests at 25/s take at least 9 × 40 ms.
	if res.Duration < 360*time.Millisecond {
		t.Errorf("at 25/s: 10 requests took %v", res.Duration)
	}
}

// TestOpenLoopDurationUnsent: with a duration, the backlog left when time
// is up is reported as unsent.
func TestOpenLoopDurationUnsent(t *testing.T) {
	url := startServer(t, func(ctx *fasthttp.RequestCtx) { time.Sleep(20 * time.Millisecond) })
	res, err := Run(context.Background(), Config{URL: url, Concurrency: 2, Rate: 400, Duration: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	// 120 scheduled, ~30 sent (2 connections × 300 ms / 20 ms).
	if res.Requests+res.Unsent != 120 || res.Unsent < 60 || res.Late == 0 {
		t.Errorf("requests %d unsent %d late %d, want 120 in all, most unsent", res.Requests, res.Unsent, res.Late)
	}
}

func TestConnectErrors(t *testing.T) {
	res, err := Run(context.Background(), Config{URL: "http://" + closedPort(t) + "/", Concurrency: 4, Requests: 20})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 20 || res.Errors.Connect != 20 || res.Responses != 0 || len(res.Status) != 0 {
		t.Errorf("requests %d errors %+v responses %d status %v", res.Requests, res.Errors, res.Responses, res.Status)
	}
	if !strings.Contains(res.FirstError, "refused") {
		t.Errorf("first error %q", res.FirstError)
	}
	if res.Latency != (Latency{}) || res.RequestsPerSec != 0 {
		t.Errorf("latency %+v rps %v without responses", res.Latency, res.RequestsPerSec)
	}
}

func TestTimeoutAndOtherErrors(t *testing.T) {
	url := startServer(t, func(ctx *fasthttp.RequestCtx) {
		if string(ctx.Path()) == "/slow" {
			time.Sleep(300 * time.Millisecond)
		}
	})
	res, err := Run(context.Background(), Config{URL: url + "/slow", Concurrency: 2, Requests: 4, Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors.Timeout != 4 || res.Responses != 0 {
		t.Errorf("errors %+v responses %d, want 4 timeouts", res.Errors, res.Responses)
	}

	// A server that answers garbage and hangs up.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("NOT HTTP\r\n\r\n"))
			c.Close()
		}
	}()
	res, err = Run(context.Background(), Config{URL: "http://" + ln.Addr().String(), Requests: 3})
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors.Other != 3 || res.Requests != 3 {
		t.Errorf("errors %+v requests %d, want 3 other", res.Errors, res.Requests)
	}
}

func TestCancel(t *testing.T) {
	url := startServer(t, func(ctx *fasthttp.RequestCtx) { time.Sleep(time.Millisecond) })
	for _, rate := range []float64{0, 0.5} { // 0.5/s: the second request waits 2 s
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		res, err := Run(ctx, Config{URL: url, Concurrency: 2, Duration: time.Hour, Rate: rate})
		if !errors.Is(err, context.DeadlineExceeded) || res == nil {
			t.Fatalf("rate %v: err %v res %v", rate, err, res)
		}
		if time.Since(start) > 2*time.Second {
			t.Errorf("rate %v: Run took %v to stop", rate, time.Since(start))
		}
		if res.Responses == 0 {
			t.Errorf("rate %v: no responses", rate)
		}
	}
}

func TestConfigValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"no URL", Config{Requests: 1}, "want http://"},
		{"relative URL", Config{URL: "/x", Requests: 1}, "want http://"},
		{"ftp", Config{URL: "ftp://h/", Requests: 1}, "want http://"},
		{"no stop", Config{URL: "http://h/"}, "set Duration or Requests"},
		{"negative concurrency", Config{URL: "http://h/", Requests: 1, Concurrency: -1}, "Concurrency"},
		{"negative rate", Config{URL: "http://h/", Requests: 1, Rate: -1}, "Rate"},
		{"NaN rate", Config{URL: "http://h/", Requests: 1, Rate: nanRate()}, "Rate"},
		{"negative timeout", Config{URL: "http://h/", Requests: 1, Timeout: -1}, "Timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Run(context.Background(), tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %v, want %q", err, tc.want)
			}
		})
	}
}

func nanRate() float64 { z := 0.0; return z / z }

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want errorKind
	}{
		{&dialError{errors.New("refused")}, kindConnect},
		{&dialError{fasthttp.ErrDialTimeout}, kindConnect},
		{fasthttp.ErrTimeout, kindTimeout},
		{&net.OpError{Op: "read", Err: timeoutErr{}}, kindTimeout},
		{fasthttp.ErrConnectionClosed, kindOther},
		{errors.New("x"), kindOther},
	} {
		if got := classify(tc.err); got != tc.want {
			t.Errorf("classify(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }
