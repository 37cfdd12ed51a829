// Package abi holds the names and numbers of fnhost's guest ABI, version 1,
// shared by the host runtime and the Go guest SDK. The normative
// specification is ABI.md in this directory; this file only mirrors it.
//
// The package imports nothing, so it builds for GOOS=wasip1 guests and for
// the host alike. Every list in it is append-only: a value, once published,
// never changes meaning.
package abi

// ModuleV1 is the import module name of every ABI v1 host function. A guest
// is an ABI v1 guest exactly when it imports at least one function from it.
const ModuleV1 = "fnhost_v1"

// DefaultHandler is the export the host calls for each invocation when the
// function does not name another.
const DefaultHandler = "handle"

// Exports with a fixed meaning.
const (
	// ExportMemory is the linear memory every guest must export.
	ExportMemory = "memory"
	// ExportInitialize, when exported, runs once when an instance is created
	// (Go c-shared and wasi-libc reactors use it for runtime start-up).
	ExportInitialize = "_initialize"
	// ExportStart marks a WASI command module, run in CGI mode.
	ExportStart = "_start"
)

// Names of the host functions in ModuleV1. Signatures are in ABI.md; every
// pointer and length is an i32 in the guest's linear memory.
const (
	FnRequestMethod      = "request_method"       // (buf, cap i32) -> i32
	FnRequestPath        = "request_path"         // (buf, cap i32) -> i32
	FnRequestQuery       = "request_query"        // (buf, cap i32) -> i32
	FnRequestClientIP    = "request_client_ip"    // (buf, cap i32) -> i32
	FnRequestHeaderCount = "request_header_count" // () -> i32
	FnRequestHeaderName  = "request_header_name"  // (index, buf, cap i32) -> i32
	FnRequestHeaderValue = "request_header_value" // (index, buf, cap i32) -> i32
	FnRequestHeaderGet   = "request_header_get"   // (name, nameLen, buf, cap i32) -> i32
	FnRequestBodySize    = "request_body_size"    // () -> i64
	FnRequestBodyRead    = "request_body_read"    // (buf, cap i32) -> i32
	FnResponseSetStatus  = "response_set_status"  // (status i32) -> i32
	FnResponseAddHeader  = "response_add_header"  // (name, nameLen, value, valueLen i32) -> i32
	FnResponseWrite      = "response_write"       // (buf, len i32) -> i32
	FnContextString      = "context_string"       // (key, buf, cap i32) -> i32
	FnContextInt         = "context_int"          // (key i32) -> i64
	FnEnvGet             = "env_get"              // (name, nameLen, buf, cap i32) -> i32
	FnLog                = "log"                  // (level, buf, len i32) -> i32
)

// Error codes returned (as negative i32 values) by host functions. A
// non-negative result is success; its meaning depends on the function.
const (
	// ErrFault: a pointer and length passed by the guest do not lie inside
	// its linear memory. Nothing was read or written.
	ErrFault int32 = -1
	// ErrNotFound: the header, environment variable, index or context value
	// does not exist.
	ErrNotFound int32 = -2
	// ErrInvalid: an argument is outside its domain (a status outside
	// 100–599, a header name that is not an HTTP token, a header value with
	// CR, LF or NUL, an unknown key or log level).
	ErrInvalid int32 = -3
	// ErrTooLarge: the response (body or headers) would exceed the host's
	// limit. The invocation fails with a response-too-large error whatever
	// the handler does next.
	ErrTooLarge int32 = -4
	// ErrState: the call is not valid now, for example a request or
	// response call made while no invocation is running (during
	// _initialize).
	ErrState int32 = -5
)

// Keys for context_string.
const (
	CtxRequestID  int32 = 1 // the invocation's request id (x-fc-request-id)
	CtxService    int32 = 2 // service name
	CtxFunction   int32 = 3 // function name
	CtxQualifier  int32 = 4 // qualifier the function was called with ("LATEST" when none)
	CtxInstanceID int32 = 5 // id of the instance running the call, stable for its life
)

// Keys for context_int.
const (
	CtxMemoryLimitMB int32 = 1 // the function's memory limit in MiB (memorySize)
	CtxRemainingMS   int32 = 2 // milliseconds left before the invocation's deadline
	CtxAttempt       int32 = 3 // 1 for the first attempt; async retries count up
	CtxTimeoutMS     int32 = 4 // the function's configured timeout in milliseconds
)

// Log levels for log.
const (
	LogDebug int32 = 0
	LogInfo  int32 = 1
	LogWarn  int32 = 2
	LogError int32 = 3
)
