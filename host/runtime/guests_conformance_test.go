package runtime

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/fnhost/fnhost/host"
)

// TestConformance runs the same requests against hello and echo in every
// guest language; each language must answer exactly alike.
func TestConformance(t *testing.T) {
	hellos := []string{"hello-wat", "hello-c", "hello-go"}
	echos := []string{"echo-c", "echo-go"}
	requests := []struct {
		name string
		req  *host.Request
		// echo's expected JSON, as a decoded value
		want map[string]any
	}{
		{
			name: "get root",
			req:  getRequest("/"),
			want: map[string]any{
				"path": "/", "queries": map[string]any{}, "headers": map[string]any{},
				"method": "GET", "body": "", "url": "/", "clientIP": "127.0.0.1",
			},
		},
		{
			name: "post with repeated query and headers",
			req:  echoRequest(),
			want: map[string]any{
				"path": "/a/b",
				"queries": map[string]any{
					"x": []any{"1", "2"}, "y": []any{""}, "a b": []any{"c d"},
				},
				"headers": map[string]any{
					"accept":       []any{"text/plain", "application/json"},
					"content-type": []any{"text/plain"},
				},
				"method": "POST", "body": `hello "body"`, "url": "/a/b?x=1&x=2&y&a%20b=c+d", "clientIP": "203.0.113.7",
			},
		},
		{
			name: "escapes and empty pairs",
			req: &host.Request{
				Method:   []byte("PUT"),
				Path:     []byte("/p%2Fq"),
				RawQuery: []byte("&&k=%E2%9C%93&k=&=v"),
				Headers:  []host.Header{{Name: []byte("X-Multi"), Value: []byte("a")}, {Name: []byte("x-multi"), Value: []byte("b")}},
				ClientIP: []byte("::1"),
				Body:     []byte("line1\nline2\t\"q\"\\"),
			},
			want: map[string]any{
				"path":    "/p%2Fq",
				"queries": map[string]any{"k": []any{"✓", ""}, "": []any{"v"}},
				"headers": map[string]any{"x-multi": []any{"a", "b"}},
				"method":  "PUT", "body": "line1\nline2\t\"q\"\\", "url": "/p%2Fq?&&k=%E2%9C%93&k=&=v", "clientIP": "::1",
			},
		},
		{
			name: "non-UTF-8 and HTML bytes",
			req: &host.Request{
				Method:   []byte("POST"),
				Path:     []byte("/u"),
				RawQuery: []byte("q=%FF%C3%A9"),
				Headers:  []host.Header{{Name: []byte("X-Raw"), Value: []byte("caf\xc3\xa9 \xff")}},
				ClientIP: []byte("127.0.0.1"),
				Body:     []byte("a\xffb <&> \u2028 \xe2\x82"),
			},
			want: map[string]any{
				"path":    "/u",
				"queries": map[string]any{"q": []any{"\ufffdé"}},
				"headers": map[string]any{"x-raw": []any{"café \ufffd"}},
				"method":  "POST", "body": "a\ufffdb <&> \u2028 \ufffd\ufffd", "url": "/u?q=%FF%C3%A9", "clientIP": "127.0.0.1",
			},
		},
	}
	for _, rc := range requests {
		for _, name := range hellos {
			t.Run(rc.name+"/"+name, func(t *testing.T) {
				f := newFunction(t, name, FunctionConfig{})
				var res host.Response
				if err := f.Invoke(context.Background(), rc.req, &res); err != nil {
					t.Fatal(err)
				}
				ct, _ := header(&res, "Content-Type")
				if res.Status != 200 || string(res.Body) != "hello world" || ct != "text/plain" {
					t.Errorf("got %d %q content-type %q; want 200 \"hello world\" text/plain", res.Status, res.Body, ct)
				}
			})
		}
		bodies := map[string]string{}
		for _, name := range echos {
			t.Run(rc.name+"/"+name, func(t *testing.T) {
				f := newFunction(t, name, FunctionConfig{})
				var res host.Response
				if err := f.Invoke(context.Background(), rc.req, &res); err != nil {
					t.Fatalf("%v (log %q)", err, res.Log)
				}
				ct, _ := header(&res, "Content-Type")
				if res.Status != 200 || ct != "application/json" {
					t.Errorf("status %d content-type %q", res.Status, ct)
				}
				if !utf8.Valid(res.Body) {
					t.Errorf("body is not valid UTF-8, so not valid JSON: %q", res.Body)
				}
				var got map[string]any
				if err := json.Unmarshal(res.Body, &got); err != nil {
					t.Fatalf("body is not JSON: %v: %s", err, res.Body)
				}
				if !reflect.DeepEqual(got, rc.want) {
					t.Errorf("echo mismatch\n got %v\nwant %v", got, rc.want)
				}
				bodies[name] = string(res.Body)
			})
		}
		if bodies["echo-c"] != bodies["echo-go"] {
			t.Errorf("%s: echo-c and echo-go differ byte for byte:\n  c: %s\n go: %s", rc.name, bodies["echo-c"], bodies["echo-go"])
		}
	}
}

