//go:build !wasip1

package fnhost_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/fnhost/fnhost/abi"
	"github.com/fnhost/fnhost/sdk/go/fnhost"
	"github.com/fnhost/fnhost/sdk/go/fnhost/fnhosttest"
)

type hf = fnhost.HeaderField

// run registers h and runs one invocation of req on host.
func run(t *testing.T, host *fnhosttest.Host, req *fnhosttest.Request, h func(fnhost.ResponseWriter, *fnhost.Request)) *fnhosttest.Response {
	t.Helper()
	fnhost.Handle(h)
	t.Cleanup(func() { fnhost.Handle(nil) })
	if host == nil {
		host = &fnhosttest.Host{}
	}
	return host.Do(req)
}

func TestRequest(t *testing.T) {
	long := strings.Repeat("v", 3000) // larger than the SDK's first buffer: exercises the retry
	bigBody := bytes.Repeat([]byte("0123456789"), 100_000)
	tests := []struct {
		name  string
		req   fnhosttest.Request
		check func(t *testing.T, r *fnhost.Request)
	}{
		{"defaults", fnhosttest.Request{}, func(t *testing.T, r *fnhost.Request) {
			eq(t, "method", r.Method(), "GET")
			eq(t, "path", r.Path(), "/")
			eq(t, "query", r.RawQuery(), "")
			eq(t, "clientIP", r.ClientIP(), "127.0.0.1")
			if h := r.Headers(); h != nil {
				t.Errorf("headers = %q, want nil", h)
			}
			b, err := r.Body()
			if err != nil || len(b) != 0 {
				t.Errorf("Body() = %q, %v; want empty", b, err)
			}
			eq(t, "bodySize", r.BodySize(), int64(0))
		}},
		{"parts", fnhosttest.Request{Method: "POST", Path: "/a/b%20c", Query: "x=1&x=2&y", ClientIP: "2001:db8::1"},
			func(t *testing.T, r *fnhost.Request) {
				eq(t, "method", r.Method(), "POST")
				eq(t, "path", r.Path(), "/a/b%20c")
				eq(t, "query", r.RawQuery(), "x=1&x=2&y")
				eq(t, "clientIP", r.ClientIP(), "2001:db8::1")
				eq(t, "method again", r.Method(), "POST")
			}},
		{"headers", fnhosttest.Request{Header: []hf{{"Accept", "a"}, {"X-Long", long}, {"accept", "b"}, {"Empty", ""}}},
			func(t *testing.T, r *fnhost.Request) {
				for _, c := range []struct {
					name, want string
					ok         bool
				}{{"accept", "a", true}, {"ACCEPT", "a", true}, {"x-long", long, true}, {"empty", "", true}, {"missing", "", false}} {
					v, ok := r.Header(c.name)
					if v != c.want || ok != c.ok {
						t.Errorf("Header(%q) = %.20q, %v; want %.20q, %v", c.name, v, ok, c.want, c.ok)
					}
				}
				want := []hf{{"Accept", "a"}, {"X-Long", long}, {"accept", "b"}, {"Empty", ""}}
				got := r.Headers()
				if len(got) != len(want) {
					t.Fatalf("Headers() has %d fields, want %d", len(got), len(want))
				}
				for i := range want {
					if got[i] != want[i] {
						t.Errorf("Headers()[%d] = %.20q, want %.20q", i, got[i], want[i])
					}
				}
				// Header after Headers searches the cached fields.
				if v, ok := r.Header("ACCEPT"); v != "a" || !ok {
					t.Errorf("cached Header(ACCEPT) = %q, %v", v, ok)
				}
			}},
		{"body", fnhosttest.Request{Body: bigBody}, func(t *testing.T, r *fnhost.Request) {
			eq(t, "bodySize", r.BodySize(), int64(len(bigBody)))
			b, err := r.Body()
			if err != nil || !bytes.Equal(b, bigBody) {
				t.Fatalf("Body() = %d bytes, %v; want %d bytes", len(b), err, len(bigBody))
			}
			b2, _ := r.Body()
			if &b2[0] != &b[0] {
				t.Error("second Body() returned another slice")
			}
			if n, err := r.BodyReader().Read(make([]byte, 10)); n != 0 || err != io.EOF {
				t.Errorf("Read after Body() = %d, %v; want 0, EOF", n, err)
			}
		}},
		{"body reader", fnhosttest.Request{Body: []byte("hello, body")}, func(t *testing.T, r *fnhost.Request) {
			p := make([]byte, 3)
			var got []byte
			for {
				n, err := r.BodyReader().Read(p)
				got = append(got, p[:n]...)
				if err == io.EOF {
					break
				}
				if err != nil || n == 0 {
					t.Fatalf("Read = %d, %v", n, err)
				}
				if len(got) == 6 {
					rest, err := r.Body() // Body returns the rest
					if err != nil {
						t.Fatal(err)
					}
					got = append(got, rest...)
				}
			}
			eq(t, "body", string(got), "hello, body")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := run(t, nil, &tt.req, func(w fnhost.ResponseWriter, r *fnhost.Request) { tt.check(t, r) })
			if resp.Err != nil {
				t.Fatal(resp.Err)
			}
		})
	}
}

