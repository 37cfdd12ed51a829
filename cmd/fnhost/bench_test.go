package main

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fnhost/fnhost/bench/loadgen"
)

// parseBench parses a bench command line as run does.
func parseBench(t *testing.T, env map[string]string, stdin string, args ...string) (loadgen.Config, error) {
	t.Helper()
	fs := newFlagSet("bench")
	o := newBenchOptions(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return loadgen.Config{}, err
	}
	sio := &stdio{stdin: strings.NewReader(stdin), env: func(k string) string { return env[k] }}
	err = o.parse(fs, pos, sio)
	return o.cfg, err
}

func TestBenchFlags(t *testing.T) {
	dir := t.TempDir()
	bodyFile := filepath.Join(dir, "body.json")
	os.WriteFile(bodyFile, []byte(`{"a":1}`), 0o644)
	env := map[string]string{"HOME": dir}
	const u = "http://127.0.0.1:8080/x"
	def := loadgen.Config{URL: u, Method: "GET", Headers: []loadgen.Header{}, Concurrency: 64, Duration: 10 * time.Second, Timeout: loadgen.DefaultTimeout}
	with := func(f func(*loadgen.Config)) loadgen.Config {
		c := def
		f(&c)
		return c
	}
	for _, tc := range []struct {
		name  string
		env   map[string]string
		stdin string
		args  []string
		want  loadgen.Config
	}{
		{"defaults", nil, "", []string{u}, def},
		{"short flags", nil, "", []string{u, "-c", "8", "-n", "100", "-m", "POST", "-H", "X-A: 1", "-H", "x-b:two words "},
			with(func(c *loadgen.Config) {
				c.Concurrency, c.Duration, c.Requests, c.Method = 8, 0, 100, "POST"
				c.Headers = []loadgen.Header{{Name: "X-A", Value: "1"}, {Name: "x-b", Value: "two words"}}
			})},
		{"long flags", nil, "", []string{"--concurrency=2", "--duration", "1m30s", "--rate", "250.5", "--method", "PUT", "--header", "K: v", "--timeout", "2s", u},
			with(func(c *loadgen.Config) {
				c.Concurrency, c.Duration, c.Rate, c.Method, c.Timeout = 2, 90*time.Second, 250.5, "PUT", 2*time.Second
				c.Headers = []loadgen.Header{{Name: "K", Value: "v"}}
			})},
		{"body string", nil, "", []string{u, "--body", "hi"}, with(func(c *loadgen.Config) { c.Body = []byte("hi") })},
		{"body file", nil, "", []string{u, "--body", "@" + bodyFile}, with(func(c *loadgen.Config) { c.Body = []byte(`{"a":1}`) })},
		{"body stdin", nil, "from stdin", []string{u, "--body", "@-"}, with(func(c *loadgen.Config) { c.Body = []byte("from stdin") })},
		{"S/F default endpoint", nil, "", []string{"demo/hello"},
			with(func(c *loadgen.Config) { c.URL = defaultEndpoint + "/2016-08-15/proxy/demo/hello/" })},
		{"S.Q/F --endpoint", nil, "", []string{"demo.prod/hello", "--endpoint", "10.0.0.1:9000"},
			with(func(c *loadgen.Config) { c.URL = "http://10.0.0.1:9000/2016-08-15/proxy/demo.prod/hello/" })},
		{"S/F endpoint from env, half key ignored", map[string]string{envEndpoint: "https://fn.example", envAccessKeyID: "only-id"}, "", []string{"demo/hello"},
			with(func(c *loadgen.Config) { c.URL = "https://fn.example/2016-08-15/proxy/demo/hello/" })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := env
			if tc.env != nil {
				e = tc.env
			}
			got, err := parseBench(t, e, tc.stdin, tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestBenchUsageErrors(t *testing.T) {
	const u = "http://127.0.0.1:1/"
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no target", []string{"bench"}, "missing URL or SERVICE/FUNCTION"},
		{"two targets", []string{"bench", u, u}, "unexpected arguments"},
		{"zero c", []string{"bench", u, "-c", "0"}, "-c 0: want at least 1"},
		{"d and n", []string{"bench", u, "-d", "1s", "-n", "5"}, "give -d or -n, not both"},
		{"duration and requests", []string{"bench", u, "--duration", "1s", "--requests", "5"}, "not both"},
		{"zero n", []string{"bench", u, "-n", "0"}, "-n 0: want at least 1"},
		{"zero d", []string{"bench", u, "-d", "0s"}, "-d 0s: want a duration above 0"},
		{"bad d", []string{"bench", u, "-d", "soon"}, "invalid value"},
		{"negative rate", []string{"bench", u, "--rate", "-1"}, "--rate -1"},
		{"NaN rate", []string{"bench", u, "--rate", "NaN"}, "--rate NaN"},
		{"bad method", []string{"bench", u, "-m", "GE T"}, `-m "GE T": not an HTTP method`},
		{"empty method", []string{"bench", u, "-m", ""}, "not an HTTP method"},
		{"bad header", []string{"bench", u, "-H", "nocolon"}, `-H: "nocolon": want 'Name: value'`},
		{"bad header name", []string{"bench", u, "-H", "a b: c"}, "want 'Name: value'"},
		{"zero timeout", []string{"bench", u, "--timeout", "0s"}, "--timeout 0s"},
		{"ftp URL", []string{"bench", "ftp://h/x"}, `"ftp://h/x": want an http://`},
		{"not S/F", []string{"bench", "localhost:8080"}, "want SERVICE/FUNCTION"},
		{"bad service", []string{"bench", "1bad/f"}, "(or give a URL, with http://)"},
		{"bad endpoint", []string{"bench", "s/f", "--endpoint", "http://h:1/path"}, "--endpoint"},
		{"missing body file", []string{"bench", u, "--body", "@/nonexistent/x"}, "--body: open /nonexistent/x"},
		{"body @", []string{"bench", u, "--body", "@"}, "--body @: want @FILE or @-"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := cliEnv(t, map[string]string{"HOME": t.TempDir()}, "", tc.args...)
			if code != exitUsage || !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, "usage: fnhost bench") || stdout != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want 2 and %q", code, stdout, stderr, tc.want)
			}
		})
	}
}

