//go:build wasip1

package fnhost

import "unsafe"

// The host functions of ABI v1 (abi/ABI.md §4), imported from module
// fnhost_v1. Pointers are lowered to i32 offsets in linear memory by the Go
// compiler; //go:noescape lets the buffers passed to them stay on the stack.

//go:wasmimport fnhost_v1 request_method
//go:noescape
func hostRequestMethod(buf unsafe.Pointer, cap uint32) int32

//go:wasmimport fnhost_v1 request_path
//go:noescape
func hostRequestPath(buf unsafe.Pointer, cap uint32) int32

//go:wasmimport fnhost_v1 request_query
//go:noescape
func hostRequestQuery(buf unsafe.Pointer, cap uint32) int32

//go:wasmimport fnhost_v1 request_client_ip
//go:noescape
func hostRequestClientIP(buf unsafe.Pointer, cap uint32) int32

//go:wasmimport fnhost_v1 request_header_count
func hostRequestHeaderCount() int32

//go:wasmimport fnhost_v1 request_header_name
//go:noescape
func hostRequestHeaderName(index int32, buf unsafe.Pointer, cap uint32) int32

//go:wasmimport fnhost_v1 request_header_value
//go:noescape
func hostRequestHeaderValue(index int32, buf unsafe.Pointer, cap uint32) int32

//go:wasmimport fnhost_v1 request_header_get
//go:noescape
func hostRequestHeaderGet(name unsafe.Pointer, nameLen uint32, buf unsafe.Pointer, cap uint32) int32

//go:wasmimport fnhost_v1 request_body_size
func hostRequestBodySize() int64

//go:wasmimport fnhost_v1 request_body_read
//go:noescape
func hostRequestBodyRead(buf unsafe.Pointer, cap uint32) int32

//go:wasmimport fnhost_v1 response_set_status
func hostResponseSetStatus(status int32) int32

//go:wasmimport fnhost_v1 response_add_header
//go:noescape
func hostResponseAddHeader(name unsafe.Pointer, nameLen uint32, value unsafe.Pointer, valueLen uint32) int32

//go:wasmimport fnhost_v1 response_write
//go:noescape
func hostResponseWrite(buf unsafe.Pointer, len uint32) int32

//go:wasmimport fnhost_v1 context_string
//go:noescape
func hostContextString(key int32, buf unsafe.Pointer, cap uint32) int32

//go:wasmimport fnhost_v1 context_int
func hostContextInt(key int32) int64

//go:wasmimport fnhost_v1 env_get
//go:noescape
func hostEnvGet(name unsafe.Pointer, nameLen uint32, buf unsafe.Pointer, cap uint32) int32

//go:wasmimport fnhost_v1 log
//go:noescape
func hostLog(level int32, buf unsafe.Pointer, len uint32) int32

// handle is the handler export the host calls once per invocation
// (abi.DefaultHandler). It runs the function registered with Handle.
//
//go:wasmexport handle
func handle() { dispatch() }

// The platform layer: one function per host call, taking Go slices and
// strings. imports_other.go implements the same set against a fake host.

func bp(b []byte) (unsafe.Pointer, uint32) {
	return unsafe.Pointer(unsafe.SliceData(b)), uint32(len(b))
}

func sp(s string) (unsafe.Pointer, uint32) {
	return unsafe.Pointer(unsafe.StringData(s)), uint32(len(s))
}

func requestMethod(buf []byte) int32   { return hostRequestMethod(bp(buf)) }
func requestPath(buf []byte) int32     { return hostRequestPath(bp(buf)) }
func requestQuery(buf []byte) int32    { return hostRequestQuery(bp(buf)) }
func requestClientIP(buf []byte) int32 { return hostRequestClientIP(bp(buf)) }
func requestHeaderCount() int32        { return hostRequestHeaderCount() }

func requestHeaderName(i int32, buf []byte) int32 {
	p, n := bp(buf)
	return hostRequestHeaderName(i, p, n)
}

func requestHeaderValue(i int32, buf []byte) int32 {
	p, n := bp(buf)
	return hostRequestHeaderValue(i, p, n)
}

func requestHeaderGet(name string, buf []byte) int32 {
	np, nn := sp(name)
	p, n := bp(buf)
	return hostRequestHeaderGet(np, nn, p, n)
}

func requestBodySize() int64                { return hostRequestBodySize() }
func requestBodyRead(buf []byte) int32      { return hostRequestBodyRead(bp(buf)) }
func responseSetStatus(status int32) int32  { return hostResponseSetStatus(status) }
func responseWrite(b []byte) int32          { return hostResponseWrite(bp(b)) }
func responseWriteString(s string) int32    { return hostResponseWrite(sp(s)) }
func contextInt(key int32) int64            { return hostContextInt(key) }
func logLine(level int32, msg string) int32 { p, n := sp(msg); return hostLog(level, p, n) }

func responseAddHeader(name, value string) int32 {
	np, nn := sp(name)
	vp, vn := sp(value)
	return hostResponseAddHeader(np, nn, vp, vn)
}

func contextString(key int32, buf []byte) int32 {
	p, n := bp(buf)
	return hostContextString(key, p, n)
}

func envGet(name string, buf []byte) int32 {
	np, nn := sp(name)
	p, n := bp(buf)
	return hostEnvGet(np, nn, p, n)
}