func TestResponse(t *testing.T) {
	tests := []struct {
		name       string
		host       fnhosttest.Host
		handler    func(t *testing.T, w fnhost.ResponseWriter)
		wantStatus int
		wantHeader []hf
		wantBody   string
		wantErr    bool
	}{
		{"nothing: empty 200", fnhosttest.Host{}, func(t *testing.T, w fnhost.ResponseWriter) {}, 200, nil, "", false},
		{"status only", fnhosttest.Host{}, func(t *testing.T, w fnhost.ResponseWriter) {
			noErr(t, w.SetStatus(404))
		}, 404, nil, "", false},
		{"last status wins", fnhosttest.Host{}, func(t *testing.T, w fnhost.ResponseWriter) {
			noErr(t, w.SetStatus(201))
			noErr(t, w.SetStatus(202))
		}, 202, nil, "", false},
		{"invalid status", fnhosttest.Host{}, func(t *testing.T, w fnhost.ResponseWriter) {
			isErr(t, w.SetStatus(99), fnhost.ErrInvalid)
			isErr(t, w.SetStatus(600), fnhost.ErrInvalid)
		}, 200, nil, "", false},
		{"headers and body in any order", fnhosttest.Host{}, func(t *testing.T, w fnhost.ResponseWriter) {
			n, err := w.Write([]byte("hello "))
			if n != 6 || err != nil {
				t.Errorf("Write = %d, %v", n, err)
			}
			noErr(t, w.AddHeader("Set-Cookie", "a=1"))
			noErr(t, w.AddHeader("Set-Cookie", "b=2"))
			w.WriteString("world")
			noErr(t, w.SetStatus(201))
		}, 201, []hf{{"Set-Cookie", "a=1"}, {"Set-Cookie", "b=2"}}, "hello world", false},
		{"invalid headers", fnhosttest.Host{}, func(t *testing.T, w fnhost.ResponseWriter) {
			isErr(t, w.AddHeader("", "v"), fnhost.ErrInvalid)
			isErr(t, w.AddHeader("a b", "v"), fnhost.ErrInvalid)
			isErr(t, w.AddHeader("X", "a\r\nb"), fnhost.ErrInvalid)
			isErr(t, w.AddHeader("X", "a\x00"), fnhost.ErrInvalid)
		}, 200, nil, "", false},
		{"body too large", fnhosttest.Host{MaxBodyBytes: 8}, func(t *testing.T, w fnhost.ResponseWriter) {
			w.WriteString("12345")
			n, err := w.WriteString("6789")
			if n != 0 {
				t.Errorf("n = %d", n)
			}
			isErr(t, err, fnhost.ErrTooLarge)
		}, 200, nil, "12345", true},
		{"headers too large", fnhosttest.Host{MaxHeaderBytes: 16}, func(t *testing.T, w fnhost.ResponseWriter) {
			isErr(t, w.AddHeader("X-Big", strings.Repeat("x", 20)), fnhost.ErrTooLarge)
		}, 200, nil, "", true},
		{"panic", fnhosttest.Host{}, func(t *testing.T, w fnhost.ResponseWriter) { panic("boom") }, 200, nil, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := run(t, &tt.host, &fnhosttest.Request{}, func(w fnhost.ResponseWriter, r *fnhost.Request) { tt.handler(t, w) })
			if (resp.Err != nil) != tt.wantErr {
				t.Errorf("Err = %v, want error: %v", resp.Err, tt.wantErr)
			}
			eq(t, "status", resp.Status, tt.wantStatus)
			eq(t, "body", string(resp.Body), tt.wantBody)
			if len(resp.Header) != len(tt.wantHeader) {
				t.Fatalf("header = %q, want %q", resp.Header, tt.wantHeader)
			}
			for i := range resp.Header {
				eq(t, "header", resp.Header[i], tt.wantHeader[i])
			}
		})
	}
}

func TestNoHandler(t *testing.T) {
	fnhost.Handle(nil)
	resp := fnhosttest.Do(&fnhosttest.Request{})
	eq(t, "status", resp.Status, 500)
	if len(resp.Logs) != 1 || resp.Logs[0].Level != fnhost.LevelError {
		t.Errorf("logs = %v, want one error line", resp.Logs)
	}
}

