//go:build !wasip1

package main

import (
	"testing"

	"github.com/fnhost/fnhost/sdk/go/fnhost"
	"github.com/fnhost/fnhost/sdk/go/fnhost/fnhosttest"
)

// The output rules are in guests/README.md ("echo output").
func TestEcho(t *testing.T) {
	tests := []struct {
		name string
		req  fnhosttest.Request
		want string
	}{
		{"empty", fnhosttest.Request{},
			`{"path":"/","queries":{},"headers":{},"method":"GET","body":"","url":"/","clientIP":"127.0.0.1"}`},
		{"sample", fnhosttest.Request{
			Method: "POST", Path: "/a/b", Query: "x=1&x=2&y",
			Header: []fnhost.HeaderField{{Name: "X-Z", Value: "<&>"}, {Name: "Accept", Value: "a"}, {Name: "accept", Value: "b"}},
			Body:   []byte("hi \"there\"\n"),
		}, `{"path":"/a/b","queries":{"x":["1","2"],"y":[""]},"headers":{"x-z":["<&>"],"accept":["a","b"]},` +
			`"method":"POST","body":"hi \"there\"\n","url":"/a/b?x=1&x=2&y","clientIP":"127.0.0.1"}`},
		{"query decoding", fnhosttest.Request{Path: "/%7e", Query: "&&a+b=c%20d&%zz=%4&=v&k=1=2&k"},
			`{"path":"/%7e","queries":{"a b":["c d"],"%zz":["%4"],"":["v"],"k":["1=2",""]},"headers":{},` +
				`"method":"GET","body":"","url":"/%7e?&&a+b=c%20d&%zz=%4&=v&k=1=2&k","clientIP":"127.0.0.1"}`},
		{"json escapes", fnhosttest.Request{Body: []byte("\x01\t\xff\u2028é/")},
			`{"path":"/","queries":{},"headers":{},"method":"GET","body":"\u0001\t\ufffd\u2028é/","url":"/","clientIP":"127.0.0.1"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := fnhosttest.Do(&tt.req)
			if resp.Err != nil {
				t.Fatal(resp.Err)
			}
			if ct, _ := resp.Get("Content-Type"); resp.Status != 200 || ct != "application/json" {
				t.Errorf("status %d, content type %q", resp.Status, ct)
			}
			if string(resp.Body) != tt.want {
				t.Errorf("body\n got %s\nwant %s", resp.Body, tt.want)
			}
		})
	}
}
