package loadgen

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

const (
	// DefaultTimeout is the per-request timeout when Config.Timeout is 0.
	DefaultTimeout = 10 * time.Second
	// DefaultProgressInterval is how often Config.Progress is called when
	// Config.ProgressInterval is 0.
	DefaultProgressInterval = 250 * time.Millisecond
	// LateAfter is how far behind its schedule an open-loop request may be
	// sent before it counts in Result.Late. It absorbs timer and scheduling
	// jitter; the latency of every request includes its delay either way.
	LateAfter = time.Millisecond
	// UserAgent is sent unless Config.Headers has a User-Agent.
	UserAgent = "fnhost-loadgen"
)

// Header is one request header line.
type Header struct {
	Name, Value string
}

// Config describes a load run. Run validates it; the zero value of every
// field but URL and one of Duration and Requests has the meaning given.
type Config struct {
	// URL is the absolute http:// or https:// URL of every request.
	URL string
	// Method is the request method; "" means GET.
	Method string
	// Headers are added to every request, in order.
	Headers []Header
	// Body is the body of every request; nil sends none. Run reads it
	// from several goroutines until it returns: do not modify it before.
	Body []byte

	// Concurrency is the number of connections: of workers sending back to
	// back in the closed loop, of requests in flight at most in the open
	// loop. 0 means 1.
	Concurrency int
	// Duration ends the run after this long, Requests after this many
	// requests; at least one must be set, and with both the first reached
	// ends it. Requests in flight at the end are waited for (at most
	// Timeout) and counted.
	Duration time.Duration
	Requests int64
	// Rate selects the open loop when > 0: Rate requests per second on a
	// fixed schedule, the latency of a request sent behind schedule
	// measured from its intended send time (see the package comment).
	// 0 selects the closed loop.
	Rate float64
	// Timeout bounds each request, connecting included. 0 means
	// DefaultTimeout.
	Timeout time.Duration
	// TLSConfig configures https connections; nil means the defaults with
	// the URL's host as ServerName. Run does not modify it.
	TLSConfig *tls.Config

	// Progress, when not nil, is called every ProgressInterval with the
	// number of requests finished so far and the time since the start. It
	// is called from one goroutine, never concurrently and never after Run
	// returns, and should return quickly.
	Progress func(done int64, elapsed time.Duration)
	// ProgressInterval is the period of Progress. 0 means
	// DefaultProgressInterval.
	ProgressInterval time.Duration
}

// Result is what a run measured. In JSON, durations are integer
// nanoseconds and the keys of Status are decimal strings.
type Result struct {
	// Requests counts the requests sent and finished: Responses plus
	// Errors.Total().
	Requests int64 `json:"requests"`
	// Responses counts the requests answered with an HTTP response, of any
	// status.
	Responses int64 `json:"responses"`
	// Errors counts the requests that got no response, by cause.
	Errors Errors `json:"errors"`
	// Status counts the responses by status code.
	Status map[int]int64 `json:"status"`
	// Late counts open-loop requests sent more than LateAfter behind their
	// schedule because all Concurrency connections were busy: a sign that
	// the server (or Concurrency) cannot sustain Rate. Their latency
	// includes the wait.
	Late int64 `json:"late"`
	// Unsent counts open-loop requests scheduled before Duration ended that
	// were never sent because the run ended first (always behind their
	// schedule, so also a sign of overload). 0 in the closed loop.
	Unsent int64 `json:"unsent"`

	// Duration runs from the first request's start to the last one's end.
	Duration time.Duration `json:"duration"`
	// RequestsPerSec is Responses / Duration.
	RequestsPerSec float64 `json:"requestsPerSec"`
	// BytesRead counts the bytes read from the network: response headers
	// and bodies (encrypted, for https).
	BytesRead int64 `json:"bytesRead"`
	// Latency summarises the latencies of the responses (errors are not
	// included): from send to response in the closed loop; in the open
	// loop, from the intended send time for requests sent behind
	// schedule.
	Latency Latency `json:"latency"`
	// FirstError is the message of the earliest error, "" without errors.
	FirstError string `json:"firstError,omitempty"`

	// Histogram holds every latency Latency summarises, for other
	// quantiles or for merging runs.
	Histogram *Histogram `json:"-"`
}

