package runtime

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/fnhost/fnhost/abi"
	"github.com/fnhost/fnhost/host"
)

// hostCaller drives the fuzzcall guest, whose export call(fn, a, b, c, d)
// calls host function fn with those arguments inside an invocation.
type hostCaller struct {
	in  *instance
	res host.Response
	req *host.Request
}

func newHostCaller(t testing.TB) *hostCaller {
	t.Helper()
	f := newFunction(t, "fuzzcall", FunctionConfig{MaxResponseBytes: 1 << 16, MaxHeaderBytes: 256, MaxLogBytes: 512,
		Env: []string{"K=v"}})
	hc := &hostCaller{req: echoRequest()}
	in, err := f.newInstance(context.Background(), &hc.res, time.Now().Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.close(context.Background()) })
	hc.in = in
	return hc
}

func (hc *hostCaller) call(t testing.TB, active bool, fn uint32, a, b, c, d uint32) int64 {
	t.Helper()
	if active {
		hc.res.Reset()
		hc.in.begin(hc.req, &hc.res, time.Now().Add(time.Minute))
		defer hc.in.end()
	}
	out, err := hc.in.mod.ExportedFunction("call").Call(hc.in.callCtx, uint64(fn), uint64(a), uint64(b), uint64(c), uint64(d))
	if err != nil {
		t.Fatalf("call(%d, %#x, %#x, %#x, %#x) trapped: %v", fn, a, b, c, d, err)
	}
	return int64(out[0])
}

const (
	fnRequestMethod = iota
	fnRequestPath
	fnRequestQuery
	fnRequestClientIP
	fnRequestHeaderCount
	fnRequestHeaderName
	fnRequestHeaderValue
	fnRequestHeaderGet
	fnRequestBodySize
	fnRequestBodyRead
	fnResponseSetStatus
	fnResponseAddHeader
	fnResponseWrite
	fnContextString
	fnContextInt
	fnEnvGet
	fnLog
	numHostFns
)

