package server

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fnhost/fnhost/host"
)

// waitJob polls the stateful-invocation API until the job reaches a final
// state (or want), and returns it.
func (ts *testServer) waitJob(svc, fn, id string, want host.JobStatus) host.Job {
	ts.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		res, body := ts.api("GET", "/services/"+svc+"/functions/"+fn+"/stateful-async-invocations/"+id, nil)
		if res.StatusCode != 200 {
			ts.t.Fatalf("get job %s: %d %s", id, res.StatusCode, body)
		}
		var j host.Job
		if err := json.Unmarshal(body, &j); err != nil {
			ts.t.Fatal(err)
		}
		if j.Status == want || (want == "" && j.Status.Finished()) {
			return j
		}
		if time.Now().After(deadline) {
			ts.t.Fatalf("job %s still %s, want %s: %s", id, j.Status, want, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestAsyncTrigger: an async trigger call is answered 202 with its ids,
// runs, and its result is retrievable; InvokeFunction works the same.
func TestAsyncTrigger(t *testing.T) {
	ts := startServer(t)
	ts.deploy("s", "echo", "echo-c", host.Function{}, anonymous())

	res, body := ts.get("POST", "/2016-08-15/proxy/s/echo/p?q=1", []byte("async body"),
		"X-Fc-Invocation-Type", "Async", "X-Fc-Stateful-Async-Invocation-Id", "job_1", "X-Custom", "v")
	if res.StatusCode != 202 || len(body) != 0 {
		t.Fatalf("%d %q", res.StatusCode, body)
	}
	if res.Header.Get("X-Fc-Stateful-Async-Invocation-Id") != "job_1" || res.Header.Get("X-Fc-Request-Id") == "" {
		t.Fatalf("headers %v", res.Header)
	}
	j := ts.waitJob("s", "echo", "job_1", host.JobSucceeded)
	if j.RequestID != res.Header.Get("X-Fc-Request-Id") || j.Attempts != 1 || j.Result == nil || j.Result.Status != 200 {
		t.Fatalf("job %+v", j)
	}
	if b := string(j.Result.Body); !strings.Contains(b, `"path":"/p"`) || !strings.Contains(b, `"body":"async body"`) || !strings.Contains(b, `"x-custom":["v"]`) {
		t.Fatalf("the function did not get the request: %s", b)
	}
	var seen []host.JobStatus
	for _, ev := range j.Events {
		seen = append(seen, ev.Status)
	}
	if len(seen) < 3 || seen[0] != host.JobEnqueued || seen[len(seen)-1] != host.JobSucceeded {
		t.Errorf("events %v", seen)
	}

	// Same id again: 409, nothing new runs.
	res, body = ts.get("POST", "/2016-08-15/proxy/s/echo/", nil, "X-Fc-Invocation-Type", "Async", "X-Fc-Stateful-Async-Invocation-Id", "job_1")
	if code, _ := fcError(t, body); res.StatusCode != 409 || res.Header.Get("X-Fc-Error-Type") != "FcCommonError" {
		t.Fatalf("duplicate: %d %s %s", res.StatusCode, code, body)
	}

	// InvokeFunction, generated id.
	res, body = ts.api("POST", "/services/s/functions/echo/invocations", []byte("payload"), "X-Fc-Invocation-Type", "Async")
	id := res.Header.Get("X-Fc-Stateful-Async-Invocation-Id")
	if res.StatusCode != 202 || id == "" {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	if j := ts.waitJob("s", "echo", id, host.JobSucceeded); !strings.Contains(string(j.Result.Body), `"body":"payload"`) {
		t.Fatalf("%s", j.Result.Body)
	}

	// List: both, newest first, payload only when asked.
	res, body = ts.api("GET", "/services/s/functions/echo/stateful-async-invocations?status=Succeeded", nil)
	var list struct{ Invocations []host.Job }
	if err := json.Unmarshal(body, &list); err != nil || res.StatusCode != 200 || len(list.Invocations) != 2 ||
		list.Invocations[0].InvocationID != id || list.Invocations[0].InvocationPayload != "" {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	_, body = ts.api("GET", "/services/s/functions/echo/stateful-async-invocations?includePayload=true&sortOrderByTime=asc", nil)
	if err := json.Unmarshal(body, &list); err != nil || list.Invocations[0].InvocationPayload != "async body" {
		t.Fatalf("%s", body)
	}
}

// TestAsyncRefusedBeforeAccepting: a request that cannot run never gets a
// 202.
func TestAsyncRefusedBeforeAccepting(t *testing.T) {
	ts := startServer(t, func(o *harnessOptions) { o.limits.MaxAsyncBodyBytes = 1 << 10 })
	ts.deploy("s", "get_only", "hello-c", host.Function{}, anonymous("GET"))
	ts.deploy("s", "signed", "hello-c", host.Function{}, host.HTTPTriggerConfig{AuthType: host.AuthFunction, Methods: []string{"GET"}})
	async := []string{"X-Fc-Invocation-Type", "Async"}
	tests := []struct {
		name, method, path string
		body               []byte
		hdr                []string
		status             int
		code               string
	}{
		{"unknown function", "GET", "/s/nope/", nil, nil, 404, "FunctionNotFound"},
		{"method", "POST", "/s/get_only/", nil, nil, 403, "MethodNotAllowed"},
		{"unsigned", "GET", "/s/signed/", nil, nil, 400, "MissingRequiredHeader"},
		{"body over async limit", "GET", "/s/get_only/", make([]byte, 2<<10), nil, 400, "InvalidArgument"},
		{"bad invocation id", "GET", "/s/get_only/", nil, []string{"X-Fc-Stateful-Async-Invocation-Id", "9bad id"}, 400, "InvalidArgument"},
		{"delay too long", "GET", "/s/get_only/", nil, []string{"X-Fc-Async-Delay", "3601"}, 400, "InvalidArgument"},
		{"delay not a number", "GET", "/s/get_only/", nil, []string{"X-Fc-Async-Delay", "soon"}, 400, "InvalidArgument"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, body := ts.get(tc.method, "/2016-08-15/proxy"+tc.path, tc.body, append(append([]string{}, async...), tc.hdr...)...)
			if code, _ := fcError(t, body); res.StatusCode != tc.status || code != tc.code {
				t.Fatalf("%d %s, want %d %s", res.StatusCode, body, tc.status, tc.code)
			}
		})
	}
	_, body := ts.api("GET", "/services/s/functions/get_only/stateful-async-invocations", nil)
	if !strings.Contains(string(body), `"invocations":[]`) {
		t.Fatalf("a refused request left a job: %s", body)
	}
}

// TestAsyncRetriesAndDestinations: an always-failing function is retried
// per its config, then its onFailure destination (a real local HTTP
// server) gets FC's envelope; a succeeding one reaches onSuccess.
func TestAsyncRetriesAndDestinations(t *testing.T) {
	ts := startServer(t)
	ts.deploy("s", "trap", "trap", host.Function{}, anonymous())
	ts.deploy("s", "ok", "hello-c", host.Function{}, anonymous())

	var mu sync.Mutex
	got := map[string][]byte{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dst := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got[r.URL.Path] = b
		mu.Unlock()
	})}
	go dst.Serve(ln)
	defer dst.Close()
	base := "http://" + ln.Addr().String()

	zero := 1
	for fn, cfg := range map[string]map[string]any{
		"trap": {"maxAsyncRetryAttempts": zero, "destinationConfig": map[string]any{"onFailure": map[string]string{"destination": base + "/failed"}}},
		"ok":   {"destinationConfig": map[string]any{"onSuccess": map[string]string{"destination": base + "/ok"}}},
	} {
		if res, body := ts.api("PUT", "/services/s/functions/"+fn+"/async-invoke-config", cfg); res.StatusCode != 200 {
			t.Fatalf("%d %s", res.StatusCode, body)
		}
	}
	ts.get("GET", "/2016-08-15/proxy/s/trap/", nil, "X-Fc-Invocation-Type", "Async", "X-Fc-Stateful-Async-Invocation-Id", "t1")
	ts.get("GET", "/2016-08-15/proxy/s/ok/", nil, "X-Fc-Invocation-Type", "Async", "X-Fc-Stateful-Async-Invocation-Id", "o1")

	j := ts.waitJob("s", "trap", "t1", host.JobFailed)
	if j.Attempts != 2 || j.AlreadyRetriedTimes != 1 || j.Result == nil || j.Result.ErrorKind != "trap" {
		t.Fatalf("failed job %+v", j)
	}
	ts.waitJob("s", "ok", "o1", host.JobSucceeded)
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		failed, ok := got["/failed"], got["/ok"]
		mu.Unlock()
		if failed != nil && ok != nil {
			var env struct {
				RequestContext struct {
					RequestID, FunctionArn, Condition string
					ApproximateInvokeCount            int
				}
				ResponseContext struct {
					StatusCode    int
					FunctionError string
				}
			}
			if err := json.Unmarshal(failed, &env); err != nil || env.RequestContext.ApproximateInvokeCount != 2 ||
				env.ResponseContext.FunctionError != "UnhandledInvocationError" || !strings.Contains(env.RequestContext.FunctionArn, "services/s.LATEST/functions/trap") {
				t.Fatalf("onFailure envelope %s (%v)", failed, err)
			}
			if err := json.Unmarshal(ok, &env); err != nil || env.ResponseContext.StatusCode != 200 || env.RequestContext.Condition != "" {
				t.Fatalf("onSuccess envelope %s (%v)", ok, err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("destinations not called: %v", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestAsyncStopAndDelay(t *testing.T) {
	ts := startServer(t)
	ts.deploy("s", "f", "hello-c", host.Function{}, anonymous())
	res, _ := ts.get("GET", "/2016-08-15/proxy/s/f/", nil, "X-Fc-Invocation-Type", "Async",
		"X-Fc-Stateful-Async-Invocation-Id", "later", "X-Fc-Async-Delay", "600")
	if res.StatusCode != 202 {
		t.Fatal(res.StatusCode)
	}
	time.Sleep(200 * time.Millisecond)
	if j := ts.waitJob("s", "f", "later", host.JobEnqueued); j.Attempts != 0 {
		t.Fatalf("delayed job ran early: %+v", j)
	}
	res, body := ts.api("PUT", "/services/s/functions/f/stateful-async-invocations/later", nil)
	var j host.Job
	if err := json.Unmarshal(body, &j); err != nil || res.StatusCode != 200 || j.Status != host.JobStopped {
		t.Fatalf("stop: %d %s", res.StatusCode, body)
	}
	res, body = ts.api("PUT", "/services/s/functions/f/stateful-async-invocations/later", nil)
	if res.StatusCode != 409 {
		t.Fatalf("stopping a finished job: %d %s", res.StatusCode, body)
	}
	res, body = ts.api("GET", "/services/s/functions/f/stateful-async-invocations/nope", nil)
	if res.StatusCode != 404 {
		t.Fatalf("unknown job: %d %s", res.StatusCode, body)
	}
}

func TestAsyncConfigValidation(t *testing.T) {
	ts := startServer(t)
	ts.deploy("s", "f", "hello-c", host.Function{}, anonymous())
	for _, tc := range []struct {
		name string
		body any
	}{
		{"retries", map[string]any{"maxAsyncRetryAttempts": 9}},
		{"negative retries", map[string]any{"maxAsyncRetryAttempts": -1}},
		{"age", map[string]any{"maxAsyncEventAgeInSeconds": 0}},
		{"age too long", map[string]any{"maxAsyncEventAgeInSeconds": 604801}},
		{"destination", map[string]any{"destinationConfig": map[string]any{"onSuccess": map[string]string{"destination": "mns://queue"}}}},
		{"destination ARN", map[string]any{"destinationConfig": map[string]any{"onFailure": map[string]string{"destination": "acs:fc:r:a:services/9/functions/f"}}}},
		{"wrong type", map[string]any{"maxAsyncRetryAttempts": "three"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body := ts.api("PUT", "/services/s/functions/f/async-invoke-config", tc.body)
			if code, _ := fcError(t, body); res.StatusCode != 400 || code != "InvalidArgument" {
				t.Fatalf("%d %s", res.StatusCode, body)
			}
		})
	}
	if res, body := ts.api("GET", "/services/s/functions/f/async-invoke-config", nil); res.StatusCode != 404 {
		t.Fatalf("no config yet: %d %s", res.StatusCode, body)
	}
	three := 3
	res, body := ts.api("PUT", "/services/s/functions/f/async-invoke-config", map[string]any{
		"maxAsyncRetryAttempts": three, "destinationConfig": map[string]any{"onSuccess": map[string]string{"destination": "fnhost:s/f"}}})
	if res.StatusCode != 200 || !strings.Contains(string(body), `"maxAsyncRetryAttempts":3`) {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	if res, _ := ts.api("DELETE", "/services/s/functions/f/async-invoke-config", nil); res.StatusCode != 204 {
		t.Fatal(res.StatusCode)
	}
	if res, body := ts.api("PUT", "/services/s/functions/nope/async-invoke-config", map[string]any{}); res.StatusCode != 404 {
		t.Fatalf("missing function: %d %s", res.StatusCode, body)
	}
}