// Errors counts failed requests by cause.
type Errors struct {
	// Connect counts requests whose connection could not be opened
	// (refused, unreachable, DNS, connect timeout, TLS handshake).
	Connect int64 `json:"connect"`
	// Timeout counts requests that got no response within Timeout.
	Timeout int64 `json:"timeout"`
	// Other counts the rest: connection reset or closed early, malformed
	// response and so on.
	Other int64 `json:"other"`
}

// Total returns the number of failed requests.
func (e Errors) Total() int64 { return e.Connect + e.Timeout + e.Other }

// Latency summarises a latency distribution; see Histogram.Quantile for
// the precision.
type Latency struct {
	Min  time.Duration `json:"min"`
	Mean time.Duration `json:"mean"`
	P50  time.Duration `json:"p50"`
	P90  time.Duration `json:"p90"`
	P99  time.Duration `json:"p99"`
	P999 time.Duration `json:"p999"`
	Max  time.Duration `json:"max"`
}

// Summarize returns the summary of h.
func Summarize(h *Histogram) Latency {
	return Latency{
		Min: h.Min(), Mean: h.Mean(),
		P50: h.Quantile(0.5), P90: h.Quantile(0.9), P99: h.Quantile(0.99), P999: h.Quantile(0.999),
		Max: h.Max(),
	}
}

// Run sends the load cfg describes and returns what it measured. It
// returns an error without sending anything when cfg is invalid. When ctx
// is cancelled it stops sending, waits for the requests in flight and
// returns the partial Result together with ctx's error.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	u, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	r := &runner{cfg: cfg, open: cfg.Rate > 0, done: ctx.Done()}
	if r.open {
		r.period = float64(time.Second) / cfg.Rate
	}
	if u.Scheme == "https" {
		r.tls = &tls.Config{ServerName: u.Hostname()}
		if cfg.TLSConfig != nil {
			r.tls = cfg.TLSConfig.Clone()
			if r.tls.ServerName == "" {
				r.tls.ServerName = u.Hostname()
			}
		}
	}
	r.hc = &fasthttp.HostClient{
		Addr:        hostPort(u),
		IsTLS:       u.Scheme == "https",
		Name:        UserAgent,
		DialTimeout: r.dial,
		MaxConns:    cfg.Concurrency,
		// A worker holds at most one connection, so none ever waits; the
		// bound is a safety net.
		MaxConnWaitTimeout: cfg.Timeout,
		// Every attempt counts: no silent retry on a broken keep-alive
		// connection.
		MaxIdemponentCallAttempts: 1,
	}
	defer r.hc.CloseIdleConnections()

	workers := make([]*worker, cfg.Concurrency)
	for i := range workers {
		workers[i] = &worker{r: r}
	}
	r.start = time.Now()
	if cfg.Duration > 0 {
		r.end = r.start.Add(cfg.Duration)
	}
	finished := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			r.stop.Store(true)
		case <-finished:
		}
	}()
	var progress sync.WaitGroup
	if cfg.Progress != nil {
		progress.Go(func() { r.report(workers, finished) })
	}
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(w.run)
	}
	wg.Wait()
	elapsed := time.Since(r.start)
	close(finished)
	progress.Wait()

	res := r.result(workers, elapsed)
	if err := ctx.Err(); err != nil {
		res.Unsent = 0 // the schedule was cut short on purpose
		return res, err
	}
	return res, nil
}