func TestContext(t *testing.T) {
	host := &fnhosttest.Host{
		RequestID: "r-1", Service: "svc", Function: "fn", Qualifier: "prod", InstanceID: "i-9",
		MemoryLimitMB: 256, Timeout: 10 * time.Second, Attempt: 2,
		Env: map[string]string{"GREETING": "hi", "EMPTY": ""},
	}
	resp := run(t, host, &fnhosttest.Request{}, func(w fnhost.ResponseWriter, r *fnhost.Request) {
		eq(t, "RequestID", fnhost.RequestID(), "r-1")
		eq(t, "Service", fnhost.Service(), "svc")
		eq(t, "Function", fnhost.Function(), "fn")
		eq(t, "Qualifier", fnhost.Qualifier(), "prod")
		eq(t, "InstanceID", fnhost.InstanceID(), "i-9")
		eq(t, "MemoryLimitMB", fnhost.MemoryLimitMB(), 256)
		eq(t, "Attempt", fnhost.Attempt(), 2)
		eq(t, "Timeout", fnhost.Timeout(), 10*time.Second)
		if rem := fnhost.Remaining(); rem <= 9*time.Second || rem > 10*time.Second {
			t.Errorf("Remaining = %v", rem)
		}
		for _, c := range []struct {
			name, want string
			ok         bool
		}{{"GREETING", "hi", true}, {"EMPTY", "", true}, {"greeting", "", false}, {"NOPE", "", false}} {
			if v, ok := fnhost.Getenv(c.name); v != c.want || ok != c.ok {
				t.Errorf("Getenv(%q) = %q, %v", c.name, v, ok)
			}
		}
	})
	if resp.Err != nil {
		t.Fatal(resp.Err)
	}
	// Outside an invocation (as during _initialize) there is no request.
	eq(t, "RequestID outside", fnhost.RequestID(), "")
	eq(t, "Attempt outside", fnhost.Attempt(), 0)
}

func TestLog(t *testing.T) {
	resp := run(t, nil, &fnhosttest.Request{}, func(w fnhost.ResponseWriter, r *fnhost.Request) {
		fnhost.Debug("d")
		fnhost.Info("i\n")
		fnhost.Warn("w\r\nx")
		fnhost.Error("e")
		fnhost.Logf(fnhost.LevelInfo, "n=%d s=%s", 42, "str")
		noErr(t, fnhost.Log(fnhost.LevelWarn, "ok"))
		isErr(t, fnhost.Log(7, "bad level"), fnhost.ErrInvalid)
	})
	type L = fnhosttest.Log
	want := []L{
		{Level: fnhost.LevelDebug, Message: "d"}, {Level: fnhost.LevelInfo, Message: "i"},
		{Level: fnhost.LevelWarn, Message: "w\r\nx"}, {Level: fnhost.LevelError, Message: "e"},
		{Level: fnhost.LevelInfo, Message: "n=42 s=str"}, {Level: fnhost.LevelWarn, Message: "ok"},
	}
	if len(resp.Logs) != len(want) {
		t.Fatalf("logs = %q, want %q", resp.Logs, want)
	}
	for i := range want {
		eq(t, "log", resp.Logs[i], want[i])
	}
}

func TestErrno(t *testing.T) {
	for _, c := range []struct {
		err  error
		code int32
	}{
		{fnhost.ErrFault, abi.ErrFault}, {fnhost.ErrNotFound, abi.ErrNotFound}, {fnhost.ErrInvalid, abi.ErrInvalid},
		{fnhost.ErrTooLarge, abi.ErrTooLarge}, {fnhost.ErrState, abi.ErrState},
	} {
		if !errors.Is(c.err, fnhost.Errno(c.code)) {
			t.Errorf("%v is not Errno(%d)", c.err, c.code)
		}
		if !strings.HasPrefix(c.err.Error(), "fnhost: ") {
			t.Errorf("message %q", c.err)
		}
	}
	eq(t, "unknown", fnhost.Errno(-42).Error(), "fnhost: host error -42")
}

// State kept in package variables survives from one invocation to the next,
// as in an instance the host reuses.
func TestStatePersists(t *testing.T) {
	count := 0
	fnhost.Handle(func(w fnhost.ResponseWriter, r *fnhost.Request) {
		count++
		w.WriteString(strings.Repeat("x", count))
	})
	defer fnhost.Handle(nil)
	for i := 1; i <= 3; i++ {
		eq(t, "body", len(fnhosttest.Do(&fnhosttest.Request{}).Body), i)
	}
}

func eq[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Errorf("unexpected error %v", err)
	}
}

func isErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("error = %v, want %v", err, want)
	}
}