// loadServer starts a server on 127.0.0.1:0 that answers 200 "hello" on
// /ok, and 503 to every other request to /mixed.
func loadServer(t *testing.T) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := n.Add(1)
		switch {
		case r.URL.Path == "/mixed" && i%2 == 0:
			w.WriteHeader(http.StatusServiceUnavailable)
		case r.URL.Path == "/2016-08-15/proxy/demo/hello/" || r.URL.Path == "/ok" || r.URL.Path == "/mixed":
			if r.Header.Get("X-Bench") != "1" {
				w.WriteHeader(http.StatusBadRequest)
			}
		default:
			w.WriteHeader(http.StatusNotFound)
		}
		w.Write([]byte("hello"))
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestBenchJSON(t *testing.T) {
	srv, n := loadServer(t)
	stdout, stderr, code := cliEnv(t, map[string]string{"HOME": t.TempDir()}, "",
		"bench", srv.URL+"/mixed", "-n", "200", "-c", "4", "-H", "X-Bench: 1", "--json")
	if code != exitOK || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	var out struct {
		URL         string           `json:"url"`
		Method      string           `json:"method"`
		Mode        string           `json:"mode"`
		Concurrency int              `json:"concurrency"`
		Requests    int64            `json:"requests"`
		Responses   int64            `json:"responses"`
		Status      map[string]int64 `json:"status"`
		Errors      map[string]int64 `json:"errors"`
		Duration    int64            `json:"duration"`
		RPS         float64          `json:"requestsPerSec"`
		BytesRead   int64            `json:"bytesRead"`
		Latency     map[string]int64 `json:"latency"`
	}
	var raw map[string]any
	if err := json.Unmarshal([]byte(stdout), &raw); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatal(err)
	}
	if out.URL != srv.URL+"/mixed" || out.Method != "GET" || out.Mode != "closed" || out.Concurrency != 4 {
		t.Errorf("settings %+v", out)
	}
	if out.Requests != 200 || out.Responses != 200 || n.Load() != 200 ||
		!reflect.DeepEqual(out.Status, map[string]int64{"200": 100, "503": 100}) ||
		!reflect.DeepEqual(out.Errors, map[string]int64{"connect": 0, "timeout": 0, "other": 0}) {
		t.Errorf("counts %+v (server saw %d)", out, n.Load())
	}
	for _, k := range []string{"min", "mean", "p50", "p90", "p99", "p999", "max"} {
		if v, ok := out.Latency[k]; !ok || v <= 0 {
			t.Errorf("latency %s = %d", k, v)
		}
	}
	if out.Duration <= 0 || out.RPS <= 0 || out.BytesRead < 200*5 {
		t.Errorf("duration %d rps %v bytes %d", out.Duration, out.RPS, out.BytesRead)
	}
	for _, k := range []string{"late", "unsent"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("no %q in %s", k, stdout)
		}
	}
}