// validate checks cfg, fills in its defaults and returns the parsed URL.
func (cfg *Config) validate() (*url.URL, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("loadgen: URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("loadgen: URL %q: want http://host[:port]/path or https://…", cfg.URL)
	}
	switch {
	case cfg.Concurrency < 0:
		return nil, fmt.Errorf("loadgen: Concurrency %d: want ≥ 0", cfg.Concurrency)
	case cfg.Duration < 0 || cfg.Requests < 0:
		return nil, errors.New("loadgen: negative Duration or Requests")
	case cfg.Duration == 0 && cfg.Requests == 0:
		return nil, errors.New("loadgen: set Duration or Requests")
	case cfg.Rate < 0 || math.IsNaN(cfg.Rate) || math.IsInf(cfg.Rate, 0):
		return nil, fmt.Errorf("loadgen: Rate %v: want a finite number ≥ 0", cfg.Rate)
	case cfg.Rate > 1e9:
		return nil, fmt.Errorf("loadgen: Rate %v: more than one request per nanosecond", cfg.Rate)
	case cfg.Timeout < 0 || cfg.ProgressInterval < 0:
		return nil, errors.New("loadgen: negative Timeout or ProgressInterval")
	}
	if cfg.Method == "" {
		cfg.Method = fasthttp.MethodGet
	}
	cfg.Concurrency = max(cfg.Concurrency, 1)
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.ProgressInterval == 0 {
		cfg.ProgressInterval = DefaultProgressInterval
	}
	return u, nil
}

// hostPort returns u's host with the scheme's default port if it has none.
func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	port := "80"
	if u.Scheme == "https" {
		port = "443"
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// runner is the state the workers of one run share.
type runner struct {
	cfg    Config
	hc     *fasthttp.HostClient
	open   bool
	period float64     // open loop: nanoseconds between intended sends
	tls    *tls.Config // nil for http

	start time.Time
	end   time.Time // zero without Config.Duration

	next      atomic.Int64 // the next request's sequence number
	stop      atomic.Bool  // ctx is done
	done      <-chan struct{}
	bytesRead atomic.Int64
}

// due returns when request i is due in the open loop, as an offset from
// the start.
func (r *runner) due(i int64) time.Duration {
	return time.Duration(float64(i) * r.period)
}

// report calls Progress periodically until finished is closed.
func (r *runner) report(workers []*worker, finished <-chan struct{}) {
	t := time.NewTicker(r.cfg.ProgressInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			var n int64
			for _, w := range workers {
				n += w.finished.Load()
			}
			r.cfg.Progress(n, time.Since(r.start))
		case <-finished:
			return
		}
	}
}

// result merges the workers' counts.
func (r *runner) result(workers []*worker, elapsed time.Duration) *Result {
	res := &Result{Status: map[int]int64{}, Histogram: &Histogram{}, Duration: elapsed, BytesRead: r.bytesRead.Load()}
	var firstAt time.Time
	for _, w := range workers {
		res.Histogram.Merge(&w.hist)
		res.Requests += w.finished.Load()
		res.Errors.Connect += w.errs.Connect
		res.Errors.Timeout += w.errs.Timeout
		res.Errors.Other += w.errs.Other
		res.Late += w.late
		for code, n := range w.status {
			if n > 0 {
				res.Status[code] += n
			}
		}
		if w.firstErr != nil && (firstAt.IsZero() || w.firstErrAt.Before(firstAt)) {
			firstAt, res.FirstError = w.firstErrAt, w.firstErr.Error()
		}
	}
	res.Responses = res.Histogram.Count()
	if s := elapsed.Seconds(); s > 0 {
		res.RequestsPerSec = float64(res.Responses) / s
	}
	res.Latency = Summarize(res.Histogram)
	if r.open && r.cfg.Duration > 0 {
		scheduled := int64(math.Ceil(float64(r.cfg.Duration) / r.period))
		if r.cfg.Requests > 0 {
			scheduled = min(scheduled, r.cfg.Requests)
		}
		res.Unsent = max(scheduled-res.Requests, 0)
	}
	return res
}

// worker sends requests one at a time on its own connection and keeps its
// own counts, merged by runner.result once every worker is done.
type worker struct {
	r          *runner
	hist       Histogram
	status     [1000]int64 // by status code
	errs       Errors
	late       int64
	firstErr   error
	firstErrAt time.Time
	finished   atomic.Int64 // read by the progress reporter
}