// TestNetHTTPGuest: a plain http.Handler with Go 1.22 ServeMux patterns,
// served through the SDK's adapter.
func TestNetHTTPGuest(t *testing.T) {
	f := newFunction(t, "nethttp-go", FunctionConfig{})
	cases := []struct {
		method, path string
		status       int
		body         string
	}{
		{"GET", "/users/42", 200, `{"id":"42"}`},
		{"GET", "/", 200, "hello from net/http"},
		{"GET", "/nope", 404, "404 page not found\n"},
		{"POST", "/users/42", 405, "Method Not Allowed\n"},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			req := getRequest(tc.path)
			req.Method = []byte(tc.method)
			var res host.Response
			if err := f.Invoke(context.Background(), req, &res); err != nil {
				t.Fatal(err)
			}
			if res.Status != tc.status || strings.TrimSpace(string(res.Body)) != strings.TrimSpace(tc.body) {
				t.Errorf("got %d %q, want %d %q", res.Status, res.Body, tc.status, tc.body)
			}
		})
	}
}

// TestEnvAndLog: function environment variables reach the guest through
// WASI environ and env_get; log calls and stderr land in the log.
func TestEnvAndLog(t *testing.T) {
	f := newFunction(t, "env-go", FunctionConfig{Env: []string{"GREETING=hi there", "OTHER=x"}})
	var res host.Response
	if err := f.Invoke(context.Background(), getRequest("/"), &res); err != nil {
		t.Fatal(err)
	}
	if string(res.Body) != "os=hi there abi=hi there" {
		t.Errorf("body %q", res.Body)
	}
	for _, w := range []string{"[INFO] env guest called\n", "stderr line"} {
		if !strings.Contains(string(res.Log), w) {
			t.Errorf("log %q lacks %q", res.Log, w)
		}
	}
}

// TestContextAndReuse: the invocation context reaches the guest, and a
// pooled instance keeps its state between invocations (fresh mode does not).
func TestContextAndReuse(t *testing.T) {
	for _, fresh := range []bool{false, true} {
		f := newFunction(t, "ctx-go", FunctionConfig{Service: "s1", Function: "f1", MemoryMB: 64, Fresh: fresh})
		for i := 1; i <= 3; i++ {
			req := getRequest("/")
			req.RequestID = "rid-" + string(rune('0'+i))
			req.Qualifier = "prod"
			req.Attempt = i
			var res host.Response
			if err := f.Invoke(context.Background(), req, &res); err != nil {
				t.Fatal(err)
			}
			var got struct {
				RequestID     string `json:"requestId"`
				Service       string `json:"service"`
				Function      string `json:"function"`
				Qualifier     string `json:"qualifier"`
				InstanceID    string `json:"instanceId"`
				MemoryLimitMB int    `json:"memoryLimitMB"`
				RemainingMs   int    `json:"remainingMs"`
				Attempt       int    `json:"attempt"`
				Counter       int    `json:"counter"`
			}
			if err := json.Unmarshal(res.Body, &got); err != nil {
				t.Fatalf("%v: %s", err, res.Body)
			}
			wantCounter := i
			if fresh {
				wantCounter = 1
			}
			if got.RequestID != req.RequestID || got.Service != "s1" || got.Function != "f1" || got.Qualifier != "prod" ||
				got.InstanceID != res.Meter.InstanceID || got.MemoryLimitMB != 64 || got.Attempt != i ||
				got.RemainingMs <= 0 || got.RemainingMs > 3000 || got.Counter != wantCounter {
				t.Errorf("fresh=%v call %d: context %+v (instance %s)", fresh, i, got, res.Meter.InstanceID)
			}
		}
	}
}

// TestCGI: a WASI command gets the CGI environment and the body on stdin;
// its stdout is parsed as a CGI response and its stderr logged.
func TestCGI(t *testing.T) {
	cases := []struct {
		name   string
		env    []string
		status int
		err    host.Kind
	}{
		{"ok", nil, 200, 0},
		{"status from Status line", []string{"CGI_STATUS=404 Not Found"}, 404, 0},
		{"bad status", []string{"CGI_STATUS=abc"}, 0, host.KindBadResponse},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFunction(t, "cgi-c", FunctionConfig{Env: tc.env})
			req := echoRequest()
			var res host.Response
			err := f.Invoke(context.Background(), req, &res)
			if tc.err != 0 {
				if host.ErrorKind(err) != tc.err {
					t.Fatalf("err %v, want kind %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := "method=POST\npath=/a/b\nquery=x=1&x=2&y&a%20b=c+d\nbody=hello \"body\"\n"
			ct, _ := header(&res, "Content-Type")
			if res.Status != tc.status || string(res.Body) != want || ct != "text/plain" {
				t.Errorf("got %d %q (content-type %q), want %d %q", res.Status, res.Body, ct, tc.status, want)
			}
			if !strings.Contains(string(res.Log), "cgi guest ran") {
				t.Errorf("stderr not in log: %q", res.Log)
			}
			if !res.Meter.Cold {
				t.Error("CGI invocation not reported cold")
			}
		})
	}
}