func TestBenchReport(t *testing.T) {
	srv, _ := loadServer(t)
	// The trigger of demo/hello on --endpoint, open loop.
	stdout, stderr, code := cliEnv(t, map[string]string{"HOME": t.TempDir()}, "",
		"bench", "demo/hello", "--endpoint", srv.URL, "-n", "20", "-c", "2", "--rate", "200", "-H", "X-Bench: 1")
	if code != exitOK || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	for _, want := range []string{
		"target    GET " + srv.URL + "/2016-08-15/proxy/demo/hello/\n",
		"load      open loop, 200 req/s scheduled, at most 2 in flight, 20 requests\n",
		"requests  20 in ",
		"status    200: 20\n",
		"errors    0\n",
		"late      ",
		"read      ",
		"latency*  min",
		"* from each request's intended send time when it was sent behind schedule",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("report lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "unsent") {
		t.Errorf("unsent reported for a -n run:\n%s", stdout)
	}
}

func TestBenchAllFailed(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	stdout, stderr, code := cliEnv(t, map[string]string{"HOME": t.TempDir()}, "", "bench", "http://"+addr+"/", "-n", "5", "-c", "2")
	if code != exitError || !strings.Contains(stderr, "all 5 requests failed") || !strings.Contains(stderr, "is the server running?") {
		t.Errorf("exit %d stderr %q", code, stderr)
	}
	if !strings.Contains(stdout, "errors    5 (connect 5, timeout 0, other 0); first: ") || !strings.Contains(stdout, "status    -\n") {
		t.Errorf("report:\n%s", stdout)
	}
	// Responses with error statuses are still responses: exit 0.
	srv, _ := loadServer(t)
	if _, stderr, code := cliEnv(t, map[string]string{"HOME": t.TempDir()}, "", "bench", srv.URL+"/nope", "-n", "3"); code != exitOK {
		t.Errorf("404s: exit %d, stderr %q", code, stderr)
	}
}

func TestBenchHelp(t *testing.T) {
	stdout, _, code := cliEnv(t, nil, "", "help", "bench")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"Usage: fnhost bench URL|SERVICE[.QUALIFIER]/FUNCTION", "--concurrency N", "--rate R", "presigned URL", "coordinated omission"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("help lacks %q:\n%s", want, stdout)
		}
	}
	for _, hidden := range []string{"  --c ", "  --H ", "(alias)"} {
		if strings.Contains(stdout, hidden) {
			t.Errorf("help shows %q", hidden)
		}
	}
}

func TestLoadFormatting(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -1234: "-1,234"} {
		if got := formatCount(n); got != want {
			t.Errorf("formatCount(%d) = %q, want %q", n, got, want)
		}
	}
	for d, want := range map[time.Duration]string{
		500: "500ns", 61234: "61.2µs", 1420 * time.Microsecond: "1.42ms", 2310 * time.Millisecond: "2.31s",
	} {
		if got := formatLatency(d); got != want {
			t.Errorf("formatLatency(%v) = %q, want %q", d, got, want)
		}
	}
	if got, want := progressLine(loadgen.Config{Duration: 10 * time.Second}, 12345, 2*time.Second), "2s/10s  12,345 requests  6,172 req/s"; got != want {
		t.Errorf("progress %q, want %q", got, want)
	}
	if got, want := progressLine(loadgen.Config{Requests: 100000}, 5000, 1500*time.Millisecond), "5,000/100,000 requests  1.5s  3,333 req/s"; got != want {
		t.Errorf("progress %q, want %q", got, want)
	}
}