func (w *worker) run() {
	r := w.r
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(r.cfg.URL)
	req.Header.SetMethod(r.cfg.Method)
	for _, h := range r.cfg.Headers {
		req.Header.Add(h.Name, h.Value)
	}
	if r.cfg.Body != nil {
		req.SetBodyRaw(r.cfg.Body)
	}
	var timer *time.Timer
	if r.open {
		timer = time.NewTimer(time.Hour)
		timer.Stop()
		defer timer.Stop()
	}
	for !r.stop.Load() {
		i := r.next.Add(1) - 1
		if r.cfg.Requests > 0 && i >= r.cfg.Requests {
			return
		}
		now := time.Now()
		if !r.end.IsZero() && !now.Before(r.end) {
			return
		}
		sent := now
		if r.open {
			due := r.due(i)
			if r.cfg.Duration > 0 && due >= r.cfg.Duration {
				return
			}
			sent = r.start.Add(due) // latency counts from here when behind schedule
			if wait := sent.Sub(now); wait > 0 {
				// Ahead of schedule: wait for it. The timer fires late
				// by up to a millisecond or so on a busy machine; that
				// delay is the load generator's, not the server's, so
				// the latency counts from the actual send.
				timer.Reset(wait)
				select {
				case <-timer.C:
				case <-r.done:
					return
				}
				sent = time.Now()
			} else if -wait > LateAfter {
				w.late++
			}
		}
		w.send(req, resp, sent)
	}
}

// send sends req once and records the outcome, with the latency counted
// from sent.
func (w *worker) send(req *fasthttp.Request, resp *fasthttp.Response, sent time.Time) {
	err := w.r.hc.DoTimeout(req, resp, w.r.cfg.Timeout)
	end := time.Now()
	w.finished.Add(1)
	if err != nil {
		w.fail(err, end)
		return
	}
	w.hist.Record(end.Sub(sent))
	code := resp.StatusCode()
	if code < 0 || code >= len(w.status) {
		code = 0
	}
	w.status[code]++
}

func (w *worker) fail(err error, at time.Time) {
	switch classify(err) {
	case kindConnect:
		w.errs.Connect++
	case kindTimeout:
		w.errs.Timeout++
	default:
		w.errs.Other++
	}
	if w.firstErr == nil {
		w.firstErr, w.firstErrAt = err, at
	}
}

type errorKind int

const (
	kindOther errorKind = iota
	kindConnect
	kindTimeout
)

// classify tells the cause of a failed request.
func classify(err error) errorKind {
	var de *dialError
	if errors.As(err, &de) {
		return kindConnect
	}
	if errors.Is(err, fasthttp.ErrTimeout) {
		return kindTimeout
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return kindTimeout
	}
	return kindOther
}

// dialError marks an error from opening a connection.
type dialError struct{ err error }

func (e *dialError) Error() string { return e.err.Error() }
func (e *dialError) Unwrap() error { return e.err }

// dial opens a connection that counts the bytes read into r.bytesRead
// and, for https, completes the TLS handshake, so that every failure to
// connect is a dialError.
func (r *runner) dial(addr string, timeout time.Duration) (net.Conn, error) {
	if timeout <= 0 {
		timeout = r.cfg.Timeout
	}
	deadline := time.Now().Add(timeout)
	c, err := fasthttp.DialDualStackTimeout(addr, timeout)
	if err != nil {
		return nil, &dialError{err}
	}
	var conn net.Conn = &countingConn{Conn: c, n: &r.bytesRead}
	if r.tls != nil {
		tc := tls.Client(conn, r.tls)
		tc.SetDeadline(deadline)
		if err := tc.Handshake(); err != nil {
			tc.Close()
			return nil, &dialError{err}
		}
		tc.SetDeadline(time.Time{})
		conn = tc // fasthttp sees Handshake and does not wrap it again
	}
	return conn, nil
}

// countingConn counts the bytes read from a connection.
type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.n.Add(int64(n))
	}
	return n, err
}
