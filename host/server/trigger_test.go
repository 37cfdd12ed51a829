package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fnhost/fnhost/host"
	"github.com/fnhost/fnhost/host/store"
)

var allMethods = []string{"HEAD", "GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"}

func anonymous(methods ...string) host.HTTPTriggerConfig {
	if methods == nil {
		methods = allMethods
	}
	return host.HTTPTriggerConfig{AuthType: host.AuthAnonymous, Methods: methods}
}

// TestTriggerExamples invokes every example guest through its trigger.
func TestTriggerExamples(t *testing.T) {
	ts := startServer(t)
	tests := []struct {
		guest, path string
		status      int
		ctype, body string
	}{
		{"hello-c", "/", 200, "text/plain", "hello world"},
		{"hello-go", "/", 200, "text/plain", "hello world"},
		{"hello-wat", "/", 200, "text/plain", "hello world"},
		{"nethttp-go", "/users/42", 200, "application/json", `{"id":"42"}`},
		{"nethttp-go", "/nope", 404, "text/plain; charset=utf-8", "404 page not found\n"},
	}
	for _, tc := range tests {
		t.Run(tc.guest+tc.path, func(t *testing.T) {
			fn := strings.ReplaceAll(tc.guest, "-", "_")
			if _, err := ts.store.GetFunction("ex", fn); err != nil {
				ts.deploy("ex", fn, tc.guest, host.Function{}, anonymous())
			}
			res, body := ts.get("GET", "/2016-08-15/proxy/ex/"+fn+tc.path, nil)
			if res.StatusCode != tc.status || string(body) != tc.body {
				t.Fatalf("got %d %q, want %d %q", res.StatusCode, body, tc.status, tc.body)
			}
			if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, tc.ctype) {
				t.Errorf("Content-Type %q, want %q", ct, tc.ctype)
			}
			f, _ := ts.store.GetFunction("ex", fn)
			for name, want := range map[string]string{
				"X-Fc-Code-Checksum":              f.CodeChecksum,
				"X-Fc-Invocation-Service-Version": "LATEST",
			} {
				if got := res.Header.Get(name); got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
			for _, name := range []string{"X-Fc-Request-Id", "X-Fc-Invocation-Duration", "X-Fc-Max-Memory-Usage", "X-Fnhost-Cold-Start"} {
				if res.Header.Get(name) == "" {
					t.Errorf("%s missing", name)
				}
			}
		})
	}
}

func TestTriggerColdThenWarm(t *testing.T) {
	ts := startServer(t)
	ts.deploy("s", "f", "hello-c", host.Function{}, anonymous())
	for i, want := range []string{"true", "false", "false"} {
		res, _ := ts.get("GET", "/2016-08-15/proxy/s/f/", nil)
		if got := res.Header.Get("X-Fnhost-Cold-Start"); got != want {
			t.Fatalf("call %d: x-fnhost-cold-start %q, want %q", i, got, want)
		}
	}
	res, _ := ts.get("GET", "/2016-08-15/proxy/s.LATEST/f", nil)
	if res.StatusCode != 200 {
		t.Fatalf("qualifier LATEST: %d", res.StatusCode)
	}
}