// TestHostFunctionResults checks each host function's results for valid
// and invalid arguments (abi/ABI.md §4, §5).
func TestHostFunctionResults(t *testing.T) {
	hc := newHostCaller(t)
	const page = 65536
	cases := []struct {
		name       string
		active     bool
		fn         uint32
		a, b, c, d uint32
		want       int64
	}{
		{"method copies and returns length", true, fnRequestMethod, 100, 16, 0, 0, 4},
		{"method cap 0 reports length", true, fnRequestMethod, 0xFFFFFFFF, 0, 0, 0, 4},
		{"method short buffer reports full length", true, fnRequestMethod, 100, 2, 0, 0, 4},
		{"method buffer past memory", true, fnRequestMethod, page - 2, 16, 0, 0, int64(abi.ErrFault)},
		{"method buffer wraps 4 GiB", true, fnRequestMethod, 0xFFFFFFF0, 0x100, 0, 0, int64(abi.ErrFault)},
		{"method outside invocation", false, fnRequestMethod, 100, 16, 0, 0, int64(abi.ErrState)},
		{"path", true, fnRequestPath, 100, 16, 0, 0, 4},
		{"query", true, fnRequestQuery, 100, 64, 0, 0, 19},
		{"client ip", true, fnRequestClientIP, 100, 64, 0, 0, 11},
		{"header count", true, fnRequestHeaderCount, 0, 0, 0, 0, 3},
		{"header count outside invocation", false, fnRequestHeaderCount, 0, 0, 0, 0, int64(abi.ErrState)},
		{"header name", true, fnRequestHeaderName, 2, 100, 64, 0, 12},
		{"header value", true, fnRequestHeaderValue, 1, 100, 64, 0, 16},
		{"header index out of range", true, fnRequestHeaderName, 3, 100, 64, 0, int64(abi.ErrNotFound)},
		{"header index negative", true, fnRequestHeaderValue, 0xFFFFFFFF, 100, 64, 0, int64(abi.ErrNotFound)},
		{"header get name out of memory", true, fnRequestHeaderGet, page, 4, 100, 64, int64(abi.ErrFault)},
		{"header get missing", true, fnRequestHeaderGet, 0, 1, 100, 64, int64(abi.ErrNotFound)},
		{"body size", true, fnRequestBodySize, 0, 0, 0, 0, 12},
		{"body size outside invocation", false, fnRequestBodySize, 0, 0, 0, 0, int64(abi.ErrState)},
		{"body read", true, fnRequestBodyRead, 100, 5, 0, 0, 5},
		{"body read bad buffer", true, fnRequestBodyRead, page, 1, 0, 0, int64(abi.ErrFault)},
		{"status ok", true, fnResponseSetStatus, 204, 0, 0, 0, 0},
		{"status 99", true, fnResponseSetStatus, 99, 0, 0, 0, int64(abi.ErrInvalid)},
		{"status 600", true, fnResponseSetStatus, 600, 0, 0, 0, int64(abi.ErrInvalid)},
		{"status negative", true, fnResponseSetStatus, 0xFFFFFF38, 0, 0, 0, int64(abi.ErrInvalid)},
		{"status outside invocation", false, fnResponseSetStatus, 200, 0, 0, 0, int64(abi.ErrState)},
		{"add header bad name", true, fnResponseAddHeader, 0, 1, 0, 1, int64(abi.ErrInvalid)}, // "o"... see below
		{"add header name out of memory", true, fnResponseAddHeader, page - 1, 2, 0, 1, int64(abi.ErrFault)},
		{"add header too large", true, fnResponseAddHeader, 0, 1, 1000, 300, int64(abi.ErrTooLarge)},
		{"write", true, fnResponseWrite, 0, 2, 0, 0, 2},
		{"write wraps", true, fnResponseWrite, 0xFFFFFFFF, 2, 0, 0, int64(abi.ErrFault)},
		{"write too large", true, fnResponseWrite, 0, page, 0, 0, 65536},
		{"context request id", true, fnContextString, uint32(abi.CtxRequestID), 100, 64, 0, 8},
		{"context unknown key", true, fnContextString, 99, 100, 64, 0, int64(abi.ErrInvalid)},
		{"context outside invocation", false, fnContextString, uint32(abi.CtxRequestID), 100, 64, 0, int64(abi.ErrState)},
		{"context int memory", true, fnContextInt, uint32(abi.CtxMemoryLimitMB), 0, 0, 0, 128},
		{"context int unknown", true, fnContextInt, 77, 0, 0, 0, int64(abi.ErrInvalid)},
		{"context int attempt outside invocation", false, fnContextInt, uint32(abi.CtxAttempt), 0, 0, 0, 0},
		{"env name out of memory", true, fnEnvGet, page, 1, 100, 8, int64(abi.ErrFault)},
		{"log bad level", true, fnLog, 9, 0, 1, 0, int64(abi.ErrInvalid)},
		{"log bad buffer", true, fnLog, 1, page, 1, 0, int64(abi.ErrFault)},
		{"log outside invocation", false, fnLog, 1, 0, 2, 0, 0},
	}
	// Memory offset 0 holds "ok" (the guest's data segment); 'o' and "ok"
	// are valid header names, so "bad name" uses offset 2 (a zero byte).
	cases[26].a = 2
	// A long valid header value at 1000.
	hc.in.mod.Memory().Write(1000, bytes.Repeat([]byte{'v'}, 400))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := hc.call(t, tc.active, tc.fn, tc.a, tc.b, tc.c, tc.d); got != tc.want {
				t.Errorf("got %d, want %d", got, tc.want)
			}
		})
	}
	// The copied method is in guest memory.
	hc.call(t, true, fnRequestMethod, 100, 16, 0, 0)
	mem, _ := hc.in.mod.Memory().Read(100, 4)
	if string(mem) != "POST" {
		t.Errorf("memory holds %q after request_method", mem)
	}
}

// FuzzHostCalls: any arguments to any host function give a result or an
// error code, never a trap or a host panic, and never a response past the
// limits.
func FuzzHostCalls(f *testing.F) {
	f.Add(uint8(0), uint32(0), uint32(16), uint32(0), uint32(0), true)
	f.Add(uint8(fnResponseAddHeader), uint32(0xFFFFFFF0), uint32(0x20), uint32(0), uint32(1), true)
	f.Add(uint8(fnEnvGet), uint32(65535), uint32(2), uint32(0), uint32(0xFFFFFFFF), false)
	f.Add(uint8(fnRequestBodyRead), uint32(65530), uint32(6), uint32(0), uint32(0), true)
	hc := newHostCaller(f)
	f.Fuzz(func(t *testing.T, fn uint8, a, b, c, d uint32, active bool) {
		got := hc.call(t, active, uint32(fn)%numHostFns, a, b, c, d)
		if got < 0 && got < int64(abi.ErrState) {
			t.Fatalf("unknown error code %d", got)
		}
		if len(hc.res.Body) > 1<<16 || hc.res.HeaderBytes() > 256 || len(hc.res.Log) > 512+64 {
			t.Fatalf("limits passed: body %d headers %d log %d", len(hc.res.Body), hc.res.HeaderBytes(), len(hc.res.Log))
		}
	})
}
