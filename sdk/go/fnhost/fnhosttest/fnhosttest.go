//go:build !wasip1

package fnhosttest

import (
	"fmt"
	"sync"
	"time"

	"github.com/fnhost/fnhost/sdk/go/fnhost"
	"github.com/fnhost/fnhost/sdk/go/fnhost/internal/fake"
)

// Request is the request of one invocation.
type Request struct {
	Method   string // "GET" if empty
	Path     string // the path after the function's prefix; "/" if empty
	Query    string // raw query string, without "?"
	ClientIP string // "127.0.0.1" if empty
	Header   []fnhost.HeaderField
	Body     []byte
}

// Response is what the handler produced.
type Response struct {
	Status int
	Header []fnhost.HeaderField // in the order the handler added them
	Body   []byte
	Logs   []Log
	// Err is non-nil when the invocation failed: the handler panicked, did
	// not respond, or passed a response limit.
	Err error
}

// Get returns the value of the first response header field named name
// (ASCII case-insensitive) and whether there is one.
func (r *Response) Get(name string) (string, bool) {
	for _, f := range r.Header {
		if len(f.Name) == len(name) && fold(f.Name) == fold(name) {
			return f.Value, true
		}
	}
	return "", false
}

// Log is one line written with fnhost.Log.
type Log struct {
	Level   fnhost.Level
	Message string
}

// Host is the fake host's configuration: the invocation context, the
// environment and the response limits. Zero fields take the defaults shown.
type Host struct {
	RequestID      string        // "test-request-<n>"
	Service        string        // "test-service"
	Function       string        // "test-function"
	Qualifier      string        // "LATEST"
	InstanceID     string        // "test-instance"
	MemoryLimitMB  int           // 128
	Timeout        time.Duration // 3s; Remaining counts down from it
	Attempt        int           // 1
	Env            map[string]string
	MaxBodyBytes   int // 0: unlimited
	MaxHeaderBytes int // 0: unlimited
}

var (
	mu sync.Mutex // the SDK has one instance's state: one invocation at a time
	n  int
)

// Do runs one invocation of the handler registered with fnhost.Handle (or
// fnhttp.Serve) with the default Host.
func Do(req *Request) *Response { return (&Host{}).Do(req) }

// Do runs one invocation of the registered handler and returns its
// response. Invocations are serialized, as on the real host.
func (h *Host) Do(req *Request) *Response {
	mu.Lock()
	defer mu.Unlock()
	if fake.Dispatch == nil {
		panic("fnhosttest: fnhost is not using the fake host (wasip1 build?)")
	}
	n++
	f := fake.Current
	*f = fake.Host{
		Method:         or(req.Method, "GET"),
		Path:           or(req.Path, "/"),
		Query:          req.Query,
		ClientIP:       or(req.ClientIP, "127.0.0.1"),
		Body:           req.Body,
		RequestID:      or(h.RequestID, fmt.Sprintf("test-request-%d", n)),
		Service:        or(h.Service, "test-service"),
		Function:       or(h.Function, "test-function"),
		Qualifier:      or(h.Qualifier, "LATEST"),
		InstanceID:     or(h.InstanceID, "test-instance"),
		MemoryLimitMB:  int64(orInt(h.MemoryLimitMB, 128)),
		TimeoutMS:      orDur(h.Timeout, 3*time.Second).Milliseconds(),
		Attempt:        int64(orInt(h.Attempt, 1)),
		Env:            h.Env,
		MaxBodyBytes:   h.MaxBodyBytes,
		MaxHeaderBytes: h.MaxHeaderBytes,
	}
	for _, hf := range req.Header {
		f.Header = append(f.Header, fake.Field{Name: hf.Name, Value: hf.Value})
	}
	f.Deadline = time.Now().Add(time.Duration(f.TimeoutMS) * time.Millisecond)
	f.Begin()
	resp := &Response{}
	func() {
		defer func() {
			if p := recover(); p != nil {
				resp.Err = fmt.Errorf("fnhosttest: handler panicked: %v", p)
			}
		}()
		fake.Dispatch()
	}()
	f.End()
	resp.Status = f.Status
	resp.Body = f.RespBody
	for _, hf := range f.RespHeader {
		resp.Header = append(resp.Header, fnhost.HeaderField{Name: hf.Name, Value: hf.Value})
	}
	for _, l := range f.Logs {
		resp.Logs = append(resp.Logs, Log{fnhost.Level(l.Level), l.Message})
	}
	switch {
	case resp.Err != nil:
	case f.TooLarge:
		resp.Err = fmt.Errorf("fnhosttest: response too large")
	case !f.Responded:
		resp.Err = fmt.Errorf("fnhosttest: no response")
	}
	return resp
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func orInt(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

func orDur(v, def time.Duration) time.Duration {
	if v == 0 {
		return def
	}
	return v
}

func fold(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