// TestTriggerEcho checks what the guest receives: method, the raw path after
// the function, query, headers (with the host's request id, without the
// client's x-fc-* headers), body and client IP.
func TestTriggerEcho(t *testing.T) {
	ts := startServer(t)
	ts.deploy("s", "echo", "echo-go", host.Function{}, anonymous())
	res, body := ts.get("POST", "/2016-08-15/proxy/s/echo/a%20b/c?x=1&x=2&y", []byte("payload"),
		"X-Custom", "v", "X-Fc-Trace-Id", "spoof")
	if res.StatusCode != 200 {
		t.Fatalf("status %d: %s", res.StatusCode, body)
	}
	var got struct {
		Path     string              `json:"path"`
		Queries  map[string][]string `json:"queries"`
		Headers  map[string][]string `json:"headers"`
		Method   string              `json:"method"`
		Body     string              `json:"body"`
		ClientIP string              `json:"clientIP"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	if got.Path != "/a%20b/c" || got.Method != "POST" || got.Body != "payload" || got.ClientIP != "127.0.0.1" {
		t.Errorf("path %q method %q body %q ip %q", got.Path, got.Method, got.Body, got.ClientIP)
	}
	if q := got.Queries; len(q["x"]) != 2 || q["x"][1] != "2" || len(q["y"]) != 1 {
		t.Errorf("queries %v", q)
	}
	if h := got.Headers; h["x-custom"] == nil || h["x-fc-trace-id"] != nil ||
		len(h["x-fc-request-id"]) != 1 || h["x-fc-request-id"][0] != res.Header.Get("X-Fc-Request-Id") {
		t.Errorf("headers %v (request id %s)", h, res.Header.Get("X-Fc-Request-Id"))
	}
}

// TestTriggerErrors walks FC's HTTP-trigger error table.
func TestTriggerErrors(t *testing.T) {
	ts := startServer(t, func(o *harnessOptions) { o.limits.MaxBodyBytes = 1 << 10 })
	ts.deploy("s", "get_only", "hello-c", host.Function{}, anonymous("GET"))
	ts.deploy("s", "no_trigger", "hello-c", host.Function{}, host.HTTPTriggerConfig{})
	ts.deploy("s", "internal", "hello-c", host.Function{}, host.HTTPTriggerConfig{AuthType: host.AuthAnonymous, Methods: []string{"GET"}, DisableURLInternet: true})
	ts.deploy("s", "signed", "hello-c", host.Function{}, host.HTTPTriggerConfig{AuthType: host.AuthFunction, Methods: []string{"GET"}})
	ts.deploy("s", "trap", "trap", host.Function{}, anonymous())
	ts.deploy("s", "noresponse", "noresponse", host.Function{}, anonymous())
	ts.deploy("s", "bigresp", "bigresp", host.Function{}, anonymous())
	ts.deploy("s", "loop", "loop", host.Function{Timeout: 1}, anonymous())
	ts.deploy("s", "exit", "exit", host.Function{}, anonymous())

	now := time.Now().UTC()
	tests := []struct {
		name    string
		method  string
		path    string
		body    []byte
		hdr     []string
		status  int
		errType string
		code    string // ErrorCode of FcCommonError bodies
		msg     string // part of the message
	}{
		{"unknown service", "GET", "/nosvc/f/", nil, nil, 404, "FcCommonError", "ServiceNotFound", ""},
		{"unknown function", "GET", "/s/nofn/", nil, nil, 404, "FcCommonError", "FunctionNotFound", ""},
		{"no trigger", "GET", "/s/no_trigger/", nil, nil, 404, "FcCommonError", "TriggerNotFound", "no HTTP trigger"},
		{"bad route", "GET", "/s", nil, nil, 404, "FcCommonError", "PathNotSupported", ""},
		{"other qualifier", "GET", "/s.v2/get_only/", nil, nil, 404, "FcCommonError", "VersionNotFound", "LATEST"},
		{"method not allowed", "POST", "/s/get_only/", nil, nil, 403, "FcCommonError", "MethodNotAllowed", "POST"},
		{"internet URL disabled", "GET", "/s/internal/", nil, nil, 403, "FcCommonError", "AccessDenied", "access denied due to function internet URL is disable"},
		{"auth: no headers", "GET", "/s/signed/", nil, nil, 400, "FcCommonError", "MissingRequiredHeader", ""},
		{"auth: bad signature", "GET", "/s/signed/", nil, []string{"Date", now.Format(http.TimeFormat), "Authorization", "FC " + testKeyID + ":" + strings.Repeat("A", 43) + "="}, 403, "FcCommonError", "SignatureNotMatch", ""},
		{"auth: unknown key", "GET", "/s/signed/", nil, []string{"Date", now.Format(http.TimeFormat), "Authorization", "FC nobody:" + strings.Repeat("A", 43) + "="}, 403, "FcCommonError", "InvalidAccessKeyID", ""},
		{"body over limit", "GET", "/s/get_only/", make([]byte, 2<<10), nil, 400, "FcCommonError", "InvalidArgument", "body"},
		{"headers over limit", "GET", "/s/get_only/", nil, []string{"X-Big", strings.Repeat("a", 9<<10)}, 400, "FcCommonError", "InvalidArgument", "headers"},
		{"path over limit", "GET", "/s/get_only/" + strings.Repeat("p", 5<<10), nil, nil, 400, "FcCommonError", "InvalidArgument", ""},
		{"trap", "GET", "/s/trap/", nil, nil, 502, "UnhandledInvocationError", "", "trap"},
		{"no response", "GET", "/s/noresponse/", nil, nil, 502, "UnhandledInvocationError", "", ""},
		{"response too large", "GET", "/s/bigresp/", nil, nil, 502, "UnhandledInvocationError", "", ""},
		{"exit", "GET", "/s/exit/", nil, nil, 502, "UnhandledInvocationError", "", ""},
		{"timeout", "GET", "/s/loop/", nil, nil, 502, "UnhandledInvocationError", "", "Function timed out after 1 seconds"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, body := ts.get(tc.method, "/2016-08-15/proxy"+tc.path, tc.body, tc.hdr...)
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tc.status, body)
			}
			if got := res.Header.Get("X-Fc-Error-Type"); got != tc.errType {
				t.Errorf("X-Fc-Error-Type %q, want %q", got, tc.errType)
			}
			if res.Header.Get("X-Fc-Request-Id") == "" {
				t.Error("no X-Fc-Request-Id")
			}
			var msg string
			if tc.errType == "FcCommonError" {
				var code string
				code, msg = fcError(t, body)
				if code != tc.code {
					t.Errorf("ErrorCode %q, want %q (%s)", code, tc.code, msg)
				}
			} else {
				var fe struct{ ErrorMessage, ErrorType string }
				if err := json.Unmarshal(body, &fe); err != nil || fe.ErrorType != tc.errType {
					t.Fatalf("function error body %q: %v", body, err)
				}
				msg = fe.ErrorMessage
			}
			if !strings.Contains(msg, tc.msg) {
				t.Errorf("message %q does not contain %q", msg, tc.msg)
			}
		})
	}

	t.Run("signed request passes", func(t *testing.T) {
		req, _ := http.NewRequest("GET", ts.URL+"/2016-08-15/proxy/s/signed/x?b=2&a=1", nil)
		req.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
		sign(req, true)
		res, body := ts.do(req)
		if res.StatusCode != 200 || string(body) != "hello world" {
			t.Fatalf("%d %s", res.StatusCode, body)
		}
	})
	t.Run("skewed date", func(t *testing.T) {
		req, _ := http.NewRequest("GET", ts.URL+"/2016-08-15/proxy/s/signed/", nil)
		req.Header.Set("Date", time.Now().Add(-16*time.Minute).UTC().Format(http.TimeFormat))
		sign(req, true)
		res, body := ts.do(req)
		if code, _ := fcError(t, body); res.StatusCode != 403 || code != "RequestTimeTooSkewed" {
			t.Fatalf("%d %s", res.StatusCode, body)
		}
	})
	t.Run("healthy after failures", func(t *testing.T) {
		res, body := ts.get("GET", "/2016-08-15/proxy/s/get_only/", nil)
		if res.StatusCode != 200 || string(body) != "hello world" {
			t.Fatalf("%d %s", res.StatusCode, body)
		}
	})
}

// TestTriggerTooManyInstances: with one instance and no queueing, a second
// concurrent call is FC's 429.
func TestTriggerTooManyInstances(t *testing.T) {
	ts := startServer(t, func(o *harnessOptions) { o.queueWait = -1 })
	ts.deploy("s", "loop", "loop", host.Function{Timeout: 1, MaxInstances: 1}, anonymous())
	var wg sync.WaitGroup
	wg.Add(1)
	first := make(chan int, 1)
	go func() {
		defer wg.Done()
		res, _ := ts.get("GET", "/2016-08-15/proxy/s/loop/", nil)
		first <- res.StatusCode
	}()
	// Wait until the first call holds the instance.
	deadline := time.Now().Add(5 * time.Second)
	for {
		e, err := ts.inv.Lookup(context.Background(), "s", "loop")
		if err == nil && e.Pool().Busy() == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("first call never started")
		}
		time.Sleep(5 * time.Millisecond)
	}
	res, body := ts.get("GET", "/2016-08-15/proxy/s/loop/", nil)
	if code, _ := fcError(t, body); res.StatusCode != 429 || code != "ResourceExhausted" || res.Header.Get("X-Fc-Error-Type") != "FcCommonError" ||
		res.Header.Get("Retry-After") != "1" {
		t.Fatalf("second call: %d %s", res.StatusCode, body)
	}
	wg.Wait()
	if s := <-first; s != 502 {
		t.Fatalf("first call: %d, want the timeout's 502", s)
	}
}

func TestTriggerLogTail(t *testing.T) {
	ts := startServer(t)
	ts.deploy("s", "env", "env-go", host.Function{EnvironmentVariables: map[string]string{"GREETING": "hi"}}, anonymous())
	res, body := ts.get("GET", "/2016-08-15/proxy/s/env/", nil, "X-Fc-Log-Type", "Tail")
	if res.StatusCode != 200 || string(body) != "os=hi abi=hi" {
		t.Fatalf("%d %q", res.StatusCode, body)
	}
	log, err := base64.StdEncoding.DecodeString(res.Header.Get("X-Fc-Log-Result"))
	if err != nil || !strings.Contains(string(log), "env guest called") || !strings.Contains(string(log), "stderr line") {
		t.Fatalf("log tail %q (%v)", log, err)
	}
	res, _ = ts.get("GET", "/2016-08-15/proxy/s/env/", nil)
	if res.Header.Get("X-Fc-Log-Result") != "" {
		t.Error("log result without x-fc-log-type: Tail")
	}

	// The invocation was recorded with its log.
	if err := ts.logs.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	recs, _, err := ts.store.ListInvocations("s", "env", host.InvocationListOptions{})
	if err != nil || len(recs) != 2 || !strings.Contains(recs[0].Log, "env guest called") || recs[0].Status != 200 {
		t.Fatalf("records %+v, %v", recs, err)
	}
}

func TestInvocationRecordOnFailure(t *testing.T) {
	ts := startServer(t)
	ts.deploy("s", "trap", "trap", host.Function{}, anonymous())
	res, _ := ts.get("GET", "/2016-08-15/proxy/s/trap/", nil)
	if err := ts.logs.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	recs, _, err := ts.store.ListInvocations("s", "trap", host.InvocationListOptions{RequestID: res.Header.Get("X-Fc-Request-Id")})
	if err != nil || len(recs) != 1 || recs[0].ErrorKind != "trap" || recs[0].Status != 0 {
		t.Fatalf("records %+v, %v", recs, err)
	}
}

func TestHealthMetricsAndUnknownPath(t *testing.T) {
	ts := startServer(t)
	ts.deploy("s", "f", "hello-c", host.Function{}, anonymous())
	ts.get("GET", "/2016-08-15/proxy/s/f/", nil)
	ts.get("GET", "/2016-08-15/proxy/s/f/", nil)

	res, body := ts.get("GET", "/healthz", nil)
	if res.StatusCode != 200 || !strings.Contains(string(body), "ok") {
		t.Fatalf("healthz %d %s", res.StatusCode, body)
	}
	res, body = ts.get("GET", "/metrics", nil)
	for _, want := range []string{
		`fnhost_invocations_total{function="f",outcome="success",service="s"} 2`,
		`fnhost_cold_starts_total{function="f",service="s"} 1`,
		`fnhost_invocation_duration_seconds_count{function="f",service="s"} 2`,
		`fnhost_instances_idle{function="f",service="s"} 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	res, body = ts.get("GET", "/nothing/here", nil)
	if code, _ := fcError(t, body); res.StatusCode != 404 || code != "PathNotSupported" {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
}

// TestUpdateSeenByNextCall: after the metadata changes and the invoker entry
// is invalidated, the next call runs the new code.
func TestUpdateSeenByNextCall(t *testing.T) {
	ts := startServer(t)
	ts.deploy("s", "f", "hello-c", host.Function{}, anonymous())
	if _, body := ts.get("GET", "/2016-08-15/proxy/s/f/", nil); string(body) != "hello world" {
		t.Fatalf("%s", body)
	}
	if _, err := ts.store.UpdateFunction("s", "f", guestWasm(t, "echo-c"), func(*host.Function) error { return nil }); err != nil {
		t.Fatal(err)
	}
	ts.inv.Invalidate("s", "f")
	if _, body := ts.get("GET", "/2016-08-15/proxy/s/f/x", nil); !strings.Contains(string(body), `"path":"/x"`) {
		t.Fatalf("still old code: %s", body)
	}
}

// TestShutdownLetsRunningFinish: Shutdown waits for the invocation in
// flight, which gets its answer rather than a dropped connection.
func TestShutdownLetsRunningFinish(t *testing.T) {
	ts := startServer(t)
	ts.deploy("s", "loop", "loop", host.Function{Timeout: 1}, anonymous())
	got := make(chan int, 1)
	go func() {
		res, err := ts.client.Get(ts.URL + "/2016-08-15/proxy/s/loop/")
		if err != nil {
			got <- -1
			return
		}
		res.Body.Close()
		got <- res.StatusCode
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		e, err := ts.inv.Lookup(context.Background(), "s", "loop")
		if err == nil && e.Pool().Busy() == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("call never started")
		}
		time.Sleep(5 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := ts.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if s := <-got; s != 502 {
		t.Fatalf("in-flight call got %d, want its own 502 timeout answer", s)
	}
}

// panicStore panics in ListServices to show that a handler panic is a 500
// for that request only.
type panicStore struct{ Store }

func (panicStore) ListServices(host.ListOptions) ([]host.Service, string, error) {
	panic("boom")
}

func TestPanicIsolated(t *testing.T) {
	ts := startServer(t, func(o *harnessOptions) { o.wrapStore = func(s Store) Store { return panicStore{s} } })
	ts.deploy("s", "f", "hello-c", host.Function{}, anonymous())
	res, body := ts.api("GET", "/services", nil)
	if code, _ := fcError(t, body); res.StatusCode != 500 || code != "InternalServerError" || res.Header.Get("X-Fc-Request-Id") == "" {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	res, body = ts.get("GET", "/2016-08-15/proxy/s/f/", nil)
	if res.StatusCode != 200 || string(body) != "hello world" {
		t.Fatalf("after panic: %d %s", res.StatusCode, body)
	}
}

var _ Store = (*store.Store)(nil)

// TestTriggerReplay: a signed POST to a function-auth trigger is accepted
// once; the same signature again inside the window is refused. GETs may
// repeat.
func TestTriggerReplay(t *testing.T) {
	ts := startServer(t)
	ts.deploy("s", "signed", "hello-c", host.Function{}, host.HTTPTriggerConfig{AuthType: host.AuthFunction, Methods: []string{"GET", "POST"}})
	date := time.Now().UTC().Format(http.TimeFormat)
	send := func(method string) (int, string) {
		req, _ := http.NewRequest(method, ts.URL+"/2016-08-15/proxy/s/signed/", strings.NewReader("x"))
		req.Header.Set("Date", date)
		sign(req, true)
		res, body := ts.do(req)
		code := ""
		if res.StatusCode != 200 {
			code, _ = fcError(t, body)
		}
		return res.StatusCode, code
	}
	for i, want := range []int{200, 403} {
		if got, code := send("POST"); got != want || (want == 403 && code != "RequestReplayed") {
			t.Fatalf("POST %d: %d %s, want %d", i, got, code, want)
		}
	}
	for i := range 2 {
		if got, _ := send("GET"); got != 200 {
			t.Fatalf("GET %d: %d", i, got)
		}
	}
}
