package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/fnhost/fnhost/bench/loadgen"
	"github.com/fnhost/fnhost/host/client"
)

var benchCommand = &command{
	name:    "bench",
	args:    "URL|SERVICE[.QUALIFIER]/FUNCTION [flags]",
	summary: "load-test a URL or a function's HTTP trigger and report throughput and latency",
	help: `Sends HTTP requests to URL, or to the HTTP trigger of SERVICE/FUNCTION on the
--endpoint server, over keep-alive connections, and reports requests/s, latency
percentiles, status codes, errors and bytes read.

By default it runs a closed loop: -c connections send requests back to back
for -d (10s), or until -n requests are done. Its latencies understate what
clients see when the server stalls (coordinated omission). --rate R runs an
open loop instead: R requests per second on a fixed schedule, at most -c in
flight; a request sent behind schedule has its latency counted from its
intended send time, so time spent queued for a busy connection counts. Requests sent more than 1ms
behind schedule are reported as late and, with -d, requests still waiting
when time is up as unsent: either means the server, or -c, cannot sustain R.

SERVICE[.QUALIFIER]/FUNCTION resolves to
<endpoint>/2016-08-15/proxy/SERVICE[.QUALIFIER]/FUNCTION/ and sends unsigned
requests, which suits anonymous triggers; no access key is needed. For a
trigger with auth function, pass a presigned URL (an FC SDK's signURL, or
host/auth.SignURL) as URL.

--body takes the request body: a literal string, @FILE for a file's content,
or @- for stdin. -H adds a header (repeatable). Short forms: -c, -d, -n, -m,
-H.

On a terminal, a progress line is shown on stderr. The report goes to stdout
(JSON with --json, durations in nanoseconds). Exits 1 when no request got a
response.
`,
	flags: func(fs *flag.FlagSet, sio *stdio) func(context.Context, []string) error {
		o := newBenchOptions(fs)
		return func(ctx context.Context, args []string) error {
			if err := o.parse(fs, args, sio); err != nil {
				return err
			}
			return o.run(ctx, sio)
		}
	},
}

type benchOptions struct {
	cf *clientFlags

	concurrency int
	duration    time.Duration
	requests    int64
	rate        float64
	method      string
	body        string
	headers     stringList
	timeout     time.Duration

	cfg loadgen.Config // filled by parse
}

// newBenchOptions registers bench's flags on fs.
func newBenchOptions(fs *flag.FlagSet) *benchOptions {
	o := &benchOptions{}
	o.cf = addClientFlags(fs)
	fs.IntVar(&o.concurrency, "concurrency", 64, "connections `N`: closed loop, all busy; open loop, the most requests in flight")
	fs.IntVar(&o.concurrency, "c", 64, hiddenUsage)
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "send for `DURATION` (not with --requests)")
	fs.DurationVar(&o.duration, "d", 10*time.Second, hiddenUsage)
	fs.Int64Var(&o.requests, "requests", 0, "send `N` requests, then stop (instead of --duration)")
	fs.Int64Var(&o.requests, "n", 0, hiddenUsage)
	fs.Float64Var(&o.rate, "rate", 0, "open loop: `R` requests per second on a fixed schedule (0: closed loop)")
	fs.StringVar(&o.method, "method", "GET", "request `METHOD`")
	fs.StringVar(&o.method, "m", "GET", hiddenUsage)
	fs.StringVar(&o.body, "body", "", "request body: `STRING`, @FILE or @- (stdin)")
	fs.Var(&o.headers, "header", "add header `'K: V'` to every request (repeatable)")
	fs.Var(&o.headers, "H", hiddenUsage)
	fs.DurationVar(&o.timeout, "timeout", loadgen.DefaultTimeout, "per-request timeout, connecting included")
	return o
}

// parse validates the flags and the argument and fills o.cfg; every
// mistake is a usageError.
func (o *benchOptions) parse(fs *flag.FlagSet, args []string, sio *stdio) error {
	arg, err := oneArg(args, "URL or SERVICE/FUNCTION")
	if err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	durationSet := set["d"] || set["duration"]
	requestsSet := set["n"] || set["requests"]
	switch {
	case o.concurrency < 1:
		return usagef("-c %d: want at least 1 connection", o.concurrency)
	case durationSet && requestsSet:
		return usagef("give -d or -n, not both")
	case requestsSet && o.requests <= 0:
		return usagef("-n %d: want at least 1 request", o.requests)
	case !requestsSet && o.duration <= 0:
		return usagef("-d %v: want a duration above 0", o.duration)
	case o.rate < 0 || math.IsNaN(o.rate) || math.IsInf(o.rate, 0) || o.rate > 1e9:
		return usagef("--rate %v: want requests per second, 0 (closed loop) or more", o.rate)
	case o.method == "" || !validToken(o.method):
		return usagef("-m %q: not an HTTP method", o.method)
	case o.timeout <= 0:
		return usagef("--timeout %v: want a duration above 0", o.timeout)
	}
	if requestsSet {
		o.duration = 0
	} else {
		o.requests = 0
	}
	if _, err := parseHeaders(o.headers); err != nil {
		return usageError{fmt.Errorf("-H: %w", err)}
	}
	headers := make([]loadgen.Header, 0, len(o.headers))
	for _, l := range o.headers { // in order, as given; parseHeaders checked the form
		k, v, _ := strings.Cut(l, ":")
		headers = append(headers, loadgen.Header{Name: strings.TrimSpace(k), Value: strings.TrimSpace(v)})
	}
	target, err := o.target(arg, sio.env)
	if err != nil {
		return err
	}
	body, err := readBody(o.body, sio.stdin)
	if err != nil {
		return err
	}
	o.cfg = loadgen.Config{
		URL: target, Method: o.method, Headers: headers, Body: body,
		Concurrency: o.concurrency, Duration: o.duration, Requests: o.requests,
		Rate: o.rate, Timeout: o.timeout,
	}
	return nil
}

