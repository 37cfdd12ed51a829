package cgi

import (
	"errors"
	"strings"
	"testing"

	"github.com/fnhost/fnhost/host"
)

func TestParseResponse(t *testing.T) {
	cases := []struct {
		name    string
		out     string
		status  int
		headers []string // "Name: value"
		body    string
		err     string
	}{
		{name: "plain", out: "Content-Type: text/plain\n\nhi", status: 200, headers: []string{"Content-Type: text/plain"}, body: "hi"},
		{name: "crlf", out: "Content-Type: text/plain\r\nX-A:  b \r\n\r\nbody\r\n", status: 200, headers: []string{"Content-Type: text/plain", "X-A: b"}, body: "body\r\n"},
		{name: "status with reason", out: "Status: 404 Not Found\n\n", status: 404},
		{name: "status bare", out: "status: 201\nA: 1\nA: 2\n\nx", status: 201, headers: []string{"A: 1", "A: 2"}, body: "x"},
		{name: "location redirects", out: "Location: /there\n\n", status: 302, headers: []string{"Location: /there"}},
		{name: "status beats location", out: "Location: /there\nStatus: 301\n\n", status: 301, headers: []string{"Location: /there"}},
		{name: "empty header block", out: "\nbody", status: 200, body: "body"},
		{name: "no blank line", out: "Content-Type: text/plain\n", err: "no empty line"},
		{name: "nothing", out: "", err: "no empty line"},
		{name: "no colon", out: "hello\n\n", err: "no name and colon"},
		{name: "bad name", out: "Bad Name: x\n\n", err: "not a token"},
		{name: "NUL in value", out: "X-A: a\x00b\n\n", err: "contains CR or NUL"},
		{name: "CR inside value", out: "X-A: a\rInjected: 1\n\n", err: "contains CR or NUL"},
		{name: "status text", out: "Status: OK\n\n", err: "not a number"},
		{name: "status range", out: "Status: 700\n\n", err: "not a number"},
		{name: "status digits", out: "Status: 2000\n\n", err: "not a number"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var res host.Response
			err := ParseResponse([]byte(tc.out), &res)
			if tc.err != "" {
				if err == nil || !errors.Is(err, ErrBadResponse) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one wrapping ErrBadResponse with %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, h := range res.Headers {
				got = append(got, string(h.Name)+": "+string(h.Value))
			}
			if res.Status != tc.status || string(res.Body) != tc.body || strings.Join(got, "|") != strings.Join(tc.headers, "|") {
				t.Errorf("got %d %q %q, want %d %q %q", res.Status, got, res.Body, tc.status, tc.headers, tc.body)
			}
		})
	}
}

func TestEnv(t *testing.T) {
	req := &host.Request{
		RequestID: "r1",
		Method:    []byte("POST"),
		Path:      []byte("/x/y"),
		RawQuery:  []byte("a=1"),
		Headers: []host.Header{
			{Name: []byte("Content-Type"), Value: []byte("text/plain")},
			{Name: []byte("X-Multi"), Value: []byte("a")},
			{Name: []byte("x-multi"), Value: []byte("b")},
		},
		ClientIP: []byte("10.0.0.1"),
		Body:     []byte("12345"),
	}
	env := Env(req, []string{"FOO=bar", "PATH_INFO=shadowed"})
	want := map[string]string{
		"FOO": "bar", "GATEWAY_INTERFACE": "CGI/1.1", "REQUEST_METHOD": "POST", "PATH_INFO": "/x/y",
		"QUERY_STRING": "a=1", "CONTENT_LENGTH": "5", "CONTENT_TYPE": "text/plain", "REMOTE_ADDR": "10.0.0.1",
		"X_FC_REQUEST_ID": "r1", "HTTP_X_MULTI": "a, b", "HTTP_CONTENT_TYPE": "text/plain",
	}
	got := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if _, dup := got[k]; dup {
			t.Errorf("%s set twice", k)
		}
		got[k] = v
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}

// FuzzParseResponse: any program output gives a response or an error
// wrapping ErrBadResponse, and a parsed response is self-consistent.
func FuzzParseResponse(f *testing.F) {
	for _, s := range []string{
		"Content-Type: text/plain\n\nhi",
		"Status: 404 Not Found\r\nLocation: /x\r\n\r\nbody",
		"\n", "", "a\n\n", "Status: 99\n\n", strings.Repeat("A: b\n", 1100) + "\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, out []byte) {
		var res host.Response
		err := ParseResponse(out, &res)
		if err != nil {
			if !errors.Is(err, ErrBadResponse) {
				t.Fatalf("error %v does not wrap ErrBadResponse", err)
			}
			return
		}
		if res.Status < 100 || res.Status > 599 {
			t.Fatalf("status %d", res.Status)
		}
		if len(res.Body) > len(out) {
			t.Fatal("body longer than the output")
		}
		for _, h := range res.Headers {
			if !host.ValidHeaderName(h.Name) || !host.ValidHeaderValue(h.Value) {
				t.Fatalf("invalid header %q: %q", h.Name, h.Value)
			}
		}
	})
}
