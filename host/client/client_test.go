package client_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/fnhost/fnhost/host"
	"github.com/fnhost/fnhost/host/auth"
	"github.com/fnhost/fnhost/host/client"
)

const (
	testKeyID  = "akid"
	testSecret = "akSec"
)

// seen is what the fake server recorded of one request.
type seen struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Body                   []byte
}

// newServer starts an httptest server that checks every request's FC
// signature and Content-MD5 (failing t otherwise), records it, and answers
// with h. It returns a client for it and the recorded requests.
func newServer(t *testing.T, h http.HandlerFunc) (*client.Client, *[]seen) {
	t.Helper()
	var reqs []seen
	v := &auth.Verifier{Keys: func(id string) (string, bool) { return testSecret, id == testKeyID }}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ar := &auth.Request{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Header: auth.HTTPHeader(r.Header)}
		if err := v.Verify(ar); err != nil {
			t.Errorf("%s %s: signature: %v", r.Method, r.URL.Path, err)
		}
		if len(body) > 0 || r.Method == http.MethodPost || r.Method == http.MethodPut {
			sum := md5.Sum(body)
			if got, want := r.Header.Get("Content-MD5"), hex.EncodeToString(sum[:]); got != want {
				t.Errorf("%s %s: Content-MD5 %q, want %q", r.Method, r.URL.Path, got, want)
			}
		}
		reqs = append(reqs, seen{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), body})
		r.Body = io.NopCloser(bytes.NewReader(body))
		w.Header().Set("X-Fc-Request-Id", "1-req")
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	c, err := client.New(client.Config{
		Endpoint: srv.URL + "/", AccessKeyID: testKeyID, AccessKeySecret: testSecret,
		AccountID: "acct", UserAgent: "test-agent",
	})
	if err != nil {
		t.Fatal(err)
	}
	return c, &reqs
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func TestNewEndpoint(t *testing.T) {
	for _, tc := range []struct {
		endpoint string
		ok       bool
	}{
		{"http://127.0.0.1:9000", true},
		{"https://fc.example.com/", true},
		{"", false},
		{"127.0.0.1:9000", false},
		{"ftp://host", false},
		{"http://host/prefix", false},
		{"http://host?x=1", false},
		{"http://user:pw@host", false},
	} {
		_, err := client.New(client.Config{Endpoint: tc.endpoint})
		if (err == nil) != tc.ok {
			t.Errorf("New(%q) error %v, want ok=%v", tc.endpoint, err, tc.ok)
		}
	}
}

func TestRequestHeadersAndSignature(t *testing.T) {
	c, reqs := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodPost:
			writeJSON(w, 200, host.Service{ServiceName: "demo", Description: "d", ServiceID: "id1"})
		case http.MethodGet:
			writeJSON(w, 200, host.Service{ServiceName: "demo"})
		case http.MethodDelete:
			w.WriteHeader(http.StatusNoContent)
		}
	})
	ctx := context.Background()
	desc := "d"
	svc, err := c.CreateService(ctx, client.ServiceInput{ServiceName: "demo", Description: &desc})
	if err != nil {
		t.Fatal(err)
	}
	if svc.ServiceID != "id1" || svc.Description != "d" {
		t.Errorf("CreateService = %+v", svc)
	}
	if _, err := c.GetService(ctx, "demo"); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteService(ctx, "demo"); err != nil {
		t.Fatalf("DeleteService with 204: %v", err)
	}

	if len(*reqs) != 3 {
		t.Fatalf("%d requests, want 3", len(*reqs))
	}
	post, get := (*reqs)[0], (*reqs)[1]
	if post.Method != "POST" || post.Path != "/2016-08-15/services" {
		t.Errorf("create: %s %s", post.Method, post.Path)
	}
	if got := string(post.Body); got != `{"serviceName":"demo","description":"d"}` {
		t.Errorf("create body %s", got)
	}
	for name, want := range map[string]string{
		"Content-Type":    "application/json",
		"X-Fc-Account-Id": "acct",
		"User-Agent":      "test-agent",
		"Accept":          "application/json",
	} {
		if got := post.Header.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if !strings.HasPrefix(post.Header.Get("Authorization"), "FC akid:") {
		t.Errorf("Authorization %q", post.Header.Get("Authorization"))
	}
	if get.Path != "/2016-08-15/services/demo" || get.Header.Get("Content-Type") != "" || get.Header.Get("Content-MD5") != "" {
		t.Errorf("get: %s, Content-Type %q, Content-MD5 %q (a GET has no body)", get.Path, get.Header.Get("Content-Type"), get.Header.Get("Content-MD5"))
	}
	if (*reqs)[2].Method != "DELETE" {
		t.Errorf("delete method %s", (*reqs)[2].Method)
	}
}