// target returns the URL arg names: arg itself when it has a scheme, else
// the trigger URL of SERVICE[.QUALIFIER]/FUNCTION on the endpoint.
func (o *benchOptions) target(arg string, env func(string) string) (string, error) {
	if strings.Contains(arg, "://") {
		u, err := url.Parse(arg)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return "", usagef("%q: want an http:// or https:// URL, or SERVICE[.QUALIFIER]/FUNCTION", arg)
		}
		return arg, nil
	}
	ref, err := parseFuncRef(arg, true)
	if err != nil {
		return "", usageError{fmt.Errorf("%w (or give a URL, with http://)", err)}
	}
	// The trigger requests are not signed, so a missing or half-given
	// access key does not matter here: only the endpoint is used, which
	// clientConfig resolves (flag, environment, default) before the key.
	cfg, _ := o.cf.clientConfig(env)
	c, err := client.New(client.Config{Endpoint: cfg.Endpoint})
	if err != nil {
		return "", usagef("--endpoint: %v", err)
	}
	svc := ref.service
	if ref.qualifier != "" {
		svc += "." + ref.qualifier
	}
	return c.TriggerURL(svc, ref.function), nil
}

// readBody returns the body --body names: "@-" reads r, "@FILE" the file,
// anything else is the body itself; "" is no body.
func readBody(s string, r io.Reader) ([]byte, error) {
	switch {
	case s == "":
		return nil, nil
	case s == "@-":
		if r == nil {
			return nil, usagef("--body @-: no stdin")
		}
		b, err := io.ReadAll(r)
		if err != nil {
			return nil, fmt.Errorf("--body @-: reading stdin: %w", err)
		}
		return b, nil
	case s == "@":
		return nil, usagef("--body @: want @FILE or @-")
	case strings.HasPrefix(s, "@"):
		b, err := os.ReadFile(s[1:])
		if err != nil {
			return nil, usageError{fmt.Errorf("--body: %w", err)}
		}
		return b, nil
	default:
		return []byte(s), nil
	}
}

// benchJSON is what bench prints with --json: the settings, then the
// result's fields.
type benchJSON struct {
	URL         string  `json:"url"`
	Method      string  `json:"method"`
	Mode        string  `json:"mode"` // "closed" or "open"
	Concurrency int     `json:"concurrency"`
	Rate        float64 `json:"rate,omitempty"`
	Interrupted bool    `json:"interrupted,omitempty"`
	*loadgen.Result
}

func (o *benchOptions) run(ctx context.Context, sio *stdio) error {
	cfg := o.cfg
	tty := isTerminal(sio.stderr)
	if tty {
		cfg.Progress = func(done int64, elapsed time.Duration) {
			fmt.Fprintf(sio.stderr, "\r\x1b[K%s", progressLine(cfg, done, elapsed))
		}
	}
	res, err := loadgen.Run(ctx, cfg)
	if tty {
		io.WriteString(sio.stderr, "\r\x1b[K")
	}
	interrupted := err != nil && ctx.Err() != nil
	if err != nil && !interrupted {
		return err
	}
	if o.cf.json {
		mode := "closed"
		if cfg.Rate > 0 {
			mode = "open"
		}
		out := benchJSON{URL: cfg.URL, Method: cfg.Method, Mode: mode, Concurrency: cfg.Concurrency,
			Rate: cfg.Rate, Interrupted: interrupted, Result: res}
		if err := printJSON(sio.stdout, out); err != nil {
			return err
		}
	} else if err := writeBenchReport(sio.stdout, cfg, res, interrupted); err != nil {
		return err
	}
	if res.Responses == 0 {
		if res.Requests == 0 {
			return errors.New("no request was sent")
		}
		msg := fmt.Sprintf("all %s requests failed", formatCount(res.Requests))
		if res.FirstError != "" {
			msg += ": " + res.FirstError
		}
		if res.Errors.Connect == res.Requests {
			msg += "\n(is the server running? for SERVICE/FUNCTION, set the address with --endpoint or " + envEndpoint + ")"
		}
		return errors.New(msg)
	}
	return nil
}