func TestErrorDecoding(t *testing.T) {
	for _, tc := range []struct {
		name       string
		status     int
		body       string
		want       client.Error
		str        string
		notFound   bool
		isConflict bool
	}{
		{
			name: "FC upper case", status: 404,
			body:     `{"ErrorCode":"ServiceNotFound","ErrorMessage":"service \"x\" does not exist"}`,
			want:     client.Error{Status: 404, Code: "ServiceNotFound", Message: `service "x" does not exist`, RequestID: "1-req"},
			str:      `ServiceNotFound (404): service "x" does not exist [request 1-req]`,
			notFound: true,
		},
		{
			name: "lower case", status: 409,
			body:       `{"errorCode":"ServiceAlreadyExists","errorMessage":"exists"}`,
			want:       client.Error{Status: 409, Code: "ServiceAlreadyExists", Message: "exists", RequestID: "1-req"},
			str:        "ServiceAlreadyExists (409): exists [request 1-req]",
			isConflict: true,
		},
		{
			name: "not empty is no conflict", status: 409,
			body: `{"ErrorCode":"ServiceNotEmpty","ErrorMessage":"service \"x\" still has functions"}`,
			want: client.Error{Status: 409, Code: "ServiceNotEmpty", Message: `service "x" still has functions`, RequestID: "1-req"},
			str:  `ServiceNotEmpty (409): service "x" still has functions [request 1-req]`,
		},
		{
			name: "not JSON", status: 502, body: "bad\ngateway\n",
			want: client.Error{Status: 502, Message: "bad gateway", RequestID: "1-req"},
			str:  "Bad Gateway (502): bad gateway [request 1-req]",
		},
		{
			name: "empty", status: 500, body: "",
			want: client.Error{Status: 500, RequestID: "1-req"},
			str:  "Internal Server Error (500) [request 1-req]",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			})
			_, err := c.GetFunction(context.Background(), "s", "f")
			var e *client.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T %v, want *client.Error", err, err)
			}
			if *e != tc.want {
				t.Errorf("error %+v, want %+v", *e, tc.want)
			}
			if e.Error() != tc.str {
				t.Errorf("Error() = %q, want %q", e.Error(), tc.str)
			}
			if client.IsNotFound(err) != tc.notFound || client.IsConflict(err) != tc.isConflict {
				t.Errorf("IsNotFound %v IsConflict %v", client.IsNotFound(err), client.IsConflict(err))
			}
		})
	}
	if client.IsNotFound(errors.New("x")) || client.IsConflict(nil) {
		t.Error("foreign errors matched")
	}
}

func TestListPaging(t *testing.T) {
	c, reqs := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("nextToken") == "" {
			writeJSON(w, 200, map[string]any{"services": []host.Service{{ServiceName: "a"}, {ServiceName: "b"}}, "nextToken": "b2"})
			return
		}
		writeJSON(w, 200, map[string]any{"services": []host.Service{{ServiceName: "c"}}})
	})
	ctx := context.Background()
	var names []string
	token := ""
	for {
		page, next, err := c.ListServices(ctx, "p", "", token, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range page {
			names = append(names, s.ServiceName)
		}
		if next == "" {
			break
		}
		token = next
	}
	if !reflect.DeepEqual(names, []string{"a", "b", "c"}) {
		t.Errorf("names %v", names)
	}
	if got := (*reqs)[0].RawQuery; got != "limit=2&prefix=p" {
		t.Errorf("first query %q", got)
	}
	if got := (*reqs)[1].RawQuery; got != "limit=2&nextToken=b2&prefix=p" {
		t.Errorf("second query %q", got)
	}
}