// progressLine is the line shown on a terminal while the run goes on.
func progressLine(cfg loadgen.Config, done int64, elapsed time.Duration) string {
	var b strings.Builder
	if cfg.Requests > 0 {
		fmt.Fprintf(&b, "%s/%s requests  %s", formatCount(done), formatCount(cfg.Requests), elapsed.Round(100*time.Millisecond))
	} else {
		fmt.Fprintf(&b, "%s/%s  %s requests", elapsed.Round(100*time.Millisecond), cfg.Duration, formatCount(done))
	}
	if s := elapsed.Seconds(); s > 0 {
		fmt.Fprintf(&b, "  %s req/s", formatCount(int64(float64(done)/s)))
	}
	return b.String()
}

// writeBenchReport prints res for people.
func writeBenchReport(w io.Writer, cfg loadgen.Config, res *loadgen.Result, interrupted bool) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "target\t%s %s\n", cfg.Method, cfg.URL)
	limit := cfg.Duration.String()
	if cfg.Requests > 0 {
		limit = formatCount(cfg.Requests) + " requests"
	}
	if cfg.Rate > 0 {
		fmt.Fprintf(tw, "load\topen loop, %s req/s scheduled, at most %d in flight, %s\n", strconv.FormatFloat(cfg.Rate, 'f', -1, 64), cfg.Concurrency, limit)
	} else {
		fmt.Fprintf(tw, "load\tclosed loop, %d connections, %s\n", cfg.Concurrency, limit)
	}
	note := ""
	if interrupted {
		note = " (interrupted)"
	}
	fmt.Fprintf(tw, "requests\t%s in %s, %s req/s%s\n", formatCount(res.Requests), res.Duration.Round(time.Millisecond),
		formatCount(int64(math.Round(res.RequestsPerSec))), note)
	codes := make([]int, 0, len(res.Status))
	for c := range res.Status {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	var st []string
	for _, c := range codes {
		st = append(st, fmt.Sprintf("%d: %s", c, formatCount(res.Status[c])))
	}
	if len(st) == 0 {
		st = []string{"-"}
	}
	fmt.Fprintf(tw, "status\t%s\n", strings.Join(st, ", "))
	if e := res.Errors; e.Total() == 0 {
		fmt.Fprintf(tw, "errors\t0\n")
	} else {
		fmt.Fprintf(tw, "errors\t%s (connect %s, timeout %s, other %s); first: %s\n", formatCount(e.Total()),
			formatCount(e.Connect), formatCount(e.Timeout), formatCount(e.Other), res.FirstError)
	}
	if cfg.Rate > 0 {
		fmt.Fprintf(tw, "late\t%s sent over %v behind schedule\n", formatCount(res.Late), loadgen.LateAfter)
		if cfg.Duration > 0 {
			fmt.Fprintf(tw, "unsent\t%s still waiting when time was up\n", formatCount(res.Unsent))
		}
	}
	perSec := int64(0)
	if s := res.Duration.Seconds(); s > 0 {
		perSec = int64(float64(res.BytesRead) / s)
	}
	fmt.Fprintf(tw, "read\t%s (%s/s)\n", formatSize(res.BytesRead), formatSize(perSec))
	fmt.Fprintln(tw)
	l := res.Latency
	head := "latency"
	if cfg.Rate > 0 {
		head = "latency*"
	}
	fmt.Fprintf(tw, "%s\tmin\tp50\tp90\tp99\tp99.9\tmax\tmean\n", head)
	if res.Responses == 0 {
		fmt.Fprintf(tw, "\t-\t-\t-\t-\t-\t-\t-\n")
	} else {
		fmt.Fprintf(tw, "\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", formatLatency(l.Min), formatLatency(l.P50), formatLatency(l.P90),
			formatLatency(l.P99), formatLatency(l.P999), formatLatency(l.Max), formatLatency(l.Mean))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if cfg.Rate > 0 {
		_, err := io.WriteString(w, "* from each request's intended send time when it was sent behind schedule\n  (corrected for coordinated omission)\n")
		return err
	}
	return nil
}

// formatLatency formats d with three or four significant digits.
func formatLatency(d time.Duration) string {
	switch {
	case d < time.Microsecond:
		return strconv.FormatInt(int64(d), 10) + "ns"
	case d < time.Millisecond:
		return strconv.FormatFloat(float64(d)/1e3, 'f', 1, 64) + "µs"
	case d < time.Second:
		return strconv.FormatFloat(float64(d)/1e6, 'f', 2, 64) + "ms"
	default:
		return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + "s"
	}
}

// formatCount formats n with thousands separators: 1234567 → "1,234,567".
func formatCount(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