func TestFunctionsAndTriggers(t *testing.T) {
	c, reqs := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/code"):
			writeJSON(w, 200, client.FunctionCode{URL: "http://x/code", Checksum: "abc"})
		case strings.Contains(r.URL.Path, "/triggers"):
			if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/triggers") {
				writeJSON(w, 200, map[string]any{"triggers": []host.Trigger{{TriggerName: "http"}}})
				return
			}
			writeJSON(w, 200, host.Trigger{TriggerName: "http", TriggerType: "http"})
		case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/functions"):
			writeJSON(w, 200, map[string]any{"functions": []host.Function{{FunctionName: "f"}}})
		default:
			writeJSON(w, 200, host.Function{FunctionName: "f", CodeSize: 8, CodeChecksum: "abc"})
		}
	})
	ctx := context.Background()
	wasm := []byte("\x00asm\x01\x00\x00\x00")
	mem := 128
	f, err := c.CreateFunction(ctx, "s", client.FunctionInput{
		FunctionName: "f", Runtime: host.RuntimeWasm, MemorySize: &mem, Code: client.CodeFromWasm(wasm),
		EnvironmentVariables: map[string]string{"K": "V"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if f.ServiceName != "s" || f.CodeSize != 8 {
		t.Errorf("CreateFunction = %+v", f)
	}
	zero := 0
	if _, err := c.UpdateFunction(ctx, "s", "f", client.FunctionInput{FunctionName: "ignored", Timeout: &zero, EnvironmentVariables: map[string]string{}}); err != nil {
		t.Fatal(err)
	}
	fs, _, err := c.ListFunctions(ctx, "s", "", "", "", 0)
	if err != nil || len(fs) != 1 || fs[0].ServiceName != "s" {
		t.Fatalf("ListFunctions = %+v, %v", fs, err)
	}
	code, err := c.GetFunctionCode(ctx, "s", "f")
	if err != nil || code.Checksum != "abc" || code.URL != "http://x/code" {
		t.Fatalf("GetFunctionCode = %+v, %v", code, err)
	}
	tr, err := c.CreateTrigger(ctx, "s", "f", client.TriggerInput{
		TriggerName: "http", TriggerType: host.TriggerTypeHTTP,
		TriggerConfig: &host.HTTPTriggerConfig{AuthType: host.AuthAnonymous, Methods: []string{"GET"}},
	})
	if err != nil || tr.ServiceName != "s" || tr.FunctionName != "f" {
		t.Fatalf("CreateTrigger = %+v, %v", tr, err)
	}
	ts, _, err := c.ListTriggers(ctx, "s", "f", "", "", "", 0)
	if err != nil || len(ts) != 1 || ts[0].FunctionName != "f" {
		t.Fatalf("ListTriggers = %+v, %v", ts, err)
	}
	if err := c.DeleteTrigger(ctx, "s", "f", "http"); err != nil {
		t.Fatal(err)
	}

	want := []struct{ method, path, body string }{
		{"POST", "/2016-08-15/services/s/functions",
			`{"functionName":"f","runtime":"wasm","memorySize":128,"environmentVariables":{"K":"V"},"code":{"zipFile":"` + base64.StdEncoding.EncodeToString(wasm) + `"}}`},
		{"PUT", "/2016-08-15/services/s/functions/f", `{"timeout":0,"environmentVariables":{}}`},
		{"GET", "/2016-08-15/services/s/functions", ""},
		{"GET", "/2016-08-15/services/s/functions/f/code", ""},
		{"POST", "/2016-08-15/services/s/functions/f/triggers",
			`{"triggerName":"http","triggerType":"http","triggerConfig":{"authType":"anonymous","methods":["GET"],"disableURLInternet":false}}`},
		{"GET", "/2016-08-15/services/s/functions/f/triggers", ""},
		{"DELETE", "/2016-08-15/services/s/functions/f/triggers/http", ""},
	}
	if len(*reqs) != len(want) {
		t.Fatalf("%d requests, want %d", len(*reqs), len(want))
	}
	for i, w := range want {
		got := (*reqs)[i]
		if got.Method != w.method || got.Path != w.path || string(got.Body) != w.body {
			t.Errorf("request %d: %s %s %s\nwant %s %s %s", i, got.Method, got.Path, got.Body, w.method, w.path, w.body)
		}
	}
}

func TestEmptyName(t *testing.T) {
	c, reqs := newServer(t, func(w http.ResponseWriter, r *http.Request) {})
	if _, err := c.GetFunction(context.Background(), "s", ""); err == nil {
		t.Error("GetFunction with an empty name succeeded")
	}
	if len(*reqs) != 0 {
		t.Error("a request was sent")
	}
}

func TestInvokeFunction(t *testing.T) {
	c, reqs := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch string(body) {
		case "guest-404":
			w.WriteHeader(404)
			io.WriteString(w, "no such page") // the guest's own 404, not an FC error
		case "missing":
			writeJSON(w, 404, map[string]string{"ErrorCode": "FunctionNotFound", "ErrorMessage": "no f"})
		case "trap":
			w.Header().Set("X-Fc-Error-Type", "UnhandledInvocationError")
			writeJSON(w, 502, map[string]string{"errorMessage": "wasm trap: unreachable", "errorType": "trap"})
		case "async":
			w.WriteHeader(202)
		default:
			w.Header().Set("X-Fc-Log-Result", base64.StdEncoding.EncodeToString([]byte("line 1\n")))
			w.Header().Set("X-Guest", "yes")
			w.WriteHeader(201)
			io.WriteString(w, "hello")
		}
	})
	ctx := context.Background()

	res, err := c.InvokeFunction(ctx, "s", "f", []byte("hi"), client.InvokeOptions{
		LogTail: true, Qualifier: "LATEST", Headers: http.Header{"x-fc-trace-id": {"t1"}, "Content-Type": {"text/plain"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != 201 || string(res.Body) != "hello" || res.RequestID != "1-req" || res.LogResult != "line 1\n" || res.Header.Get("X-Guest") != "yes" || res.ErrorType != "" {
		t.Errorf("result %+v", res)
	}
	r0 := (*reqs)[0]
	if r0.Path != "/2016-08-15/services/s.LATEST/functions/f/invocations" || string(r0.Body) != "hi" {
		t.Errorf("request %s %q", r0.Path, r0.Body)
	}
	for name, want := range map[string]string{
		"X-Fc-Invocation-Type": "Sync", "X-Fc-Log-Type": "Tail", "X-Fc-Trace-Id": "t1", "Content-Type": "text/plain",
	} {
		if got := r0.Header.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}

	res, err = c.InvokeFunction(ctx, "s", "f", []byte("async"), client.InvokeOptions{Async: true})
	if err != nil || res.Status != 202 || res.RequestID != "1-req" {
		t.Errorf("async: %+v, %v", res, err)
	}
	if got := (*reqs)[1].Header.Get("X-Fc-Invocation-Type"); got != "Async" {
		t.Errorf("async invocation type %q", got)
	}
	if got := (*reqs)[1].Header.Get("Content-Type"); got != "application/octet-stream" {
		t.Errorf("default Content-Type %q", got)
	}

	res, err = c.InvokeFunction(ctx, "s", "f", []byte("trap"), client.InvokeOptions{})
	if err != nil || res.ErrorType != "UnhandledInvocationError" || res.Status != 502 || res.ErrorMessage() != "wasm trap: unreachable" {
		t.Errorf("trap: %+v, %v", res, err)
	}

	res, err = c.InvokeFunction(ctx, "s", "f", []byte("guest-404"), client.InvokeOptions{})
	if err != nil || res.Status != 404 || res.ErrorType != "" || res.ErrorMessage() != "" {
		t.Errorf("guest 404: %+v, %v", res, err)
	}

	_, err = c.InvokeFunction(ctx, "s", "f", []byte("missing"), client.InvokeOptions{})
	if !client.IsNotFound(err) || !strings.Contains(err.Error(), "FunctionNotFound (404): no f") {
		t.Errorf("missing function: %v", err)
	}
}

func TestListInvocationLogs(t *testing.T) {
	c, reqs := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{
			"invocations": []host.Invocation{{RequestID: "r2", Status: 200, Log: "hi\n"}, {RequestID: "r1", ErrorKind: "trap"}},
			"nextToken":   "t2",
		})
	})
	invs, next, err := c.ListInvocationLogs(context.Background(), "s", "f", client.InvocationLogOptions{RequestID: "r2", Limit: 5, NextToken: "t1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(invs) != 2 || invs[0].RequestID != "r2" || invs[0].Log != "hi\n" || invs[1].ErrorKind != "trap" || next != "t2" {
		t.Errorf("got %+v, %q", invs, next)
	}
	r := (*reqs)[0]
	if r.Path != "/2016-08-15/services/s/functions/f/invocation-logs" || r.RawQuery != "limit=5&nextToken=t1&requestId=r2" {
		t.Errorf("request %s?%s", r.Path, r.RawQuery)
	}
}

func TestTriggerURL(t *testing.T) {
	c, err := client.New(client.Config{Endpoint: "http://127.0.0.1:9000/"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.TriggerURL("demo", "hello"), "http://127.0.0.1:9000/2016-08-15/proxy/demo/hello/"; got != want {
		t.Errorf("TriggerURL = %q, want %q", got, want)
	}
}

func TestUnsigned(t *testing.T) {
	var authz string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		authz = r.Header.Get("Authorization")
		writeJSON(w, 200, map[string]any{})
	}))
	defer srv.Close()
	c, err := client.New(client.Config{Endpoint: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.ListServices(context.Background(), "", "", "", 0); err != nil {
		t.Fatal(err)
	}
	if authz != "" {
		t.Errorf("Authorization %q without a key", authz)
	}
}
